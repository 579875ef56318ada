//! A registry with tens of thousands of repositories, written straight into its storage.
//!
//! Pushing 100,000 tags through the upload API takes the registry longer than the benchmark
//! that reads them. The Debian registry keeps its data as plain files (distribution's
//! filesystem driver): blobs under `blobs/sha256/<2 hex>/<hex>/data`, and per repository link
//! files holding a digest (`_layers/…/link` for its blobs, `_manifests/revisions/…/link` for
//! its manifests, `_manifests/tags/<tag>/current/link` and `…/index/…/link` for its tags).
//! Writing those files gives the registry exactly what pushes would have left, and it serves
//! them like any other content: catalog, tag lists, manifests, configs. Stop the registry
//! while filling and start it again after (`TestRegistry::stop` / `restart`), so nothing it
//! cached is out of date.

use crate::image::{Layer, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256};
use anyhow::Result;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The shape of the filled registry.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    pub repositories: usize,
    /// Version tags per repository (`v1.0`, `v1.1`, …), each its own image and config.
    pub versions: usize,
    /// Tags on the newest version of each repository (`latest`, `stable`).
    pub aliases: Vec<String>,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct BulkReport {
    pub repositories: Vec<String>,
    pub tags: usize,
    pub manifests: usize,
}

/// `team-NNN/service-NNNNN`: fifty repositories per namespace.
pub fn repository_name(i: usize) -> String {
    format!("team-{:03}/service-{i:05}", i / 50)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(())
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

fn put_blob(root: &Path, digest: &str, bytes: &[u8]) -> Result<()> {
    let h = hex(digest);
    write(&root.join("blobs/sha256").join(&h[..2]).join(h).join("data"), bytes)
}

fn link(path: PathBuf, digest: &str) -> Result<()> {
    write(&path, digest.as_bytes())
}

/// Fills the registry whose data directory is `registry_dir` (`TestRegistry::dir`).
/// Every image shares two base layers and has its own config and manifest.
pub fn fill(registry_dir: &Path, options: &BulkOptions) -> Result<BulkReport> {
    let root = registry_dir.join("data/docker/registry/v2");
    let layers = [
        Layer::from_files(&[("etc/os-release", b"ID=regent-bulk\n")])?,
        Layer::from_files(&[("usr/lib/runtime.txt", b"shared runtime\n")])?,
    ];
    for l in &layers {
        put_blob(&root, &l.blob.digest, &l.blob.bytes)?;
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let names: Vec<String> = (0..options.repositories).map(repository_name).collect();
    std::thread::scope(|scope| -> Result<()> {
        let chunk = names.len().div_ceil(threads).max(1);
        let workers: Vec<_> = names
            .chunks(chunk)
            .map(|part| {
                let (root, layers) = (&root, &layers);
                scope.spawn(move || -> Result<()> {
                    for name in part {
                        fill_repository(root, name, layers, options)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a fill thread")?;
        }
        Ok(())
    })?;
    Ok(BulkReport {
        tags: names.len() * (options.versions + options.aliases.len()),
        manifests: names.len() * options.versions,
        repositories: names,
    })
}

fn fill_repository(root: &Path, name: &str, layers: &[Layer; 2], options: &BulkOptions) -> Result<()> {
    let repo = root.join("repositories").join(name);
    for l in layers {
        link(
            repo.join("_layers/sha256").join(hex(&l.blob.digest)).join("link"),
            &l.blob.digest,
        )?;
    }
    let mut newest = None;
    for v in 0..options.versions {
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2024-05-01T12:00:00Z",
            "config": {"Labels": {"build": format!("{name}:{v}")}},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        }))?;
        let config_digest = sha256(&config);
        put_blob(root, &config_digest, &config)?;
        link(
            repo.join("_layers/sha256").join(hex(&config_digest)).join("link"),
            &config_digest,
        )?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": layers.iter().map(|l| json!({"mediaType": OCI_LAYER, "digest": l.blob.digest, "size": l.blob.bytes.len()})).collect::<Vec<_>>(),
        }))?;
        let digest = sha256(&manifest);
        put_blob(root, &digest, &manifest)?;
        link(
            repo.join("_manifests/revisions/sha256").join(hex(&digest)).join("link"),
            &digest,
        )?;
        tag(&repo, &format!("v1.{v}"), &digest)?;
        newest = Some(digest);
    }
    if let Some(newest) = newest {
        for alias in &options.aliases {
            tag(&repo, alias, &newest)?;
        }
    }
    Ok(())
}

fn tag(repo: &Path, tag: &str, digest: &str) -> Result<()> {
    let dir = repo.join("_manifests/tags").join(tag);
    link(dir.join("current/link"), digest)?;
    link(dir.join("index/sha256").join(hex(digest)).join("link"), digest)
}
