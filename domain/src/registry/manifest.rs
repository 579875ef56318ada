//! `GET`/`HEAD /v2/<name>/manifests/<reference>` and the four manifest formats.
//!
//! Every request sends all four media types in `Accept`: without the OCI types distribution
//! answers 404 for OCI content, and without the Docker list type it silently hands out the
//! amd64 child of a manifest list, whose digest is then mistaken for the list's. The digest is
//! taken from `Docker-Content-Digest` and checked against the exact bytes received.

use super::{RegistryClient, RegistryError};
use crate::reference::{Digest, Reference, RepositoryName};
use reqwest::{Method, Response};

/// The manifest formats Regent understands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaType {
    DockerManifest,
    DockerManifestList,
    OciManifest,
    OciIndex,
    Other(String),
}

impl MediaType {
    pub const DOCKER_MANIFEST: &'static str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &'static str = "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const OCI_MANIFEST: &'static str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &'static str = "application/vnd.oci.image.index.v1+json";

    pub fn parse(s: &str) -> Self {
        // Content-Type may carry parameters (`; charset=utf-8`).
        let s = s.split(';').next().unwrap_or_default().trim();
        match s {
            Self::DOCKER_MANIFEST => MediaType::DockerManifest,
            Self::DOCKER_MANIFEST_LIST => MediaType::DockerManifestList,
            Self::OCI_MANIFEST => MediaType::OciManifest,
            Self::OCI_INDEX => MediaType::OciIndex,
            other => MediaType::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            MediaType::DockerManifest => Self::DOCKER_MANIFEST,
            MediaType::DockerManifestList => Self::DOCKER_MANIFEST_LIST,
            MediaType::OciManifest => Self::OCI_MANIFEST,
            MediaType::OciIndex => Self::OCI_INDEX,
            MediaType::Other(s) => s,
        }
    }

    /// A manifest list or OCI index: it points at other manifests, one per platform.
    pub fn is_index(&self) -> bool {
        matches!(self, MediaType::DockerManifestList | MediaType::OciIndex)
    }
}

/// Distribution refuses to store manifests larger than this; Regent reads no more.
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The `Accept` header every manifest request carries.
pub const MANIFEST_ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json";

/// What `HEAD` tells: enough to know a tag's digest without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Digest,
    pub media_type: MediaType,
    pub size: u64,
}

/// A manifest exactly as the registry sent it.
#[derive(Debug, Clone)]
pub struct RawManifest {
    pub digest: Digest,
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
}

impl RawManifest {
    pub fn parse(&self) -> Result<Manifest, serde_json::Error> {
        Manifest::parse(&self.media_type, &self.bytes)
    }

    /// The manifest's OCI annotations (empty when it has none or they are not strings).
    pub fn annotations(&self) -> std::collections::BTreeMap<String, String> {
        #[derive(serde::Deserialize)]
        struct Annotated {
            #[serde(default)]
            annotations: std::collections::BTreeMap<String, String>,
        }
        serde_json::from_slice::<Annotated>(&self.bytes)
            .map(|a| a.annotations)
            .unwrap_or_default()
    }
}

/// A pointer to content, as in manifests and indexes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A parsed manifest: one image, or an index of per-platform images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    Index {
        manifests: Vec<Descriptor>,
    },
}

#[derive(serde::Deserialize)]
struct AnyManifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    manifests: Option<Vec<Descriptor>>,
}

impl Manifest {
    /// Parses by the declared media type, falling back to the body's shape (an OCI index
    /// may omit `mediaType`).
    pub fn parse(media_type: &MediaType, bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let any: AnyManifest = serde_json::from_slice(bytes)?;
        let declared = any
            .media_type
            .as_deref()
            .map(MediaType::parse)
            .unwrap_or_else(|| media_type.clone());
        match (declared.is_index() || any.manifests.is_some(), any.config) {
            (true, _) => Ok(Manifest::Index {
                manifests: any.manifests.unwrap_or_default(),
            }),
            (false, Some(config)) => Ok(Manifest::Image {
                config,
                layers: any.layers,
            }),
            (false, None) => Err(serde::de::Error::custom(
                "a manifest needs either \"config\" or \"manifests\"",
            )),
        }
    }

    /// Compressed size of an image: config plus layers. Indexes have no size of their own.
    pub fn image_size(&self) -> Option<u64> {
        match self {
            // Sizes come from the registry as written by whoever pushed: never trust them to add up.
            Manifest::Image { config, layers } => {
                Some(layers.iter().fold(config.size, |total, l| total.saturating_add(l.size)))
            }
            Manifest::Index { .. } => None,
        }
    }
}

/// Which of an index's platform images to show for `wanted` (`linux/arm64`): that one, else
/// `linux/amd64`, else the first; `None` when the index lists none (`"manifests": []`).
pub fn pick_platform(manifests: &[Descriptor], wanted: Option<&str>) -> Option<usize> {
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    let named = |w: &str| {
        manifests
            .iter()
            .position(|m| m.platform.as_ref().is_some_and(|p| p.to_string() == w))
    };
    wanted
        .and_then(named)
        .or_else(|| named("linux/amd64"))
        .or((!manifests.is_empty()).then_some(0))
}

impl RegistryClient {
    /// The manifest a tag or digest points at, with its digest checked.
    pub async fn manifest(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<RawManifest, RegistryError> {
        let response = self.manifest_request(Method::GET, repository, reference).await?;
        let url = response.url().to_string();
        let (header_digest, media_type) = digest_and_type(&response, &url)?;
        let bytes = super::read_limited(
            response,
            MAX_MANIFEST_BYTES,
            &url,
            "the manifest",
            "more than a registry accepts",
        )
        .await?;
        let digest = match header_digest {
            Some(d) if d.algorithm() == "sha256" && !d.verifies(&bytes) => {
                return Err(RegistryError::Protocol {
                    url,
                    detail: format!("the manifest's bytes do not hash to its Docker-Content-Digest {d}"),
                });
            }
            Some(d) => d,
            None => Digest::sha256_of(&bytes),
        };
        if let Reference::Digest(wanted) = reference
            && *wanted != digest
        {
            return Err(RegistryError::Protocol {
                url,
                detail: format!("asked for {wanted} and got {digest}"),
            });
        }
        Ok(RawManifest {
            digest,
            media_type,
            bytes,
        })
    }

    /// A manifest's digest, type and size, without its body.
    pub async fn manifest_head(
        &self,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<ManifestHead, RegistryError> {
        let response = self.manifest_request(Method::HEAD, repository, reference).await?;
        let url = response.url().to_string();
        let (digest, media_type) = digest_and_type(&response, &url)?;
        let digest = match (digest, reference) {
            (Some(d), _) => d,
            (None, Reference::Digest(d)) => d.clone(),
            (None, Reference::Tag(_)) => {
                return Err(RegistryError::Protocol {
                    url,
                    detail: "a HEAD by tag came back without Docker-Content-Digest".into(),
                });
            }
        };
        // Read the header itself: for HEAD, reqwest's content_length() reports the empty body.
        let size = response
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(ManifestHead {
            digest,
            media_type,
            size,
        })
    }

    async fn manifest_request(
        &self,
        method: Method,
        repository: &RepositoryName,
        reference: &Reference,
    ) -> Result<Response, RegistryError> {
        let url = self.v2_url(&format!("{repository}/manifests/{reference}"))?;
        let scope = format!("repository:{repository}:pull");
        let response = self
            .send(method.clone(), url, &[("accept", MANIFEST_ACCEPT)], Some(&scope))
            .await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(self.fail(&method, response).await)
        }
    }
}

fn digest_and_type(response: &Response, url: &str) -> Result<(Option<Digest>, MediaType), RegistryError> {
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let digest = header("docker-content-digest")
        .map(|d| {
            Digest::parse(d).map_err(|e| RegistryError::Protocol {
                url: url.to_owned(),
                detail: format!("its Docker-Content-Digest header is not a digest: {e}"),
            })
        })
        .transpose()?;
    let media_type = MediaType::parse(header("content-type").unwrap_or_default());
    Ok((digest, media_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_manifest_types_are_accepted() {
        for t in [
            MediaType::DOCKER_MANIFEST,
            MediaType::DOCKER_MANIFEST_LIST,
            MediaType::OCI_MANIFEST,
            MediaType::OCI_INDEX,
        ] {
            assert!(MANIFEST_ACCEPT.contains(t));
            assert_eq!(MediaType::parse(t).as_str(), t);
        }
        assert_eq!(
            MediaType::parse("application/vnd.oci.image.index.v1+json; charset=utf-8"),
            MediaType::OciIndex
        );
    }

    #[test]
    fn an_index_without_media_type_is_still_an_index() {
        let d = Digest::sha256_of(b"x");
        let body = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{d}","size":3,"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#
        );
        let m = Manifest::parse(&MediaType::Other(String::new()), body.as_bytes()).unwrap();
        let Manifest::Index { manifests } = m else {
            panic!("not an index")
        };
        assert_eq!(manifests[0].platform.as_ref().unwrap().to_string(), "linux/arm64");
    }

    #[test]
    fn an_empty_index_picks_no_platform_and_a_missing_one_falls_back() {
        assert_eq!(pick_platform(&[], Some("linux/arm64")), None);
        assert_eq!(pick_platform(&[], None), None);
        let d = Digest::sha256_of(b"x");
        let body = format!(
            r#"{{"manifests":[{{"digest":"{d}","platform":{{"architecture":"arm64","os":"linux"}}}},{{"digest":"{d}","platform":{{"architecture":"amd64","os":"linux"}}}},{{"digest":"{d}"}}]}}"#
        );
        let Ok(Manifest::Index { manifests }) = Manifest::parse(&MediaType::OciIndex, body.as_bytes()) else {
            panic!("an index")
        };
        assert_eq!(pick_platform(&manifests, Some("linux/arm64")), Some(0));
        assert_eq!(pick_platform(&manifests, Some("windows/amd64")), Some(1));
        assert_eq!(pick_platform(&manifests[2..], Some(" ")), Some(0));
    }

    #[test]
    fn sizes_from_the_registry_that_do_not_add_up_do_not_panic() {
        let d = Digest::sha256_of(b"x");
        let max = u64::MAX;
        let body =
            format!(r#"{{"config":{{"digest":"{d}","size":{max}}},"layers":[{{"digest":"{d}","size":{max}}}]}}"#);
        let m = Manifest::parse(&MediaType::OciManifest, body.as_bytes()).unwrap();
        assert_eq!(m.image_size(), Some(u64::MAX));
    }

    #[test]
    fn an_image_size_counts_config_and_layers() {
        let d = Digest::sha256_of(b"x");
        let body = format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"{d}","size":10}},"layers":[{{"digest":"{d}","size":5}},{{"digest":"{d}","size":7}}]}}"#
        );
        let m = Manifest::parse(&MediaType::OciManifest, body.as_bytes()).unwrap();
        assert_eq!(m.image_size(), Some(22));
    }
}
