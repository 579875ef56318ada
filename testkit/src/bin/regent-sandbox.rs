//! `regent-sandbox`: a real registry with the sample images, for the quick start and the
//! browser tests.
//!
//! `regent-sandbox seed --dir D` starts the Debian registry with its config and data in `D`,
//! pushes the sample set, stops it and prints `{"url","config","host",…}` as JSON. Then
//! `docker-registry serve D/config.yml` serves the same data on the same port for as long as
//! the caller wants, and can be stopped and restarted by the caller.
//!
//! `regent-sandbox cluster --dir D` runs the sample OpenShift cluster (`testkit::cluster`): a
//! local OpenShift-shaped API server and a registry joined to it, prints
//! `{"kubeconfig","registry","api"}` as one JSON line and serves until its standard input closes.
//!
//! `regent-sandbox directory --dir D` runs the hackershop.lan company directory (Debian slapd,
//! `testkit::directory`) over ldaps:// with a CA it makes, writes the service account's
//! password to `D/directory-password`, prints the settings Regent needs as one JSON line
//! (`{"url","ca_file","bind_dn","bind_password_file","user_base","group_base"}`) and serves
//! until its standard input closes.

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
    /// Run the sample OpenShift cluster until standard input closes.
    Cluster {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run the hackershop.lan company directory (slapd) until standard input closes.
    Directory {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (dir, port, repos) = match Cli::parse() {
        Cli::Seed { dir, port, repos } => (dir, port, repos),
        Cli::Cluster { dir } => return cluster(&dir).await,
        Cli::Directory { dir } => return directory(&dir).await,
    };
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

async fn cluster(dir: &std::path::Path) -> anyhow::Result<()> {
    use regent_testkit::cluster::{SampleCluster, SampleOptions};
    std::fs::create_dir_all(dir)?;
    let cluster = SampleCluster::start(SampleOptions::default()).await?;
    let kubeconfig = dir.join("kubeconfig");
    std::fs::copy(cluster.kubeconfig(true), &kubeconfig)?;
    println!(
        "{}",
        serde_json::json!({
            "kubeconfig": kubeconfig,
            "registry": cluster.registry.url().as_str().trim_end_matches('/'),
            "api": cluster.api.url(),
            "public_host": cluster.public_host(),
        })
    );
    until_stdin_closes().await;
    drop(cluster);
    Ok(())
}

async fn directory(dir: &std::path::Path) -> anyhow::Result<()> {
    use regent_testkit::directory::{GROUP_BASE, SERVICE_DN, SERVICE_PASSWORD, USER_BASE};
    std::fs::create_dir_all(dir)?;
    let directory = regent_testkit::TestDirectory::start().await?;
    let password_file = std::path::absolute(dir.join("directory-password"))?;
    std::fs::write(&password_file, SERVICE_PASSWORD)?;
    println!(
        "{}",
        serde_json::json!({
            "url": directory.ldaps_url(),
            "ca_file": directory.ca_file(),
            "bind_dn": SERVICE_DN,
            "bind_password_file": password_file,
            "user_base": USER_BASE,
            "group_base": GROUP_BASE,
        })
    );
    until_stdin_closes().await;
    drop(directory);
    Ok(())
}

/// Serves until the caller closes our standard input (or goes away).
async fn until_stdin_closes() {
    let _ = tokio::task::spawn_blocking(|| {
        use std::io::Read;
        std::io::stdin().read_to_end(&mut Vec::new())
    })
    .await;
}
