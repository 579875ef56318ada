//! One call for the common test setup: a fresh registry with the sample set pushed into it.

use crate::TestRegistry;
use crate::seed::{SeedOptions, SeedReport, seed};
use anyhow::Result;

/// A running registry with the sample images, and the temp dir their OCI layout lives in.
pub struct SeededRegistry {
    pub registry: TestRegistry,
    pub report: SeedReport,
    _layout: tempfile::TempDir,
}

impl SeededRegistry {
    /// Starts a registry (no auth) and seeds it with `bulk` bulk repositories.
    pub async fn start(bulk: usize) -> Result<Self> {
        let registry = TestRegistry::start().await?;
        let layout = tempfile::Builder::new().prefix("regent-oci-").tempdir()?;
        let options = SeedOptions {
            bulk_repositories: bulk,
            layout_dir: layout.path().to_path_buf(),
            with_skopeo: true,
        };
        let report = seed(&registry.url(), &registry.host(), &options).await?;
        Ok(Self {
            registry,
            report,
            _layout: layout,
        })
    }
}
