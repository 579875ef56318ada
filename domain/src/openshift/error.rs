//! What can go wrong talking to the cluster, said so an administrator knows what to do.
//!
//! The API server answers in `Status` objects; Regent keeps their message (it names the verb,
//! resource and identity) and adds what to check: RBAC for 403, a stale copy for 409, the
//! kubeconfig for connection and authentication errors.

use kube::core::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenShiftError {
    /// No kubeconfig or in-cluster service account, or the one named cannot be read.
    #[error("{0}")]
    Config(String),
    #[error(
        "the cluster API at {url} does not answer: {reason}; check the kubeconfig's server address and that the API server runs"
    )]
    Unreachable { url: String, reason: String },
    #[error(
        "the cluster refused Regent's credentials ({message}); log in again (`oc login`) or give Regent a valid token"
    )]
    Unauthorized { message: String },
    #[error(
        "Regent's cluster identity may not do this: {message}. Grant it the role that allows it (for the access screens: `oc adm policy add-cluster-role-to-user admin <regent's user>`)"
    )]
    Forbidden { message: String },
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    Conflict { message: String },
    /// The cluster's own namespaces: Regent refuses before asking the cluster.
    #[error("{message}")]
    Reserved { message: String },
    #[error("the cluster refused the change: {message}")]
    Invalid { message: String },
    #[error("the cluster API failed: {message}")]
    Other { message: String },
    #[error(
        "the integrated registry is not running on the cluster at {api}: {tried}. Deploy it (OpenShift 4: `oc patch configs.imageregistry.operator.openshift.io cluster --type merge -p '{{\"spec\":{{\"managementState\":\"Managed\"}}}}'` and give it storage; OpenShift 3: `oc adm registry`), or set registry.url to where it runs"
    )]
    RegistryNotRunning { api: String, tried: String },
    #[error(
        "Regent's cluster identity has no token the registry accepts (a client certificate, like system:admin) and may not create the service account openshift-infra/registry-admin ({message}). As a cluster administrator run `oc create serviceaccount registry-admin -n openshift-infra` and `oc adm policy add-cluster-role-to-user system:image-pruner -z registry-admin -n openshift-infra`, then set registry.token to the output of `oc create token registry-admin -n openshift-infra --duration=8760h`"
    )]
    NoRegistryToken { message: String },
}

impl OpenShiftError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, OpenShiftError::NotFound { .. })
    }
    pub fn is_conflict(&self) -> bool {
        matches!(self, OpenShiftError::Conflict { .. })
    }
    pub fn is_forbidden(&self) -> bool {
        matches!(self, OpenShiftError::Forbidden { .. })
    }

    pub fn from_kube(url: &str, error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => Self::from_status(&status),
            kube::Error::HyperError(e) => OpenShiftError::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            },
            kube::Error::Service(e) => OpenShiftError::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            },
            other => OpenShiftError::Other {
                message: other.to_string(),
            },
        }
    }

    pub fn from_status(status: &Status) -> Self {
        let message = if status.message.is_empty() {
            format!("{} {}", status.code, status.reason)
        } else {
            status.message.clone()
        };
        match status.code {
            401 => OpenShiftError::Unauthorized { message },
            403 => OpenShiftError::Forbidden { message },
            404 => OpenShiftError::NotFound { message },
            409 => OpenShiftError::Conflict { message },
            422 => OpenShiftError::Invalid { message },
            _ => OpenShiftError::Other { message },
        }
    }
}

/// One line for a failed watch (what the status view shows until it recovers).
pub fn watch_error(error: &kube::runtime::watcher::Error) -> String {
    use kube::runtime::watcher::Error as W;
    match error {
        W::InitialListFailed(e) | W::WatchStartFailed(e) | W::WatchFailed(e) => {
            OpenShiftError::from_kube("the cluster", clone_kube(e)).to_string()
        }
        W::WatchError(status) => OpenShiftError::from_status(status).to_string(),
        W::NoResourceVersion => error.to_string(),
    }
}

/// A watch error that will not go away by retrying soon: the identity may not list the kind
/// (403) or the server does not serve it (404). Says what Regent could not read and which
/// permission would show it.
pub fn refusal(error: &kube::runtime::watcher::Error, plural: &str, group: &str) -> Option<String> {
    use kube::runtime::watcher::Error as W;
    let status = match error {
        W::InitialListFailed(kube::Error::Api(s))
        | W::WatchStartFailed(kube::Error::Api(s))
        | W::WatchFailed(kube::Error::Api(s))
        | W::WatchError(s) => s,
        _ => return None,
    };
    let group = if group.is_empty() { "core" } else { group };
    match status.code {
        403 => Some(format!(
            "Regent's cluster identity may not list {plural} ({group} API group): {}. Grant it `list` and `watch` on \
             {plural} (the `cluster-reader` cluster role has both) to show them",
            if status.message.is_empty() {
                "403 Forbidden"
            } else {
                status.message.as_str()
            }
        )),
        404 => Some(format!(
            "the API server does not serve {plural} ({group} API group, 404 Not Found) to Regent's cluster identity; \
             they are not shown. On OpenShift this usually means the identity lacks `list` and `watch` on {plural}"
        )),
        _ => None,
    }
}

/// What `/openshift` says when `users/~` cannot be read.
pub fn identity_problem(error: &OpenShiftError) -> String {
    let what = match error {
        OpenShiftError::Forbidden { message } => format!("it was refused ({message})"),
        OpenShiftError::NotFound { .. } => "the API server answered 404 Not Found".to_owned(),
        other => other.to_string(),
    };
    format!(
        "Regent could not read who it is on the cluster (`get users/~` in user.openshift.io): {what}. Grant its \
         identity `get` on `users/~` (the `basic-user` cluster role has it) to show it here"
    )
}

/// `kube::Error` is not `Clone`; keep what the messages need.
fn clone_kube(e: &kube::Error) -> kube::Error {
    match e {
        kube::Error::Api(s) => kube::Error::Api(s.clone()),
        other => kube::Error::Service(other.to_string().into()),
    }
}
