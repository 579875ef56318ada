//! What the server hands to every server function: the domain services for this process.
//!
//! The server binary builds one `AppState` at start-up and provides it as Leptos context;
//! server functions take it with `AppState::get()`.

use leptos::prelude::*;
use regent_domain::access::{Access, Rules, Viewer};
use regent_domain::index::CatalogIndex;
use regent_domain::registry::RegistryClient;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppState {
    pub registry: Arc<RegistryClient>,
    pub index: Arc<CatalogIndex>,
    /// `host[:port]` for pull commands.
    pub pull_host: Arc<str>,
    /// Users, groups, grants and the audit log.
    pub store: regent_domain::store::Store,
    /// Checks passwords (throttled, bounded), for the sign-in page and the token endpoint.
    pub sign_ins: Arc<regent_domain::access::SignIns>,
    /// A session ends this long after sign-in, however much it is used.
    pub session_max_age: std::time::Duration,
    /// A session ends this long after its last use.
    pub session_idle: std::time::Duration,
    /// The built-in namespace rules.
    pub rules: Rules,
    /// Deletes tags, manifests and repositories, keeping the index and audit log current.
    pub deleter: regent_domain::deletes::Deleter,
    /// The OpenShift cluster, when Regent found one (else registry-only mode).
    pub cluster: Option<Cluster>,
}

/// The OpenShift cluster Regent watches, and how it reached the integrated registry there.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub openshift: Arc<regent_domain::openshift::OpenShift>,
    /// How the registry was found and whose credentials Regent uses, or why it was not.
    pub registry: Result<(String, String), String>,
}

impl AppState {
    /// The cluster, once its OpenShift API was found; `None` in registry-only mode.
    pub fn openshift(&self) -> Option<&Arc<regent_domain::openshift::OpenShift>> {
        self.cluster.as_ref().map(|c| &c.openshift).filter(|o| o.active())
    }
}

impl AppState {
    /// What the viewer of the current request may do: their grants and the built-in rules,
    /// read from the store on every request so a change applies at once. Every listing,
    /// search and page filters through this.
    pub async fn access(&self) -> Result<Access, ServerFnError> {
        let viewer = crate::session::viewer(self).await?;
        self.access_of(&viewer).await
    }

    /// What `viewer` may do under the current grants.
    pub async fn access_of(&self, viewer: &Viewer) -> Result<Access, ServerFnError> {
        let policy = self.store.policy(self.rules).await.map_err(ServerFnError::new)?;
        Ok(policy.for_viewer(viewer))
    }

    /// The state provided by the server; a missing one is a wiring bug, reported as such.
    pub fn get() -> Result<Self, ServerFnError> {
        use_context::<Self>().ok_or_else(|| ServerFnError::new("Regent's server state is not set up (wiring bug)"))
    }
}
