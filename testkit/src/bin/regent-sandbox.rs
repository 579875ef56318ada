//! `regent-sandbox`: a real registry with the sample images, for the quick start and the
//! browser tests.
//!
//! `regent-sandbox seed --dir D` starts the Debian registry with its config and data in `D`,
//! pushes the sample set, stops it and prints `{"url","config","host",…}` as JSON. Then
//! `docker-registry serve D/config.yml` serves the same data on the same port for as long as
//! the caller wants, and can be stopped and restarted by the caller.

use clap::Parser;
use regent_testkit::{RegistryOptions, SeedOptions, TestRegistry, seed};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Seed a real docker-registry with Regent's sample images")]
enum Cli {
    /// Create a registry config and data in DIR and push the sample images into it.
    Seed {
        #[arg(long)]
        dir: PathBuf,
        /// Port the registry will listen on (127.0.0.1); a free one if omitted.
        #[arg(long)]
        port: Option<u16>,
        /// Number of bulk/app-NNNN repositories.
        #[arg(long, default_value_t = 260)]
        repos: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli::Seed { dir, port, repos } = Cli::parse();
    let dir = std::path::absolute(&dir)?;
    let options = RegistryOptions {
        dir: Some(dir.join("registry")),
        port,
        ..Default::default()
    };
    let mut registry = TestRegistry::start_with(options).await?;
    let seeded = seed::seed(
        &registry.url(),
        &registry.host(),
        &SeedOptions {
            bulk_repositories: repos,
            layout_dir: dir.join("oci-layout"),
            with_skopeo: true,
        },
    )
    .await?;
    registry.stop();
    println!(
        "{}",
        serde_json::json!({
            "url": registry.url().as_str().trim_end_matches('/'),
            "host": registry.host(),
            "config": registry.config_path(),
            "repositories": seeded.tags.len(),
            "shared_layer": seeded.shared_layer,
        })
    );
    Ok(())
}
