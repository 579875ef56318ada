//! Refuses a release build of the WASM when the `wasm-opt` on `PATH` is older than the one
//! `tools/package.json` pins. cargo-leptos runs whatever `wasm-opt` it finds on `PATH` without
//! checking its version, and an old one (Debian's binaryen 108) produces a release WASM that
//! fails to hydrate in the browser (`WebAssembly.Table.set(): Argument 1 is invalid`), which
//! no compiler error would reveal. See docs/release-build.md.

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let pin_file = Path::new(&manifest_dir).join("../tools/package.json");
    println!("cargo:rerun-if-changed={}", pin_file.display());
    println!("cargo:rerun-if-env-changed=PATH");
    // Only release builds run wasm-opt (cargo-leptos `--release`); debug builds skip it.
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let pinned = std::fs::read_to_string(&pin_file)
        .ok()
        .and_then(|text| pinned_binaryen(&text))
        .unwrap_or_else(|| fail(&format!("{} does not pin \"binaryen\"", pin_file.display())));
    let found = Command::new("wasm-opt")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    match found.as_deref().map(binaryen_version) {
        None => fail(&format!(
            "no wasm-opt on PATH; release builds need binaryen's wasm-opt {pinned} or newer \
             (scripts/setup installs it into tools/node_modules/.bin; put that on PATH)"
        )),
        Some(None) => fail(&format!(
            "cannot read the version of the wasm-opt on PATH ({:?}); release builds need binaryen {pinned} or newer",
            found.unwrap_or_default().trim()
        )),
        Some(Some(version)) if version < pinned => fail(&format!(
            "the wasm-opt on PATH is binaryen {version}, older than the pinned {pinned}: it breaks the release \
             WASM. Run scripts/setup and put tools/node_modules/.bin first on PATH (remove Debian's binaryen)"
        )),
        Some(Some(_)) => {}
    }
}

/// `"binaryen": "132.0.0"` in package.json → 132.
fn pinned_binaryen(package_json: &str) -> Option<u32> {
    let after = package_json.split("\"binaryen\"").nth(1)?;
    let value = after.split('"').nth(1)?;
    value.split('.').next()?.parse().ok()
}

/// `wasm-opt version 132 (version_132)` → 132.
fn binaryen_version(output: &str) -> Option<u32> {
    output.split_whitespace().nth(2)?.parse().ok()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
