//! Integration tests, one module per stage of the flow (keys -> claims -> formats -> verify).

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod errors;
mod foreign;
mod formats;
mod keys;
mod rotation;
mod sessions;
#[cfg(feature = "status-list")]
mod status;
