//! The standard sample registry: what every Regent test and the quick start look at.
//!
//! - `demo/base` with tags `1.0` and `latest` on one manifest (a shared digest) and `1.1`;
//! - `demo/app` `v1`, `v2` built on the same base layer as everything else (shared layers);
//! - `multi/arch:latest`, an OCI index over linux/amd64 and linux/arm64;
//! - pushed by skopeo: `dockerfmt/app:v1` (Docker schema 2), `dockerfmt/multi:latest` (Docker
//!   manifest list) and `skopeo/oci:1.0` (OCI);
//! - `demo/emptied`, whose only manifest was deleted (`tags: null`);
//! - `bulk/app-NNNN`, enough repositories for the catalog to need several pages.

use crate::image::{Artifact, Image, ImageIndex, Layer, write_oci_layout};
use crate::push::Pusher;
use crate::skopeo::{self, Format};
use anyhow::Result;
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// How many `bulk/app-NNNN` repositories to create.
    pub bulk_repositories: usize,
    /// Where the OCI layout for skopeo is written.
    pub layout_dir: PathBuf,
    /// Push the Docker-format images with skopeo (the independent client).
    pub with_skopeo: bool,
}

/// What was pushed, for tests to compare against.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// `repository → tag → manifest digest`; a repository with no tags maps to an empty map.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The layer every image shares.
    pub shared_layer: String,
    /// The per-platform child digests of `multi/arch:latest`.
    pub multi_arch_children: Vec<String>,
}

impl SeedReport {
    pub fn repositories(&self) -> Vec<String> {
        self.tags.keys().cloned().collect()
    }
}

const CREATED: &str = "2024-05-01T12:00:00Z";

fn base_layer() -> Result<Layer> {
    Layer::from_files(&[("etc/os-release", b"ID=regent-sample\nVERSION_ID=1\n")])
}

fn app_image(name: &str, version: &str, arch: &str) -> Result<Image> {
    let app = Layer::from_files(&[("app/about.txt", format!("{name} {version} for {arch}\n").as_bytes())])?;
    Image::build("linux", arch, vec![base_layer()?, app], CREATED, &["/app/run", version])
}

pub async fn seed(registry: &Url, registry_host: &str, options: &SeedOptions) -> Result<SeedReport> {
    let pusher = Pusher::new(registry);
    let mut report = SeedReport {
        shared_layer: base_layer()?.blob.digest,
        ..Default::default()
    };
    let record = |report: &mut SeedReport, repo: &str, tag: Option<&str>, digest: &str| {
        let tags = report.tags.entry(repo.to_owned()).or_default();
        if let Some(tag) = tag {
            tags.insert(tag.to_owned(), digest.to_owned());
        }
    };

    let base10 = Artifact::Image(app_image("base", "1.0", "amd64")?);
    let base11 = Artifact::Image(app_image("base", "1.1", "amd64")?);
    for (tag, artifact) in [("1.0", &base10), ("latest", &base10), ("1.1", &base11)] {
        let d = pusher.push("demo/base", tag, artifact).await?;
        record(&mut report, "demo/base", Some(tag), &d);
    }
    for v in ["v1", "v2"] {
        let d = pusher
            .push("demo/app", v, &Artifact::Image(app_image("app", v, "amd64")?))
            .await?;
        record(&mut report, "demo/app", Some(v), &d);
    }
    let multi = Artifact::Index(ImageIndex::build(vec![
        app_image("multi", "1", "amd64")?,
        app_image("multi", "1", "arm64")?,
    ])?);
    let d = pusher.push("multi/arch", "latest", &multi).await?;
    record(&mut report, "multi/arch", Some("latest"), &d);
    report.multi_arch_children = multi.images().iter().map(|i| i.manifest.digest.clone()).collect();

    let emptied = Artifact::Image(app_image("emptied", "0", "amd64")?);
    let d = pusher.push("demo/emptied", "gone", &emptied).await?;
    pusher.delete_manifest("demo/emptied", &d).await?;
    record(&mut report, "demo/emptied", None, "");

    if options.with_skopeo {
        let app = Artifact::Image(app_image("dockerfmt", "v1", "amd64")?);
        let oci = Artifact::Image(app_image("skopeo", "1.0", "amd64")?);
        write_oci_layout(&options.layout_dir, &[("app", &app), ("multi", &multi), ("oci", &oci)])?;
        let layout = &options.layout_dir;
        skopeo::copy_layout_to_registry(
            layout,
            "app",
            registry_host,
            "dockerfmt/app:v1",
            Format::DockerV2,
            false,
            None,
        )?;
        skopeo::copy_layout_to_registry(
            layout,
            "multi",
            registry_host,
            "dockerfmt/multi:latest",
            Format::DockerV2,
            true,
            None,
        )?;
        skopeo::copy_layout_to_registry(layout, "oci", registry_host, "skopeo/oci:1.0", Format::Oci, false, None)?;
        for (repo, tag) in [
            ("dockerfmt/app", "v1"),
            ("dockerfmt/multi", "latest"),
            ("skopeo/oci", "1.0"),
        ] {
            let raw = skopeo::inspect_raw(registry_host, &format!("{repo}:{tag}"))?;
            record(&mut report, repo, Some(tag), &crate::image::sha256(raw.as_bytes()));
        }
    }

    // Bulk repositories: 1 to 3 tags each, so tag counts differ from row to row.
    let bulk: Vec<(String, Vec<String>)> = (1..=options.bulk_repositories)
        .map(|i| {
            (
                format!("bulk/app-{i:04}"),
                (1..=(i % 3 + 1)).map(|t| format!("v{t}")).collect(),
            )
        })
        .collect();
    let pushed: Vec<(String, String, String)> = futures::stream::iter(bulk)
        .map(|(repo, tags)| {
            let pusher = pusher.clone();
            async move {
                let mut out = Vec::new();
                for tag in tags {
                    let image = Artifact::Image(app_image(&repo, &tag, "amd64")?);
                    let d = pusher.push(&repo, &tag, &image).await?;
                    out.push((repo.clone(), tag, d));
                }
                anyhow::Ok(futures::stream::iter(out.into_iter().map(anyhow::Ok)))
            }
        })
        .buffer_unordered(16)
        .try_flatten()
        .try_collect()
        .await?;
    for (repo, tag, digest) in pushed {
        record(&mut report, &repo, Some(&tag), &digest);
    }
    Ok(report)
}
