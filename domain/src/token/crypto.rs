//! The signing backend behind `jsonwebtoken` for ES256: `ring`, with each key parsed once.
//!
//! `jsonwebtoken`'s RustCrypto backend parses the PKCS#8 key (computing its public key) and
//! signs in pure Rust on every token: about 0.5 ms, which capped the token service near 2,700
//! tokens/s on 2 cores. This provider signs ES256 with `ring` (the same library rustls uses
//! here) from a key pair parsed once per key and kept, and hands every other algorithm (and
//! all verification) to the RustCrypto backend unchanged. Tokens are still made by
//! `jsonwebtoken::encode`; only the arithmetic underneath changes.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, KeyUtils, rust_crypto};
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: rust_crypto::DEFAULT_PROVIDER.verifier_factory,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: RUST_CRYPTO.rsa_pub_components_from_private_key,
        rsa_pub_components_from_public_key: RUST_CRYPTO.rsa_pub_components_from_public_key,
        ec_pub_components_from_private_key: RUST_CRYPTO.ec_pub_components_from_private_key,
        ed_pub_components_from_private_key: RUST_CRYPTO.ed_pub_components_from_private_key,
        compute_digest: RUST_CRYPTO.compute_digest,
    },
};
static RUST_CRYPTO: &KeyUtils = &rust_crypto::DEFAULT_PROVIDER.key_utils;

/// Makes this provider `jsonwebtoken`'s for the process (first call wins; later calls and a
/// provider installed elsewhere first are left alone).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

/// Key pairs by their PKCS#8 bytes: a process signs with one or two keys.
fn key_pair(pkcs8: &[u8]) -> Result<Arc<EcdsaKeyPair>, jsonwebtoken::errors::Error> {
    static PAIRS: OnceLock<Mutex<HashMap<Vec<u8>, Arc<EcdsaKeyPair>>>> = OnceLock::new();
    let pairs = PAIRS.get_or_init(Default::default);
    if let Some(pair) = pairs.lock().unwrap_or_else(|p| p.into_inner()).get(pkcs8) {
        return Ok(pair.clone());
    }
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
        .map_err(|_| jsonwebtoken::errors::Error::from(jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey))?;
    let pair = Arc::new(pair);
    let mut pairs = pairs.lock().unwrap_or_else(|p| p.into_inner());
    if pairs.len() > 16 {
        pairs.clear();
    }
    pairs.insert(pkcs8.to_vec(), pair.clone());
    Ok(pair)
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    match algorithm {
        Algorithm::ES256 => Ok(Box::new(RingEs256(key_pair(key.as_bytes())?))),
        _ => (rust_crypto::DEFAULT_PROVIDER.signer_factory)(algorithm, key),
    }
}

struct RingEs256(Arc<EcdsaKeyPair>);

impl signature::Signer<Vec<u8>> for RingEs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        // FIXED signing gives r ‖ s, 64 bytes: exactly the JWS ES256 signature.
        self.0
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for RingEs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}
