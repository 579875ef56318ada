//! Real OCI images built in memory: deterministic gzip tar layers, config, manifest, index.
//!
//! Determinism (mtime 0, fixed owners and modes, gzip without a timestamp) makes the same
//! files give the same layer digest, which is how tests get layers shared across repositories.

use anyhow::Result;
use flate2::{Compression, GzBuilder};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::Path;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Content with its digest and media type.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest: sha256(&bytes),
            bytes,
        }
    }

    pub fn descriptor(&self) -> serde_json::Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// A gzip tar layer and the digest of its uncompressed tar (the config's `diff_id`).
#[derive(Debug, Clone)]
pub struct Layer {
    pub blob: Blob,
    pub diff_id: String,
}

impl Layer {
    /// A layer holding these files (paths relative to the image root).
    pub fn from_files(files: &[(&str, &[u8])]) -> Result<Self> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            builder.append_data(&mut header, path, *content)?;
        }
        let tar = builder.into_inner()?;
        let mut gz = GzBuilder::new().mtime(0).write(Vec::new(), Compression::fast());
        gz.write_all(&tar)?;
        let gz = gz.finish()?;
        Ok(Self {
            blob: Blob::new(OCI_LAYER, gz),
            diff_id: sha256(&tar),
        })
    }
}

/// One single-platform image: config, layers and its OCI manifest.
#[derive(Debug, Clone)]
pub struct Image {
    pub os: String,
    pub architecture: String,
    pub config: Blob,
    pub layers: Vec<Layer>,
    pub manifest: Blob,
}

impl Image {
    /// An image for `os/architecture` made of `layers`, created at `created` (RFC 3339).
    pub fn build(os: &str, architecture: &str, layers: Vec<Layer>, created: &str, cmd: &[&str]) -> Result<Self> {
        let config = json!({
            "created": created,
            "author": "regent-testkit",
            "architecture": architecture,
            "os": os,
            "config": {
                "Cmd": cmd,
                "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "API_TOKEN=not-a-real-secret"],
                "WorkingDir": "/app",
                "Labels": {"org.opencontainers.image.source": "regent-testkit"}
            },
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "history": layers.iter().enumerate().map(|(i, _)| json!({"created": created, "created_by": format!("testkit layer {i}")})).collect::<Vec<_>>(),
        });
        let config = Blob::new(OCI_CONFIG, serde_json::to_vec(&config)?);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": layers.iter().map(|l| l.blob.descriptor()).collect::<Vec<_>>(),
        });
        let manifest = Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest)?);
        Ok(Self {
            os: os.into(),
            architecture: architecture.into(),
            config,
            layers,
            manifest,
        })
    }

    /// Compressed size as registries report it: config plus layers.
    pub fn size(&self) -> u64 {
        (self.config.bytes.len() + self.layers.iter().map(|l| l.blob.bytes.len()).sum::<usize>()) as u64
    }

    /// Every blob the manifest references.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        self.layers.iter().map(|l| &l.blob).chain(std::iter::once(&self.config))
    }
}

/// A multi-platform image: an OCI index over per-platform images.
#[derive(Debug, Clone)]
pub struct ImageIndex {
    pub images: Vec<Image>,
    pub index: Blob,
}

impl ImageIndex {
    pub fn build(images: Vec<Image>) -> Result<Self> {
        let manifests: Vec<_> = images
            .iter()
            .map(|i| {
                let mut d = i.manifest.descriptor();
                d["platform"] = json!({"architecture": i.architecture, "os": i.os});
                d
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        Ok(Self {
            images,
            index: Blob::new(OCI_INDEX, serde_json::to_vec(&index)?),
        })
    }
}

/// A one-layer linux/amd64 image whose only file holds `content`: distinct content, distinct
/// digests. For tests that need "some image" to push.
pub fn single_file_image(content: &str) -> Result<Artifact> {
    let layer = Layer::from_files(&[("content.txt", content.as_bytes())])?;
    Ok(Artifact::Image(Image::build(
        "linux",
        "amd64",
        vec![layer],
        "2024-01-01T00:00:00Z",
        &["/bin/true"],
    )?))
}

/// What gets tagged: an image or an index.
#[derive(Debug, Clone)]
pub enum Artifact {
    Image(Image),
    Index(ImageIndex),
}

impl Artifact {
    /// The top-level manifest (the image manifest or the index).
    pub fn top(&self) -> &Blob {
        match self {
            Artifact::Image(i) => &i.manifest,
            Artifact::Index(x) => &x.index,
        }
    }

    pub fn digest(&self) -> &str {
        &self.top().digest
    }

    pub fn images(&self) -> Vec<&Image> {
        match self {
            Artifact::Image(i) => vec![i],
            Artifact::Index(x) => x.images.iter().collect(),
        }
    }
}

/// Writes an OCI image layout with these tags, as `skopeo copy oci:<dir>:<tag>` reads it.
pub fn write_oci_layout(dir: &Path, tagged: &[(&str, &Artifact)]) -> Result<()> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let write = |b: &Blob| -> Result<()> {
        let path = blobs.join(b.digest.trim_start_matches("sha256:"));
        if !path.exists() {
            std::fs::write(path, &b.bytes)?;
        }
        Ok(())
    };
    let mut descriptors = Vec::new();
    for (tag, artifact) in tagged {
        for image in artifact.images() {
            for blob in image.blobs() {
                write(blob)?;
            }
            write(&image.manifest)?;
        }
        write(artifact.top())?;
        let mut d = artifact.top().descriptor();
        d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        descriptors.push(d);
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": descriptors}))?,
    )?;
    Ok(())
}
