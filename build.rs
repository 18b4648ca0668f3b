//! The built-in checks are embedded from `checks/` (`include_dir!`), which the compiler does not
//! track: without this, adding or editing a check file would leave the old catalog in the binary
//! and in the tests until some Rust file changed.

fn main() {
    println!("cargo:rerun-if-changed=checks");
    println!("cargo:rerun-if-changed=build.rs");
}
