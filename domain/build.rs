//! Rebuilds the domain crate when a migration is added: `sqlx::migrate!` embeds the files of
//! `src/store/migrations` at compile time, and Cargo does not watch a directory by itself.

fn main() {
    println!("cargo:rerun-if-changed=src/store/migrations");
}
