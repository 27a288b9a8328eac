//! Recompiles core when a migration is added or changed: `embed_migrations!` reads
//! `../migrations` at compile time, and cargo does not notice a new file there by itself (a new
//! migration would silently not be applied).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
