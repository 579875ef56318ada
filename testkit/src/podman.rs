//! Debian's `podman` as the second independent client (`podman login`, `pull`, `push`), run
//! the way every test needs it: as root, with its own storage, run directory and credentials
//! in a temp dir, so nothing is shared with the machine's podman or between tests.

use std::path::Path;
use std::process::Command;

/// `podman <args>` with its storage, run root and `auth.json` under `dir` (vfs storage and a
/// file events log: no daemon and no overlay mounts needed). Returns whether it succeeded
/// and its standard output followed by its standard error, for asserting the reason.
pub fn podman(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("podman")
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "vfs", "--events-backend", "file"])
        .args(args)
        .env("REGISTRY_AUTH_FILE", dir.join("auth.json"))
        .output()
        .expect("podman is installed (apt-get install podman)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}
