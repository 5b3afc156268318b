//! Records how the extension was built, so every timing can be labelled with it.
use std::process::Command;

fn locked_version(lock: &str, krate: &str) -> String {
    // Cargo.lock lists `name = "<crate>"` immediately followed by `version = "<v>"`.
    let needle = format!("name = \"{krate}\"\nversion = \"");
    lock.find(&needle)
        .map(|at| {
            let rest = &lock[at + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KERNELS_RS_RUSTC_VERSION={version}");
    for var in ["PROFILE", "OPT_LEVEL", "CARGO_CFG_TARGET_FEATURE", "TARGET"] {
        let value = std::env::var(var).unwrap_or_default();
        println!("cargo:rustc-env=KERNELS_RS_{var}={value}");
    }
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    for krate in ["pyo3", "numpy", "ndarray", "rand", "rand_distr"] {
        let key = krate.to_uppercase();
        println!(
            "cargo:rustc-env=KERNELS_RS_{key}_VERSION={}",
            locked_version(&lock, krate)
        );
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
}
