//! Signed, expiring bearer tokens (HS256 JWT). Auth issues them; every context verifies
//! them locally with the shared secret, never asking auth.

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
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked against the application's clock (see `verify`), not the host's.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
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
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
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
