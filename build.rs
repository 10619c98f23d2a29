//! Rebuild when the built-in labs or manifests change: they are embedded
//! into the binary with `include_dir!`.

fn main() {
    println!("cargo:rerun-if-changed=labs");
    println!("cargo:rerun-if-changed=manifests");
}
