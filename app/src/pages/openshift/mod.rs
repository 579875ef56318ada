//! The OpenShift screens: the cluster and what does not line up with the registry, projects
//! with their members, and groups.
//!
//! On OpenShift the integrated registry authorizes through the cluster's RBAC, not through
//! Regent's grants, so these screens manage the cluster's objects (role bindings, groups,
//! project requests). They are for Regent's administrators, and every change is made with
//! Regent's cluster identity, recorded in Regent's audit log, and refused in words when the
//! cluster refuses it. In registry-only mode they say so and show nothing else.

pub mod cluster;
pub mod groups;
pub mod project;
pub mod projects;

use leptos::prelude::*;

/// Links between the OpenShift screens.
#[component]
pub fn ClusterTabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="OpenShift">
            <a href="/openshift">"Cluster"</a>
            <a href="/openshift/projects">"Projects"</a>
            <a href="/openshift/groups">"Groups"</a>
        </nav>
    }
}

/// Registry-only mode, said on a screen that needs the cluster.
#[component]
pub fn Off(reason: String) -> impl IntoView {
    view! {
        <h1>"OpenShift"</h1>
        <p class="notice info" data-openshift="off">{reason}</p>
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod guard {
    use crate::pages::admin::guard::Caller;
    use crate::state::AppState;
    use regent_domain::openshift::OpenShift;
    use std::sync::Arc;

    /// Why a screen cannot show the cluster, in words.
    pub fn off(state: &AppState) -> String {
        match &state.cluster {
            None => "Regent runs in registry-only mode: no OpenShift cluster is configured (openshift.kubeconfig, \
                     or run Regent in the cluster with a service account)."
                .into(),
            Some(c) => format!(
                "Regent has not found OpenShift's image API at {} yet ({}); it keeps looking.",
                c.openshift.api_url(),
                match c.openshift.status().detection {
                    regent_domain::openshift::Detection::Kubernetes => "a plain Kubernetes cluster".to_owned(),
                    regent_domain::openshift::Detection::Unreachable(e) => e.to_string(),
                    _ => "not answered yet".to_owned(),
                }
            ),
        }
    }

    /// The cluster for an administrator, or what to show instead.
    pub enum Allowed {
        Yes(Arc<OpenShift>, Caller),
        Off(String),
        /// Why not, and who asked (a refused change is audited under their name).
        Denied(crate::dto::Denied, Caller),
    }

    pub async fn admin(state: &AppState, what: &str) -> Result<Allowed, leptos::prelude::ServerFnError> {
        let caller = Caller::get(state).await?;
        if let Err(denied) = caller.admin_only(what) {
            return Ok(Allowed::Denied(denied, caller));
        }
        Ok(match state.openshift() {
            Some(o) => Allowed::Yes(o.clone(), caller),
            None => Allowed::Off(off(state)),
        })
    }

    /// A cluster answer as an outcome; every change is in the audit log.
    pub async fn record(
        state: &AppState,
        caller: &Caller,
        action: &str,
        target: &str,
        result: Result<String, regent_domain::openshift::OpenShiftError>,
    ) -> crate::dto::Outcome {
        let (outcome, detail) = match result {
            Ok(m) => ("ok", Ok(m)),
            Err(e) => ("refused", Err(crate::pages::admin::guard::sentence(&e.to_string()))),
        };
        let message = detail.clone().unwrap_or_else(|e| e);
        if let Err(e) = state
            .store
            .record_event(&caller.actor, action, target, outcome, &message)
            .await
        {
            tracing::warn!(error = %e, "could not record an OpenShift change in the audit log");
        }
        match detail {
            Ok(m) => crate::dto::Outcome::Done(m),
            Err(m) => crate::dto::Outcome::Refused(m),
        }
    }
}
