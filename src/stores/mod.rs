//! Session stores: where families and revocations live.
//!
//! - [`MemoryStore`]: the embedded default, for one process; durable revocations when opened
//!   on a file.
//! - [`RedisStore`] (feature `redis`): many nodes, one session space, each node verifying from a
//!   local replica of the shared revocations.

mod memory;
mod proof_log;
#[cfg(feature = "redis")]
mod redis;
mod status_table;

pub use memory::MemoryStore;
pub use proof_log::LocalProofLog;
#[cfg(feature = "redis")]
#[doc(hidden)]
pub use redis::CompactFilterProbe;
#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisStore, ReplicaMode};
