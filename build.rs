//! Tells cargo to rebuild when anything under cfg/ changes. The built-in cfg
//! is embedded with include_dir!, which makes cargo watch the files that
//! existed at the last build only: a benchmark folder or file added later
//! would otherwise be missing from the binary until something else changed.

fn main() {
    println!("cargo:rerun-if-changed=cfg");
}
