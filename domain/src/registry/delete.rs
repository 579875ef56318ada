//! Deleting from the registry exactly what was asked, and nothing else.
//!
//! The API deletes manifests by digest, which removes every tag on that digest. Deleting one
//! tag therefore goes by the tag where the registry supports it (distribution 3.x, OCI 1.1),
//! and otherwise (distribution 2.x answers `400 DIGEST_INVALID`) points the tag at a throw-away
//! copy of its manifest — the same JSON with one extra annotation, so it has a digest of its own
//! — and deletes that copy: the other tags keep the original. A registry with deletes turned
//! off answers `405 UNSUPPORTED`; that is reported as such, never worked around.

use super::{MediaType, RegistryClient, RegistryError};
use crate::reference::{Digest, Reference, RepositoryName, Tag};
use reqwest::{Method, StatusCode};

/// How a single tag was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagDeletion {
    /// `DELETE /v2/<name>/manifests/<tag>` did it.
    ByTag,
    /// The tag was pointed at this throw-away manifest (`size` bytes), which was then deleted.
    Repointed { throwaway: Digest, size: u64 },
}

/// The annotation that makes a throw-away manifest unique.
const UNTAG_ANNOTATION: &str = "io.regent.untag";

impl RegistryClient {
    /// `DELETE /v2/<name>/manifests/<digest>`: the manifest and every tag on it.
    pub async fn delete_manifest(&self, repository: &RepositoryName, digest: &Digest) -> Result<(), RegistryError> {
        self.delete_reference(repository, digest.as_ref()).await
    }

    /// `DELETE /v2/<name>/blobs/<digest>`: this repository's link to a blob. Manifests using it
    /// stay listed but can no longer be pulled; the data goes at the next garbage collection.
    pub async fn delete_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<(), RegistryError> {
        let url = self.v2_url(&format!("{repository}/blobs/{digest}"))?;
        let scope = format!("repository:{repository}:delete");
        let response = self.send(Method::DELETE, url, &[], Some(&scope)).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.fail(&Method::DELETE, response).await)
    }

    /// `DELETE /admin/blobs/<digest>`: the blob itself, from storage. Only OpenShift's
    /// integrated registry has it (for pruning); others answer 404, leaving the blob to garbage
    /// collection. Returns whether the registry deleted it.
    pub async fn delete_stored_blob(&self, digest: &Digest) -> Result<bool, RegistryError> {
        let url = self
            .url()
            .join(&format!("admin/blobs/{digest}"))
            .map_err(|e| RegistryError::Client {
                reason: format!("cannot build a URL for admin/blobs/{digest}: {e}"),
            })?;
        let response = self.send(Method::DELETE, url, &[], None).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Ok(false),
            _ => Err(self.fail(&Method::DELETE, response).await),
        }
    }

    /// Removes `tag` only, whatever other tags share its digest.
    pub async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<TagDeletion, RegistryError> {
        match self.delete_reference(repository, tag.as_str()).await {
            Ok(()) => return Ok(TagDeletion::ByTag),
            // 2.x: deleting by tag is not a thing; untag by re-pointing instead.
            Err(e) if matches!(e.code(), Some(super::OciErrorCode::DigestInvalid)) => {}
            Err(e) => return Err(e),
        }
        let original = self.manifest(repository, &Reference::Tag(tag.clone())).await?;
        let throwaway = throwaway_copy(&original.bytes).map_err(|detail| RegistryError::Protocol {
            url: self.url().to_string(),
            detail,
        })?;
        let digest = self
            .put_manifest(repository, tag.as_str(), &original.media_type, &throwaway)
            .await?;
        self.delete_manifest(repository, &digest).await?;
        Ok(TagDeletion::Repointed {
            throwaway: digest,
            size: throwaway.len() as u64,
        })
    }

    /// `PUT /v2/<name>/manifests/<reference>`; the digest the registry stored.
    pub async fn put_manifest(
        &self,
        repository: &RepositoryName,
        reference: &str,
        media_type: &MediaType,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let url = self.v2_url(&format!("{repository}/manifests/{reference}"))?;
        let scope = format!("repository:{repository}:pull,push");
        let response = self
            .send_body(
                Method::PUT,
                url.clone(),
                &[("content-type", media_type.as_str())],
                Some(&scope),
                Some(bytes),
            )
            .await?;
        if response.status() != StatusCode::CREATED && !response.status().is_success() {
            return Err(self.fail(&Method::PUT, response).await);
        }
        Ok(response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok())
            .unwrap_or_else(|| Digest::sha256_of(bytes)))
    }

    async fn delete_reference(&self, repository: &RepositoryName, reference: &str) -> Result<(), RegistryError> {
        let url = self.v2_url(&format!("{repository}/manifests/{reference}"))?;
        let scope = format!("repository:{repository}:delete");
        let response = self.send(Method::DELETE, url, &[], Some(&scope)).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.fail(&Method::DELETE, response).await)
    }
}

/// The manifest with a unique annotation added (OCI and Docker manifests and indexes all carry
/// an `annotations` map or tolerate one).
fn throwaway_copy(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the manifest to untag is not JSON: {e}"))?;
    let object = json
        .as_object_mut()
        .ok_or("the manifest to untag is not a JSON object")?;
    let annotations = object.entry("annotations").or_insert_with(|| serde_json::json!({}));
    let marker = format!("{:016x}", OsRng.next_u64());
    annotations
        .as_object_mut()
        .ok_or("the manifest's annotations are not a map")?
        .insert(UNTAG_ANNOTATION.into(), serde_json::Value::String(marker));
    serde_json::to_vec(&json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_throwaway_copy_differs_from_the_original_and_from_every_other_copy() {
        let original = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;
        let a = super::throwaway_copy(original).unwrap();
        let b = super::throwaway_copy(original).unwrap();
        assert_ne!(a, original.to_vec());
        assert_ne!(a, b);
        let parsed: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(parsed["schemaVersion"], 2);
        assert!(parsed["annotations"]["io.regent.untag"].is_string());
        assert!(super::throwaway_copy(b"[1]").is_err());
    }
}
