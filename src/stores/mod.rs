//! Session stores: where families and revocations live.
//!
//! - [`MemoryStore`]: the embedded default, for one process; durable revocations when opened
//!   on a file.

mod memory;

pub use memory::MemoryStore;
