//! Debian's `skopeo`, the independent client that proves Regent's view matches what real
//! clients push and see.

use anyhow::{Result, bail};
use std::path::Path;
use std::process::Command;

/// Manifest format skopeo writes to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Keep OCI manifests / indexes.
    Oci,
    /// Docker schema 2 (`--format v2s2`); with `all`, an index becomes a Docker manifest list.
    DockerV2,
}

/// `skopeo copy [--all] [--format v2s2] oci:<layout>:<tag> docker://<host>/<repo>:<tag>`.
pub fn copy_layout_to_registry(
    layout: &Path,
    tag: &str,
    registry_host: &str,
    destination: &str,
    format: Format,
    all: bool,
    creds: Option<(&str, &str)>,
) -> Result<()> {
    let mut cmd = Command::new("skopeo");
    cmd.arg("copy").arg("--dest-tls-verify=false");
    if all {
        cmd.arg("--all");
    }
    if format == Format::DockerV2 {
        cmd.args(["--format", "v2s2"]);
    }
    if let Some((u, p)) = creds {
        cmd.arg(format!("--dest-creds={u}:{p}"));
    }
    cmd.arg(format!("oci:{}:{tag}", layout.display()));
    cmd.arg(format!("docker://{registry_host}/{destination}"));
    run(cmd)
}

/// `skopeo inspect --raw` of an image: the manifest bytes the registry serves.
pub fn inspect_raw(registry_host: &str, image: &str) -> Result<String> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{registry_host}/{image}"));
    let out = cmd.output()?;
    if !out.status.success() {
        bail!(
            "skopeo inspect {image} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// `skopeo <args>` as a user types it: whether it succeeded, and what it printed to stderr
/// (where skopeo says why it failed).
pub fn skopeo(args: &[&str]) -> (bool, String) {
    match Command::new("skopeo").args(args).output() {
        Ok(out) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        ),
        Err(e) => (false, format!("cannot run skopeo (apt-get install skopeo): {e}")),
    }
}

fn run(mut cmd: Command) -> Result<()> {
    let out = cmd
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run skopeo (apt-get install skopeo): {e}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
