//! Signed, expiring bearer tokens (JWT). Auth issues them; every context verifies them
//! locally, never asking auth. Either with a shared secret (HS256: whoever verifies could
//! also mint), or, preferred in split mode, with an Ed25519 key pair (EdDSA): only auth
//! holds the private key, the other services get the public one and can only verify.

use crate::error::Error;
use ates_shared::Role;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub username: String,
    pub role: Role,
    /// The user's access version when the token was issued (0 in tokens from before
    /// versions existed): a later role or active change makes the token invalid.
    #[serde(default)]
    pub ver: u32,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
}

pub struct Tokens {
    /// `None` for a service that only verifies (it was given the public key alone).
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    algorithm: Algorithm,
    validation: Validation,
    ttl: Duration,
}

impl Tokens {
    /// HS256 with a shared secret.
    pub fn new(secret: &[u8], ttl: Duration) -> Tokens {
        Tokens::with_keys(
            Algorithm::HS256,
            Some(EncodingKey::from_secret(secret)),
            DecodingKey::from_secret(secret),
            ttl,
        )
    }

    /// EdDSA: `public_pem` (SPKI) verifies; `private_pem` (PKCS#8), given to auth only,
    /// also signs.
    pub fn ed25519(
        private_pem: Option<&[u8]>,
        public_pem: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<Tokens> {
        let encoding = private_pem
            .map(EncodingKey::from_ed_pem)
            .transpose()
            .map_err(|e| {
                anyhow::anyhow!("the token private key is not an Ed25519 PKCS#8 PEM: {e}")
            })?;
        let decoding = DecodingKey::from_ed_pem(public_pem)
            .map_err(|e| anyhow::anyhow!("the token public key is not an Ed25519 PEM: {e}"))?;
        let tokens = Tokens::with_keys(Algorithm::EdDSA, encoding, decoding, ttl);
        // A private key that does not belong to the public key would mint tokens nobody
        // accepts: refuse at start rather than at every login.
        if tokens.encoding.is_some() {
            let now = Utc::now();
            let (token, _) = tokens.issue(Uuid::nil(), "key-check", Role::Worker, 0, now)?;
            anyhow::ensure!(
                tokens.verify(&token, now).is_ok(),
                "the token private key does not match the public key"
            );
        }
        Ok(tokens)
    }

    fn with_keys(
        algorithm: Algorithm,
        encoding: Option<EncodingKey>,
        decoding: DecodingKey,
        ttl: Duration,
    ) -> Tokens {
        let mut validation = Validation::new(algorithm);
        // Expiry is checked against the application's clock (see `verify`), not the host's.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Tokens {
            encoding,
            decoding,
            algorithm,
            validation,
            ttl,
        }
    }

    /// A new Ed25519 key pair as (private PKCS#8 PEM, public SPKI PEM).
    pub fn generate_ed25519() -> anyhow::Result<(String, String)> {
        use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
        let seed: [u8; 32] = rand::random();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let private = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
        let public = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
        Ok((private.to_string(), public))
    }

    /// A token for `user`, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        id: Uuid,
        username: &str,
        role: Role,
        access_version: u32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: id,
            username: username.to_owned(),
            role,
            ver: access_version,
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
        };
        let encoding = self.encoding.as_ref().ok_or_else(|| {
            anyhow::anyhow!("this service has only the public key: tokens are issued by auth")
        })?;
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, encoding)?;
        Ok((token, expires_at))
    }

    /// The claims of a genuine, unexpired token; 401 otherwise.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, Error> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| {
                Error::Unauthorized("the bearer token is not valid; log in again".into())
            })?;
        if data.claims.exp <= now.timestamp() {
            return Err(Error::Unauthorized(
                "the bearer token has expired; log in again".into(),
            ));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_until_it_expires() {
        let tokens = Tokens::new(b"secret", Duration::minutes(10));
        let now = Utc::now();
        let id = Uuid::now_v7();
        let (token, expires_at) = tokens.issue(id, "ann", Role::Worker, 1, now).unwrap();
        assert_eq!(expires_at, now + Duration::minutes(10));
        let claims = tokens.verify(&token, now + Duration::minutes(9)).unwrap();
        assert_eq!((claims.sub, claims.role), (id, Role::Worker));
        assert!(tokens.verify(&token, now + Duration::minutes(11)).is_err());
    }

    #[test]
    fn with_a_key_pair_only_the_private_key_signs_and_the_public_key_verifies() {
        let (private, public) = Tokens::generate_ed25519().unwrap();
        let ttl = Duration::minutes(10);
        let auth = Tokens::ed25519(Some(private.as_bytes()), public.as_bytes(), ttl).unwrap();
        let service = Tokens::ed25519(None, public.as_bytes(), ttl).unwrap();
        let now = Utc::now();
        let (token, _) = auth
            .issue(Uuid::now_v7(), "ann", Role::Worker, 1, now)
            .unwrap();
        assert!(service.verify(&token, now).is_ok());
        assert!(
            service
                .issue(Uuid::now_v7(), "eve", Role::Admin, 1, now)
                .is_err(),
            "a service with the public key cannot mint"
        );
        // Neither an HS256 token nor another pair's token passes.
        let (hs, _) = Tokens::new(public.as_bytes(), ttl)
            .issue(Uuid::now_v7(), "eve", Role::Admin, 1, now)
            .unwrap();
        assert!(service.verify(&hs, now).is_err());
        let (other_private, other_public) = Tokens::generate_ed25519().unwrap();
        let other =
            Tokens::ed25519(Some(other_private.as_bytes()), other_public.as_bytes(), ttl).unwrap();
        let (forged, _) = other
            .issue(Uuid::now_v7(), "eve", Role::Admin, 1, now)
            .unwrap();
        assert!(service.verify(&forged, now).is_err());
        assert!(
            Tokens::ed25519(Some(other_private.as_bytes()), public.as_bytes(), ttl).is_err(),
            "a mismatched pair is refused at start"
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let now = Utc::now();
        let (token, _) = Tokens::new(b"other", Duration::minutes(10))
            .issue(Uuid::now_v7(), "eve", Role::Admin, 1, now)
            .unwrap();
        assert!(
            Tokens::new(b"secret", Duration::minutes(10))
                .verify(&token, now)
                .is_err()
        );
        assert!(
            Tokens::new(b"secret", Duration::minutes(10))
                .verify("garbage", now)
                .is_err()
        );
    }
}
