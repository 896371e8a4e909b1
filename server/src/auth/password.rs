//! Passwords are kept only as Argon2id hashes (PHC strings). Hashing is slow on purpose:
//! callers run it on the password threads (`login_guard`).
//!
//! Each hash or check needs `memory_kib` of working memory (19 MiB by default), allocated
//! for the call and freed after it. It comes from mimalloc, set to give freed pages back
//! soon after (`memory::tune_allocator`), so such a block goes back to the system once
//! logins stop (and, in a flood, is taken again rather than faulted in anew).
//! On glibc's moving threshold for mapping blocks they stayed in its arenas (RSS grew to
//! 1.2 GB in a 300-login flood), and then each password thread kept its own 19 MiB for
//! good (76 MiB of a server at rest).

use argon2::password_hash::phc::{Ident, Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Argon2 cost settings. Production uses the crate's recommended defaults; tests use
/// the cheapest allowed ones.
#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl HashCost {
    pub const RECOMMENDED: HashCost = HashCost {
        memory_kib: Params::DEFAULT_M_COST,
        iterations: Params::DEFAULT_T_COST,
    };
    pub const CHEAP_FOR_TESTS: HashCost = HashCost {
        memory_kib: Params::MIN_M_COST,
        iterations: 1,
    };
}

/// Runs Argon2 for `password` and `salt` into `out`, in working memory of its own.
fn argon2_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let mut memory = vec![Block::default(); params.block_count()];
    argon.hash_password_into_with_memory(password, salt, out, &mut memory)
}

pub fn hash(password: &str, cost: HashCost) -> anyhow::Result<String> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt_bytes: [u8; 16] = rand::random();
    let salt = Salt::new(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, &params, password.as_bytes(), &salt, &mut out)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Ident::new(Algorithm::Argon2id.as_str()).map_err(|e| anyhow::anyhow!("{e}"))?,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// True when `password` matches `stored`. A malformed stored hash never matches. The
/// comparison takes the same time wherever the outputs differ.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let Some(out) = buffer.get_mut(..expected.len()) else {
        return false;
    };
    if argon2_into(&argon, &params, password.as_bytes(), salt, out).is_err() {
        return false;
    }
    Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier as _;

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash("correct horse", HashCost::CHEAP_FOR_TESTS).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("battery staple", &stored));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        // Ours verifies by the crate's rules, and the crate verifies ours.
        let ours = hash("correct horse", HashCost::CHEAP_FOR_TESTS).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let theirs = {
            use argon2::password_hash::PasswordHasher as _;
            Argon2::default()
                .hash_password(b"s3cret")
                .unwrap()
                .to_string()
        };
        assert!(verify("s3cret", &theirs));
        assert!(!verify("s3cret!", &theirs));
    }
}
