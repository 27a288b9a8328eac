//! Runnable examples of Contacto, one file each beside this crate's manifest:
//!
//! - `embed_core`: link `contacto-core` directly and register and log in a user, no HTTP
//!   (`cargo run -p contacto-examples --example embed_core`).
//! - `call_server`: call a running server through `contacto-client`
//!   (`cargo run -p contacto-examples --example call_server`).
