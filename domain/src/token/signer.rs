//! Signing registry tokens: the ES256 key, its certificate, and the JWT the registry checks.
//!
//! distribution 2.8 finds the key by `x5c` (a certificate chain ending in its
//! `rootcertbundle`) or by `kid` in libtrust form; the header carries both, so 2.8 and 3.x
//! accept it. Claims follow what 2.8 was seen to require (docs/registry.md, "Token authentication"): `aud` a
//! string, `exp` an integer, `iss` exactly the configured issuer. The key and a self-signed
//! certificate are made on first start and kept in the store.

use super::scope::AccessEntry;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A signing key as stored: PKCS#8 private key and certificate, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    pub key_pem: String,
    pub cert_pem: String,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyMaterial { <secret> }")
    }
}

impl KeyMaterial {
    /// A new P-256 key with a self-signed certificate.
    pub fn generate() -> Result<Self, String> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| format!("generating the token signing key failed: {e}"))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| format!("making the signing certificate failed: {e}"))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Regent registry token signing");
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("making the signing certificate failed: {e}"))?;
        Ok(Self {
            key_pem: key.serialize_pem(),
            cert_pem: cert.pem(),
        })
    }
}

/// What every token says besides who and what.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss`; the registry's `auth.token.issuer`.
    pub issuer: String,
    /// `aud`; the registry's `auth.token.service`.
    pub service: String,
    pub lifetime: Duration,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    access: &'a [AccessEntry],
}

/// How long a refresh token (what `docker login` keeps as its identity token) lasts.
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

/// A refresh token's claims: who (by name, for people reading it), and their credential as it
/// was (`store::Credential`: user id and fingerprint), so a password change, a new service
/// token, disabling or deleting the user ends every refresh token issued before.
#[derive(Serialize, serde::Deserialize)]
struct RefreshClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    credential: String,
}

/// A minted token and when it was made.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub issued_at: SystemTime,
    pub expires_in: Duration,
}

pub struct Signer {
    key: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    settings: TokenSettings,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.header.kid).finish()
    }
}

impl Signer {
    pub fn new(material: &KeyMaterial, settings: TokenSettings) -> Result<Self, String> {
        super::crypto::install();
        let bad = |e: &dyn std::fmt::Display| format!("the stored token signing key cannot be used: {e}");
        let key = EncodingKey::from_ec_pem(material.key_pem.as_bytes()).map_err(|e| bad(&e))?;
        let pair = rcgen::KeyPair::from_pem(&material.key_pem).map_err(|e| bad(&e))?;
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        let spki = STANDARD
            .decode(pem_body(&pair.public_key_pem())?)
            .map_err(|e| bad(&e))?;
        header.kid = Some(libtrust_kid(&spki));
        header.x5c = Some(vec![pem_body(&material.cert_pem).map_err(|e| bad(&e))?]);
        let decoding = DecodingKey::from_ec_pem(pair.public_key_pem().as_bytes()).map_err(|e| bad(&e))?;
        Ok(Self {
            key,
            decoding,
            header,
            settings,
        })
    }

    /// Refresh tokens name an audience of their own, so the registry never takes one.
    fn refresh_audience(&self) -> String {
        format!("{}/refresh", self.settings.service)
    }

    /// A refresh token for `subject` whose credential has `fingerprint`.
    pub fn mint_refresh(&self, subject: &str, fingerprint: &str) -> Result<String, String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = RefreshClaims {
            iss: self.settings.issuer.clone(),
            sub: subject.to_owned(),
            aud: self.refresh_audience(),
            exp: now + REFRESH_LIFETIME.as_secs(),
            iat: now,
            credential: fingerprint.to_owned(),
        };
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map_err(|e| format!("signing a refresh token failed: {e}"))
    }

    /// The subject and credential fingerprint of a refresh token this signer made and that
    /// has not expired.
    pub fn check_refresh(&self, token: &str) -> Result<(String, String), String> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[self.refresh_audience()]);
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<RefreshClaims>(token, &self.decoding, &validation).map_err(|e| e.to_string())?;
        Ok((data.claims.sub, data.claims.credential))
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    /// The libtrust key id in the header.
    pub fn kid(&self) -> &str {
        self.header.kid.as_deref().unwrap_or_default()
    }

    /// A token for `subject` (empty for anonymous) carrying `access`.
    pub fn mint(&self, subject: &str, access: &[AccessEntry]) -> Result<Minted, String> {
        let issued_at = SystemTime::now();
        let now = issued_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: &self.settings.issuer,
            sub: subject,
            aud: &self.settings.service,
            exp: now + self.settings.lifetime.as_secs(),
            nbf: now.saturating_sub(1),
            iat: now,
            jti: random_id(),
            access,
        };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map_err(|e| format!("signing a token failed: {e}"))?;
        Ok(Minted {
            token,
            issued_at,
            expires_in: self.settings.lifetime,
        })
    }
}

/// The libtrust key id: the first 30 bytes of SHA-256 over the DER SubjectPublicKeyInfo,
/// base32 (RFC 4648, upper case, no padding), in 12 groups of 4 joined by `:`.
pub fn libtrust_kid(spki_der: &[u8]) -> String {
    kid_from_digest(&Sha256::digest(spki_der))
}

fn kid_from_digest(digest: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u64 = 0;
    let mut held = 0;
    let mut out = String::with_capacity(59);
    for byte in &digest[..30] {
        bits = (bits << 8) | u64::from(*byte);
        held += 8;
        while held >= 5 {
            held -= 5;
            if out.len() % 5 == 4 {
                out.push(':');
            }
            out.push(ALPHABET[((bits >> held) & 31) as usize] as char);
        }
    }
    out
}

/// The base64 body of the first PEM block in `pem` (what `x5c` carries).
fn pem_body(pem: &str) -> Result<String, String> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    STANDARD
        .decode(&body)
        .map_err(|e| format!("the certificate is not PEM: {e}"))?;
    Ok(body)
}

/// `2026-11-24T00:45:12Z`: the token response's `issued_at`.
pub fn rfc3339(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// 128 random bits, URL-safe base64: the token id.
fn random_id() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_id_matches_the_worked_libtrust_example() {
        // docs/registry.md, "Token authentication": for this SHA-256 of an RSA key's SPKI, the registry
        // accepted this kid. Check the base32 and grouping on the digest's first 30 bytes.
        let digest = hex::decode("45f5e71ea8481f4a2855bca0730c21aa8a313175f14d756d3d8741ee4dcbe6fa").unwrap();
        let kid = kid_from_digest(&digest);
        assert_eq!(kid, "IX26:OHVI:JAPU:UKCV:XSQH:GDBB:VKFD:CMLV:6FGX:K3J5:Q5A6:4TOL");
    }

    #[test]
    fn issue_times_are_written_as_rfc3339_in_utc() {
        let at = |secs: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_392_000 + 3_723), "2026-11-23T01:02:03Z");
    }

    #[test]
    fn a_generated_key_signs_tokens_with_x5c_and_kid_and_the_claims_the_registry_needs() {
        let material = KeyMaterial::generate().unwrap();
        let signer = Signer::new(
            &material,
            TokenSettings {
                issuer: "regent".into(),
                service: "registry".into(),
                lifetime: Duration::from_secs(900),
            },
        )
        .unwrap();
        assert_eq!(signer.kid().len(), 59);
        let access = [AccessEntry {
            kind: "repository".into(),
            name: "skyfield".into(),
            actions: vec!["pull".into()],
        }];
        let minted = signer.mint("greg", &access).unwrap();
        let parts: Vec<&str> = minted.token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], signer.kid());
        assert_eq!(
            header["x5c"][0].as_str().unwrap(),
            pem_body(&material.cert_pem).unwrap()
        );
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "registry", "a string, never an array");
        assert_eq!(claims["iss"], "regent");
        assert_eq!(claims["sub"], "greg");
        assert!(claims["exp"].is_u64() && claims["iat"].is_u64());
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 900);
        assert_eq!(claims["access"][0]["type"], "repository");
        assert_eq!(claims["access"][0]["actions"][0], "pull");

        let refresh = signer.mint_refresh("greg", "fingerprint").unwrap();
        assert_eq!(
            signer.check_refresh(&refresh).unwrap(),
            ("greg".into(), "fingerprint".into())
        );
        assert!(
            signer.check_refresh(&minted.token).is_err(),
            "an access token is no refresh token"
        );
        let other = Signer::new(&KeyMaterial::generate().unwrap(), signer.settings().clone()).unwrap();
        assert!(other.check_refresh(&refresh).is_err(), "another key's refresh token");
    }
}
