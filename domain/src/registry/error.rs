//! What can go wrong talking to a registry, in words an admin can act on.
//!
//! Transport failures, refused credentials and the registry's own OCI error bodies
//! (`{"errors":[{"code":…,"message":…}]}`) all become one typed `RegistryError`. Its `Display`
//! says what failed and where; `hint()` says what to check. Screens show both instead of a dump.

use reqwest::{Method, Response, StatusCode};
use std::error::Error as _;
use url::Url;

/// The error codes of the distribution spec, plus whatever else a registry sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciErrorCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    PaginationNumberInvalid,
    Other(String),
}

impl OciErrorCode {
    fn parse(code: &str) -> Self {
        use OciErrorCode::*;
        match code {
            "BLOB_UNKNOWN" => BlobUnknown,
            "BLOB_UPLOAD_INVALID" => BlobUploadInvalid,
            "BLOB_UPLOAD_UNKNOWN" => BlobUploadUnknown,
            "DIGEST_INVALID" => DigestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => ManifestBlobUnknown,
            "MANIFEST_INVALID" => ManifestInvalid,
            "MANIFEST_UNKNOWN" => ManifestUnknown,
            "NAME_INVALID" => NameInvalid,
            "NAME_UNKNOWN" => NameUnknown,
            "SIZE_INVALID" => SizeInvalid,
            "UNAUTHORIZED" => Unauthorized,
            "DENIED" => Denied,
            "UNSUPPORTED" => Unsupported,
            "TOOMANYREQUESTS" => TooManyRequests,
            "PAGINATION_NUMBER_INVALID" => PaginationNumberInvalid,
            other => Other(other.to_owned()),
        }
    }
}

/// One entry of an OCI error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciError {
    pub code: OciErrorCode,
    pub message: String,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    #[error("Regent could not connect to the registry at {url}: {reason}")]
    Unreachable { url: String, reason: String },

    #[error("the registry at {url} did not answer in time")]
    Timeout { url: String },

    #[error("the registry at {url} refused {credentials}: {detail}")]
    Unauthorized {
        url: String,
        credentials: String,
        detail: String,
    },

    #[error("the registry at {url} denied access: {detail}")]
    Denied { url: String, detail: String },

    #[error("{url} answered HTTP {status}; it does not look like a Docker/OCI v2 registry API")]
    NotARegistry { url: String, status: u16 },

    #[error("the registry's token service at {realm} could not give Regent a token: {reason}")]
    TokenService { realm: String, reason: String },

    #[error("{method} {url} failed with HTTP {status}: {}", describe(errors))]
    Api {
        method: String,
        url: String,
        status: u16,
        errors: Vec<OciError>,
    },

    #[error("the registry at {url} sent something Regent cannot use: {detail}")]
    Protocol { url: String, detail: String },

    #[error("Regent could not set up its HTTP client: {reason}")]
    Client { reason: String },
}

fn describe(errors: &[OciError]) -> String {
    if errors.is_empty() {
        return "no error details".into();
    }
    errors
        .iter()
        .map(|e| match &e.code {
            OciErrorCode::Other(code) if code.is_empty() => e.message.clone(),
            code => format!("{} ({})", e.message, code_name(code)),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn code_name(code: &OciErrorCode) -> String {
    match code {
        OciErrorCode::Other(s) => s.clone(),
        OciErrorCode::TooManyRequests => "TOOMANYREQUESTS".into(),
        known => {
            // BlobUnknown -> BLOB_UNKNOWN
            let name = format!("{known:?}");
            let mut out = String::new();
            for (i, c) in name.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
    }
}

impl RegistryError {
    /// Turns a failed send into a message about the registry, not about hyper.
    pub(super) fn from_transport(url: &Url, error: reqwest::Error) -> Self {
        let url = origin(url);
        if error.is_timeout() {
            return RegistryError::Timeout { url };
        }
        // The innermost cause is the useful one ("Connection refused (os error 111)").
        let mut reason = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        RegistryError::Unreachable { url, reason }
    }

    /// Reads an unsuccessful response into an error, keeping the OCI error codes.
    pub(super) async fn from_response(method: &Method, response: Response, credentials: &str) -> Self {
        let status = response.status();
        let url = response.url().clone();
        let body = response.bytes().await.unwrap_or_default();
        let errors: Vec<OciError> = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| {
                b.errors
                    .into_iter()
                    .map(|e| OciError {
                        code: OciErrorCode::parse(&e.code),
                        message: e.message,
                    })
                    .collect()
            })
            .unwrap_or_default();
        match status {
            StatusCode::UNAUTHORIZED => RegistryError::Unauthorized {
                url: origin(&url),
                credentials: credentials.to_owned(),
                detail: if errors.is_empty() {
                    "authentication required".into()
                } else {
                    describe(&errors)
                },
            },
            StatusCode::FORBIDDEN => RegistryError::Denied {
                url: origin(&url),
                detail: describe(&errors),
            },
            _ => RegistryError::Api {
                method: method.to_string(),
                url: url.to_string(),
                status: status.as_u16(),
                errors,
            },
        }
    }

    /// The registry said the repository, manifest or blob does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            RegistryError::Api { status, errors, .. } => {
                *status == 404
                    || errors.iter().any(|e| {
                        matches!(
                            e.code,
                            OciErrorCode::NameUnknown | OciErrorCode::ManifestUnknown | OciErrorCode::BlobUnknown
                        )
                    })
            }
            _ => false,
        }
    }

    /// The first OCI error code, if the registry sent one.
    pub fn code(&self) -> Option<&OciErrorCode> {
        match self {
            RegistryError::Api { errors, .. } => errors.first().map(|e| &e.code),
            _ => None,
        }
    }

    /// The registry (or the network) is down, as opposed to answering "no".
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            RegistryError::Unreachable { .. } | RegistryError::Timeout { .. } | RegistryError::TokenService { .. }
        ) || matches!(self, RegistryError::Api { status, .. } if *status >= 500)
    }

    /// What an admin should check, in one sentence.
    pub fn hint(&self) -> &'static str {
        match self {
            RegistryError::Unreachable { .. } => {
                "Is the registry running, and is Regent's registry URL (registry.url / REGENT_REGISTRY_URL) right, \
                 including http:// or https:// and the port?"
            }
            RegistryError::Timeout { .. } => {
                "The registry may be overloaded or a firewall may be dropping the connection; check the registry's \
                 logs and load."
            }
            RegistryError::Unauthorized { .. } => {
                "Check the registry credentials Regent uses (registry.username and registry.password, or \
                 registry.token) and that the account exists in the registry's auth setup."
            }
            RegistryError::Denied { .. } => {
                "The account Regent uses is known but lacks access; grant it access in the registry."
            }
            RegistryError::NotARegistry { .. } => {
                "Point registry.url at the registry's root (the address that serves /v2/), not at a web page or a \
                 path below it."
            }
            RegistryError::TokenService { .. } => {
                "The registry sends clients to this token service; check that it runs and that the registry's \
                 auth.token.realm is reachable from Regent."
            }
            RegistryError::Api { status, .. } if *status >= 500 => {
                "The registry failed internally; its own log says why."
            }
            RegistryError::Api { .. } => "The registry refused this request; the message above is the registry's own.",
            RegistryError::Protocol { .. } => {
                "This registry does not follow the Distribution spec here; please report it with the registry's \
                 name and version."
            }
            RegistryError::Client { .. } => {
                "This is a problem in Regent's own setup; check its TLS and proxy settings."
            }
        }
    }
}

/// `scheme://host:port` of a URL, so messages name the registry, not a long API path.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_to_their_spec_names() {
        assert_eq!(
            code_name(&OciErrorCode::PaginationNumberInvalid),
            "PAGINATION_NUMBER_INVALID"
        );
        assert_eq!(code_name(&OciErrorCode::NameUnknown), "NAME_UNKNOWN");
        assert_eq!(OciErrorCode::parse("TOOMANYREQUESTS"), OciErrorCode::TooManyRequests);
        assert_eq!(OciErrorCode::parse("X"), OciErrorCode::Other("X".into()));
    }

    #[test]
    fn an_unreachable_registry_names_its_url_and_what_to_check() {
        let e = RegistryError::Unreachable {
            url: "http://127.0.0.1:1".into(),
            reason: "Connection refused".into(),
        };
        assert!(e.to_string().contains("http://127.0.0.1:1"));
        assert!(e.hint().contains("running"));
        assert!(e.is_unavailable());
    }
}
