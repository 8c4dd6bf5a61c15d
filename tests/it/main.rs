//! Integration tests, one module per stage of the flow (keys -> claims -> formats -> verify).

#[path = "../common/mod.rs"]
mod common;

mod errors;
mod formats;
mod interop_jsonwebtoken;
mod interop_python;
mod keys;
mod refresh_opacity;
mod rotation;
mod sessions;
