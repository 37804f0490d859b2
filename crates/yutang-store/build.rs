// Re-embed migrations when a file under migrations/ changes (sqlx::migrate! reads them at
// compile time).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
