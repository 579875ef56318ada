//! Pushes built images through the registry's own upload API (no client in between).
//!
//! Blob: `HEAD` to skip what is there, `POST …/blobs/uploads/`, then a monolithic `PUT
//! <location>&digest=…`. Manifest: `PUT …/manifests/<tag>` with its media type. This is how
//! the harness fills a registry with hundreds of repositories quickly.

use crate::image::{Artifact, Blob};
use anyhow::{Context, Result, bail};
use reqwest::{Client, StatusCode};
use url::Url;

#[derive(Clone)]
pub struct Pusher {
    http: Client,
    base: Url,
    basic: Option<(String, String)>,
}

impl Pusher {
    pub fn new(base: &Url) -> Self {
        Self {
            http: Client::new(),
            base: base.clone(),
            basic: None,
        }
    }

    pub fn with_basic(mut self, username: &str, password: &str) -> Self {
        self.basic = Some((username.into(), password.into()));
        self
    }

    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url);
        match &self.basic {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }

    /// Pushes every blob and manifest of `artifact` and tags it; returns the top digest.
    pub async fn push(&self, repository: &str, tag: &str, artifact: &Artifact) -> Result<String> {
        for image in artifact.images() {
            for blob in image.blobs() {
                self.push_blob(repository, blob).await?;
            }
            if matches!(artifact, Artifact::Index(_)) {
                self.put_manifest(repository, &image.manifest.digest, &image.manifest)
                    .await?;
            }
        }
        self.put_manifest(repository, tag, artifact.top()).await
    }

    pub async fn push_blob(&self, repository: &str, blob: &Blob) -> Result<()> {
        let url = self.base.join(&format!("v2/{repository}/blobs/{}", blob.digest))?;
        if self.request(reqwest::Method::HEAD, url).send().await?.status() == StatusCode::OK {
            return Ok(());
        }
        let start = self.base.join(&format!("v2/{repository}/blobs/uploads/"))?;
        let response = self.request(reqwest::Method::POST, start).send().await?;
        if response.status() != StatusCode::ACCEPTED {
            bail!(
                "starting an upload to {repository} answered {}: {}",
                response.status(),
                response.text().await?
            );
        }
        let location = response
            .headers()
            .get("location")
            .context("upload without Location")?
            .to_str()?;
        let mut put = self.base.join(location)?;
        put.query_pairs_mut().append_pair("digest", &blob.digest);
        let response = self
            .request(reqwest::Method::PUT, put)
            .header("content-type", "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .await?;
        if response.status() != StatusCode::CREATED {
            bail!(
                "uploading {} to {repository} answered {}: {}",
                blob.digest,
                response.status(),
                response.text().await?
            );
        }
        Ok(())
    }

    pub async fn put_manifest(&self, repository: &str, reference: &str, manifest: &Blob) -> Result<String> {
        let url = self.base.join(&format!("v2/{repository}/manifests/{reference}"))?;
        let response = self
            .request(reqwest::Method::PUT, url)
            .header("content-type", &manifest.media_type)
            .body(manifest.bytes.clone())
            .send()
            .await?;
        if response.status() != StatusCode::CREATED {
            bail!(
                "putting manifest {repository}:{reference} answered {}: {}",
                response.status(),
                response.text().await?
            );
        }
        let digest = response
            .headers()
            .get("docker-content-digest")
            .context("no Docker-Content-Digest")?
            .to_str()?;
        Ok(digest.to_owned())
    }

    /// `DELETE …/manifests/<digest>`: removes the manifest and every tag on it.
    pub async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<()> {
        let url = self.base.join(&format!("v2/{repository}/manifests/{digest}"))?;
        let response = self.request(reqwest::Method::DELETE, url).send().await?;
        if response.status() != StatusCode::ACCEPTED {
            bail!("deleting {repository}@{digest} answered {}", response.status());
        }
        Ok(())
    }
}
