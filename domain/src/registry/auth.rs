//! Registry authentication: configured credentials, `WWW-Authenticate` challenges, and the
//! bearer token flow of the Docker token spec.
//!
//! A registry either takes credentials directly (Basic, or a static bearer token such as an
//! OpenShift token) or answers `401` with `Bearer realm=…,service=…,scope=…`; then a token is
//! fetched from the realm (one `scope` parameter per space-separated scope) with the Basic
//! credentials, cached until shortly before it expires, and the request is retried once.

use super::error::RegistryError;
use reqwest::Response;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What Regent presents to the registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    /// Sent as `Authorization: Bearer`, and to a token realm the same way.
    Bearer {
        token: String,
    },
}

impl Credentials {
    /// How the credentials are described in messages, never with the secret.
    pub fn describe(&self) -> String {
        match self {
            Credentials::None => "no credentials".into(),
            Credentials::Basic { username, .. } => format!("the username \"{username}\" and its password"),
            Credentials::Bearer { .. } => "the configured bearer token".into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic {
        realm: Option<String>,
    },
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other {
        scheme: String,
    },
}

impl Challenge {
    pub fn from_response(response: &Response) -> Option<Self> {
        let value = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)?
            .to_str()
            .ok()?;
        Self::parse(value)
    }

    /// Parses `Scheme key="value",key2="value, with comma"`.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
        let params = parse_params(rest);
        let get = |k: &str| params.get(k).cloned();
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Some(Challenge::Basic { realm: get("realm") }),
            "bearer" => Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            }),
            "" => None,
            _ => Some(Challenge::Other {
                scheme: scheme.to_owned(),
            }),
        }
    }

    /// The scope string of a bearer challenge, used as a token cache key.
    pub fn scope_key(&self) -> Option<&str> {
        match self {
            Challenge::Bearer { scope, .. } => scope.as_deref(),
            _ => None,
        }
    }
}

fn parse_params(input: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = input.trim_start();
    // Each round consumes one `key=value` pair; the input shrinks every time, so this ends.
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        if !key.is_empty() {
            params.insert(key, value);
        }
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

/// A bearer token and when to stop using it.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub token: String,
    pub expires_at: Instant,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// Asks the challenge's realm for a token with the challenge's scopes.
pub(super) async fn fetch_token(
    http: &reqwest::Client,
    challenge: &Challenge,
    credentials: &Credentials,
) -> Result<Token, RegistryError> {
    let Challenge::Bearer { realm, service, scope } = challenge else {
        unreachable!("only bearer challenges lead to a token request");
    };
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(service) = service {
        query.push(("service", service));
    }
    for s in scope.iter().flat_map(|s| s.split(' ')).filter(|s| !s.is_empty()) {
        query.push(("scope", s));
    }
    let mut request = http.get(realm).query(&query);
    match credentials {
        Credentials::Basic { username, password } => {
            request = request
                .query(&[("account", username)])
                .basic_auth(username, Some(password));
        }
        Credentials::Bearer { token } => request = request.bearer_auth(token),
        Credentials::None => {}
    }
    let unreachable = |reason: String| RegistryError::TokenService {
        realm: realm.clone(),
        reason,
    };
    let response = request.send().await.map_err(|e| unreachable(e.to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(RegistryError::Unauthorized {
            url: realm.clone(),
            credentials: credentials.describe(),
            detail: format!("the token service answered {status}"),
        });
    }
    if !status.is_success() {
        return Err(unreachable(format!("it answered {status}")));
    }
    let body: TokenResponse = response
        .json()
        .await
        .map_err(|e| unreachable(format!("its answer is not a token response: {e}")))?;
    let token = body
        .token
        .or(body.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unreachable("its answer has neither \"token\" nor \"access_token\"".into()))?;
    // The spec's default lifetime is 60 s; stop using a token 10 s before it expires.
    let lifetime = Duration::from_secs(body.expires_in.unwrap_or(60).max(11) - 10);
    Ok(Token {
        token,
        expires_at: Instant::now() + lifetime,
    })
}

/// Tokens by scope, so repeated calls skip the challenge round trip.
#[derive(Debug, Default)]
pub(super) struct TokenCache(Mutex<HashMap<String, Token>>);

/// Enough for every scope a busy Regent uses; past it the cache starts over.
const MAX_CACHED_TOKENS: usize = 4096;

impl TokenCache {
    pub fn get(&self, scope: Option<&str>) -> Option<String> {
        let scope = scope?;
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(scope)
            .filter(|t| t.expires_at > Instant::now())
            .map(|t| t.token.clone())
    }

    pub fn put(&self, scope: Option<&str>, token: Token) {
        let Some(scope) = scope else { return };
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_TOKENS {
            map.clear();
        }
        map.insert(scope.to_owned(), token);
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_bearer_challenge_is_understood() {
        let c = Challenge::parse(
            r#"Bearer realm="http://127.0.0.1:5057/token",service="test-registry",scope="repository:demo/app:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "http://127.0.0.1:5057/token".into(),
                service: Some("test-registry".into()),
                scope: Some("repository:demo/app:pull,push".into()),
            }
        );
    }

    #[test]
    fn several_scopes_and_an_error_field_are_kept() {
        let c = Challenge::parse(
            r#"Bearer realm="https://r/token",service="s",scope="repository:demo/new:push,pull repository:demo/app:pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(
            c.scope_key(),
            Some("repository:demo/new:push,pull repository:demo/app:pull")
        );
    }

    #[test]
    fn basic_and_odd_challenges() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic {
                realm: Some("Registry Realm".into())
            })
        );
        assert_eq!(
            Challenge::parse("Negotiate"),
            Some(Challenge::Other {
                scheme: "Negotiate".into()
            })
        );
        assert_eq!(Challenge::parse(""), None);
        // A bearer challenge without a realm cannot be followed.
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None);
        // Unquoted values and escapes.
        assert_eq!(
            Challenge::parse(r#"Bearer realm=http://x/t, service="a\"b""#),
            Some(Challenge::Bearer {
                realm: "http://x/t".into(),
                service: Some("a\"b".into()),
                scope: None
            })
        );
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let c = Credentials::Basic {
            username: "regent".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(
            !Credentials::Bearer {
                token: "zq-secret-zq".into()
            }
            .describe()
            .contains("zq-secret-zq")
        );
    }
}
