//! Real parts for Regent's tests and for the README's quick start.
//!
//! Nothing here is a mock: `TestRegistry` runs the Debian `docker-registry` binary on a free
//! loopback port with its own config and storage in a temp dir; `image` builds real OCI images
//! (gzip tar layers, config, manifest, index) and writes OCI layouts; `push` uploads them through
//! the registry's API; `skopeo` drives the independent client; `seed` puts the standard sample
//! set (shared digests, shared layers, multi-arch, Docker formats, hundreds of repositories)
//! into a registry.

pub mod bulk;
pub mod cluster;
pub mod directory;
pub mod fixture;
pub mod image;
pub mod openshift;
pub mod podman;
pub mod push;
pub mod regent;
pub mod registry;
pub mod seed;
pub mod skopeo;
pub mod slow_proxy;
pub mod targets;
pub mod token_service;
pub mod wrk;

pub use directory::TestDirectory;
pub use fixture::SeededRegistry;
pub use image::{Artifact, Blob, Image, ImageIndex, Layer, single_file_image};
pub use openshift::OpenShiftApi;
pub use registry::{RegistryAuth, RegistryOptions, TestRegistry};
pub use seed::{SeedOptions, SeedReport};
pub use token_service::TestTokenService;

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Waits up to 20 s, asking every 100 ms, until `ready()` says the server `what` started as
/// `child` serves. Fails at once, with the log at `log`, if the process exits first.
pub(crate) async fn wait_until_serving<F, Fut>(
    what: &str,
    child: &mut std::process::Child,
    log: &std::path::Path,
    mut ready: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            anyhow::bail!("{what} exited with {status}:\n{log}");
        }
        if ready().await {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{what} did not answer within 20 s")
}

/// Serves `app` on 127.0.0.1:<free port> on its own thread and runtime, so a test that blocks
/// its own runtime (on skopeo, say) cannot stall it. Returns the port and a sender that stops
/// it; dropping the runtime then also ends open connections (watches included).
pub(crate) fn serve_on_own_thread(
    name: &str,
    app: axum::Router,
) -> anyhow::Result<(u16, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(format!("{name}-{port}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let server = tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
                let _ = stopped.await;
                server.abort();
            });
        })?;
    Ok((port, stop))
}
