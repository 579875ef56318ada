//! `GET /v2/<name>/blobs/<digest>`: blobs small enough to read whole, i.e. image configs.
//!
//! Layers are never downloaded; their sizes come from manifests. The config blob is where
//! created time, platform, entrypoint and history live.

use super::{RegistryClient, RegistryError};
use crate::reference::{Digest, RepositoryName};
use reqwest::Method;
use std::collections::BTreeMap;

/// A config blob bigger than this is not an image config.
const MAX_CONFIG_BYTES: usize = 8 * 1024 * 1024;

/// The parts of an image config (OCI or Docker, same shape) Regent shows.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ImageConfig {
    pub created: Option<String>,
    pub author: Option<String>,
    pub architecture: Option<String>,
    pub os: Option<String>,
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfig {
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct History {
    pub created: Option<String>,
    pub created_by: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

impl ImageConfig {
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// `os/architecture[/variant]`, when the config says both.
    pub fn platform(&self) -> Option<String> {
        match (&self.os, &self.architecture) {
            (Some(os), Some(arch)) => Some(match &self.variant {
                Some(v) => format!("{os}/{arch}/{v}"),
                None => format!("{os}/{arch}"),
            }),
            _ => None,
        }
    }
}

impl RegistryClient {
    /// A blob's bytes, checked against its digest.
    pub async fn blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<Vec<u8>, RegistryError> {
        let url = self.v2_url(&format!("{repository}/blobs/{digest}"))?;
        let scope = format!("repository:{repository}:pull");
        let response = self.send(Method::GET, url.clone(), &[], Some(&scope)).await?;
        if !response.status().is_success() {
            return Err(self.fail(&Method::GET, response).await);
        }
        let bytes = super::read_limited(
            response,
            MAX_CONFIG_BYTES,
            url.as_str(),
            &format!("blob {digest}"),
            "Regent only reads configs",
        )
        .await?;
        if digest.algorithm() == "sha256" && !digest.verifies(&bytes) {
            return Err(RegistryError::Protocol {
                url: url.to_string(),
                detail: format!("blob {digest} has other content than its digest says"),
            });
        }
        Ok(bytes)
    }

    /// The image config a manifest points at.
    pub async fn image_config(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ImageConfig, RegistryError> {
        let bytes = self.blob(repository, digest).await?;
        ImageConfig::parse(&bytes).map_err(|e| RegistryError::Protocol {
            url: self.base.to_string(),
            detail: format!("config {digest} of {repository} is not an image config: {e}"),
        })
    }
}
