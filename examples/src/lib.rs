#![doc = include_str!("../../README.md")]
//!
//! # Layout
//!
//! This crate holds Contacto's runnable examples, one file each beside its manifest, and compiles
//! the README's code as doctests (it depends on both core and the client):
//!
//! - `embed_core`: link `contacto-core` directly and register and log in a user, no HTTP
//!   (`cargo run -p contacto-examples --example embed_core`).
//! - `call_server`: call a running server through `contacto-client`
//!   (`cargo run -p contacto-examples --example call_server`).
//! - `directory_search`: link `contacto-core`, create professionals' profiles and search them in
//!   French, Arabic and transliteration, by category, wilaya and distance
//!   (`cargo run -p contacto-examples --example directory_search`).
