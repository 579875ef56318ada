//! The integrated registry: where it runs and how Regent signs in to it.
//!
//! Found in this order: the configured `registry.url`; the image-registry service
//! (`openshift-image-registry/image-registry:5000`, or `default/docker-registry:5000` on old
//! clusters) by its in-cluster name and its cluster IP; the API server's service proxy to
//! it. The registry takes an OpenShift token as the password of any user name (`unused`).
//! An identity without a token (`system:admin` with a certificate) gets one from the service
//! account `openshift-infra/registry-admin`, bound to `system:image-pruner`, which Regent
//! creates when it may and explains how to create when it may not.

use super::{OpenShift, OpenShiftError};
use crate::registry::Credentials;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use kube::Api;
use kube::api::{ListParams, PostParams};
use std::time::Duration;
use url::Url;

/// The services the integrated registry runs as: OpenShift 4, then 3.
const SERVICES: [(&str, &str); 2] = [
    ("openshift-image-registry", "image-registry"),
    ("default", "docker-registry"),
];
const SA_NAMESPACE: &str = "openshift-infra";
const SA_NAME: &str = "registry-admin";
const SA_BINDING: &str = "regent-registry-admin";
/// In a pod: the CA that signs service certificates (the registry's among them).
const SERVICE_CA: &str = "/var/run/secrets/kubernetes.io/serviceaccount/service-ca.crt";
/// How long a requested service account token lasts; Regent renews it at half that.
pub const SA_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Where the registry is and what to present to it.
#[derive(Debug, Clone)]
pub struct FoundRegistry {
    pub url: Url,
    /// How it was found, for the log and the cluster screen.
    pub how: String,
    pub credentials: Credentials,
    /// Where the credentials come from.
    pub identity: String,
    /// `host[:port]` users pull from, when the streams say (the public route, else the service).
    pub pull_host: Option<String>,
    /// CA certificates to trust for it (the kubeconfig's, the service CA in a pod).
    pub roots: Vec<reqwest::Certificate>,
    /// The token expires: ask again (`registry_credentials`) before this long has passed.
    pub renew_every: Option<Duration>,
}

impl OpenShift {
    /// Finds the integrated registry and the credentials for it.
    pub async fn find_registry(&self, configured: Option<&Url>) -> Result<FoundRegistry, OpenShiftError> {
        let (token, identity, renew_every) = self.registry_token().await?;
        let roots = self.trusted_roots();
        let pull_host = self.stream_registry_host().await;
        let found = |url: Url, how: String, credentials: Credentials| FoundRegistry {
            url,
            how,
            credentials,
            identity: identity.clone(),
            pull_host: pull_host.clone(),
            roots: roots.clone(),
            renew_every,
        };
        let basic = Credentials::Basic {
            username: "unused".into(),
            password: token.clone(),
        };
        if let Some(url) = configured {
            return Ok(found(url.clone(), "registry.url".into(), basic));
        }
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(2));
        let probe = roots
            .iter()
            .fold(probe, |b, c| b.add_root_certificate(c.clone()))
            .build()
            .map_err(|e| OpenShiftError::Other { message: e.to_string() })?;
        let mut tried = Vec::new();
        for (namespace, name) in SERVICES {
            let service = match Api::<Service>::namespaced(self.client(), namespace).get_opt(name).await {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => return Err(self.err(e)),
            };
            let spec = service.spec.unwrap_or_default();
            let port = spec.ports.as_ref().and_then(|p| p.first()).map_or(5000, |p| p.port);
            let mut candidates = vec![format!("https://{name}.{namespace}.svc:{port}/")];
            if let Some(ip) = spec.cluster_ip.filter(|ip| !ip.is_empty() && ip != "None") {
                candidates.push(format!("https://{ip}:{port}/"));
                candidates.push(format!("http://{ip}:{port}/"));
            }
            for candidate in candidates {
                let Ok(url) = Url::parse(&candidate) else { continue };
                if answers(&probe, &url, None).await {
                    return Ok(found(url, format!("the service {namespace}/{name}"), basic));
                }
                tried.push(candidate);
            }
            // Outside the cluster the service is not reachable; the API server can proxy to it.
            for scheme in ["https:", ""] {
                let proxy = format!(
                    "{}/api/v1/namespaces/{namespace}/services/{scheme}{name}:{port}/proxy/",
                    self.api_url()
                );
                let Ok(url) = Url::parse(&proxy) else { continue };
                if answers(&probe, &url, Some(&token)).await {
                    // The API server wants the token and removes it before proxying, so the
                    // registry sees these requests as anonymous: only what anonymous may do
                    // works this way. Said where the registry is named.
                    let bearer = Credentials::Bearer { token: token.clone() };
                    return Ok(found(
                        url,
                        format!(
                            "the API server's proxy to {namespace}/{name} (the registry sees Regent as anonymous \
                             there; set registry.url to the registry's route for full access)"
                        ),
                        bearer,
                    ));
                }
                tried.push(proxy);
            }
        }
        Err(OpenShiftError::RegistryNotRunning {
            api: self.api_url().to_owned(),
            tried: if tried.is_empty() {
                "no service openshift-image-registry/image-registry or default/docker-registry exists".into()
            } else {
                format!("nothing answered at {}", tried.join(", "))
            },
        })
    }

    /// The token for the registry: the kubeconfig's own, or a service account token.
    /// Returns it, who it belongs to, and when to renew it.
    pub async fn registry_token(&self) -> Result<(String, String, Option<Duration>), OpenShiftError> {
        if let Some(token) = &self.token {
            return Ok((token.clone(), "Regent's cluster token".into(), None));
        }
        let token = self.service_account_token().await?;
        Ok((
            token,
            format!("the service account {SA_NAMESPACE}/{SA_NAME} (system:image-pruner)"),
            Some(SA_TOKEN_LIFETIME / 2),
        ))
    }

    /// Makes sure `openshift-infra/registry-admin` exists and may prune, then asks for a token.
    async fn service_account_token(&self) -> Result<String, OpenShiftError> {
        let explain = |e: OpenShiftError| match e {
            OpenShiftError::Forbidden { message } => OpenShiftError::NoRegistryToken { message },
            other => other,
        };
        let accounts = Api::<ServiceAccount>::namespaced(self.client(), SA_NAMESPACE);
        if accounts
            .get_opt(SA_NAME)
            .await
            .map_err(|e| explain(self.err(e)))?
            .is_none()
        {
            let account = ServiceAccount {
                metadata: kube::api::ObjectMeta {
                    name: Some(SA_NAME.into()),
                    namespace: Some(SA_NAMESPACE.into()),
                    ..Default::default()
                },
                ..Default::default()
            };
            match accounts.create(&PostParams::default(), &account).await {
                Ok(_) => tracing::info!("created the service account {SA_NAMESPACE}/{SA_NAME} for the registry"),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(explain(self.err(e))),
            }
        }
        let subject = Subject {
            kind: "ServiceAccount".into(),
            name: SA_NAME.into(),
            namespace: Some(SA_NAMESPACE.into()),
            api_group: None,
        };
        let bindings = Api::<ClusterRoleBinding>::all(self.client());
        let pruners = bindings
            .list(&ListParams::default())
            .await
            .map_err(|e| explain(self.err(e)))?;
        let bound = pruners.items.iter().any(|b| {
            b.role_ref.name == "system:image-pruner"
                && b.subjects
                    .iter()
                    .flatten()
                    .any(|s| s.kind == subject.kind && s.name == subject.name && s.namespace == subject.namespace)
        });
        if !bound {
            let binding = ClusterRoleBinding {
                metadata: kube::api::ObjectMeta {
                    name: Some(SA_BINDING.into()),
                    ..Default::default()
                },
                role_ref: RoleRef {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "ClusterRole".into(),
                    name: "system:image-pruner".into(),
                },
                subjects: Some(vec![subject]),
            };
            match bindings.create(&PostParams::default(), &binding).await {
                Ok(_) => tracing::info!("bound {SA_NAMESPACE}/{SA_NAME} to system:image-pruner ({SA_BINDING})"),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(explain(self.err(e))),
            }
        }
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(SA_TOKEN_LIFETIME.as_secs() as i64),
                ..Default::default()
            }),
            ..Default::default()
        };
        let answer = accounts
            .create_token_request(SA_NAME, &PostParams::default(), &request)
            .await
            .map_err(|e| explain(self.err(e)))?;
        answer
            .status
            .and_then(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OpenShiftError::Other {
                message: format!("the token request for {SA_NAMESPACE}/{SA_NAME} returned no token"),
            })
    }

    fn trusted_roots(&self) -> Vec<reqwest::Certificate> {
        let mut roots: Vec<reqwest::Certificate> = self
            .roots
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect();
        if let Ok(pem) = std::fs::read(SERVICE_CA) {
            roots.extend(reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default());
        }
        roots
    }

    /// `host[:port]` from one stream's status: the public route if any, else the service.
    async fn stream_registry_host(&self) -> Option<String> {
        let streams = Api::<super::ImageStream>::all(self.client())
            .list(&ListParams::default().limit(1))
            .await
            .ok()?;
        let status = &streams.items.first()?.status;
        let repository = status
            .public_docker_image_repository
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(&status.docker_image_repository);
        repository.split_once('/').map(|(host, _)| host.to_owned())
    }
}

/// A registry answers `/v2/` with 200, or 401 and a challenge.
async fn answers(http: &reqwest::Client, base: &Url, bearer: Option<&str>) -> bool {
    let Ok(url) = base.join("v2/") else { return false };
    let mut request = http.get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(r) => {
            r.status().is_success()
                || (r.status() == reqwest::StatusCode::UNAUTHORIZED
                    && (r.headers().contains_key("docker-distribution-api-version")
                        || r.headers().contains_key(reqwest::header::WWW_AUTHENTICATE)))
        }
        Err(_) => false,
    }
}
