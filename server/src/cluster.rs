//! Start-up on OpenShift: the cluster, and the integrated registry found through it.
//!
//! Regent looks for the cluster once before serving, because the registry's address and
//! credentials may come from it; after that the cluster's own loop keeps looking (a cluster
//! that was down at start-up shows up when it answers). Without the OpenShift API Regent
//! serves registry-only, and says why in its log.

use crate::config::Settings;
use regent_app::state::Cluster;
use regent_domain::openshift::{Detection, FoundRegistry, Mode, OpenShift};
use regent_domain::registry::{Credentials, RegistryClient};
use std::sync::Arc;

/// The address the integrated registry has inside the cluster; used (and reported as not
/// answering) when it could not be found, so the screens say what is wrong.
pub const REGISTRY_SERVICE_URL: &str = "https://image-registry.openshift-image-registry.svc:5000/";

/// What start-up learned about the cluster.
pub struct Link {
    pub cluster: Option<Cluster>,
    pub found: Option<FoundRegistry>,
    /// The OpenShift API answered.
    pub on_openshift: bool,
    /// Why no registry was found on the cluster.
    pub why: Option<String>,
}

pub async fn connect(settings: &Settings) -> Result<Link, String> {
    let openshift = OpenShift::configure(settings.openshift.clone())
        .await
        .map_err(|e| format!("setting openshift.kubeconfig / openshift.context: {e}"))?;
    let Some(openshift) = openshift else {
        return Ok(Link {
            cluster: None,
            found: None,
            on_openshift: false,
            why: None,
        });
    };
    let detection = openshift.detect().await;
    openshift.spawn();
    let (found, why) = match &detection {
        Detection::OpenShift => match openshift.find_registry(settings.registry_url.as_ref()).await {
            Ok(found) => {
                tracing::info!(registry = %found.url, how = %found.how, identity = %found.identity, "the integrated registry");
                (Some(found), None)
            }
            Err(e) => {
                tracing::error!(error = %e, "the integrated registry cannot be used");
                (None, Some(e.to_string()))
            }
        },
        Detection::Kubernetes => (
            None,
            Some(format!(
                "the cluster at {} has no OpenShift image API",
                openshift.api_url()
            )),
        ),
        Detection::Unreachable(e) => (None, Some(e.to_string())),
        Detection::Detecting => (None, None),
    };
    if settings.openshift.mode == Mode::Required && detection != Detection::OpenShift {
        return Err(format!(
            "setting openshift.mode (REGENT_OPENSHIFT_MODE / --openshift-mode) is required, but {}",
            why.unwrap_or_else(|| "no OpenShift API was found".into())
        ));
    }
    let registry = match (&found, &why) {
        (Some(f), _) => Ok((f.how.clone(), f.identity.clone())),
        (None, Some(why)) => Err(why.clone()),
        (None, None) => Err("not looked for yet".into()),
    };
    Ok(Link {
        cluster: Some(Cluster { openshift, registry }),
        found,
        on_openshift: detection == Detection::OpenShift,
        why,
    })
}

/// Keeps a service account token for the registry fresh (it expires).
pub fn renew_registry_token(openshift: &Arc<OpenShift>, found: &FoundRegistry, registry: &Arc<RegistryClient>) {
    let Some(every) = found.renew_every else { return };
    let (openshift, registry) = (openshift.clone(), registry.clone());
    let bearer = matches!(found.credentials, Credentials::Bearer { .. });
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match openshift.registry_token().await {
                Ok((token, _, _)) => registry.set_credentials(if bearer {
                    Credentials::Bearer { token }
                } else {
                    Credentials::Basic {
                        username: "unused".into(),
                        password: token,
                    }
                }),
                Err(e) => tracing::warn!(error = %e, "could not renew the registry token; the current one stays"),
            }
        }
    });
}
