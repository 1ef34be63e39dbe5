//! The migrations are embedded in the library (`sqlx::migrate!`), which cargo does not know:
//! without this, a migration added to the folders would be missing from an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
