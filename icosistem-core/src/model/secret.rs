//! Secrets: a string that never prints, password hashing with argon2id, and opaque tokens that
//! are stored only as their SHA-256.

use std::fmt;

use argon2::password_hash::{Error as HashError, PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A secret (a password as typed, a raw token) that prints as `[redacted]` in `Debug` and
/// `Display`, so it cannot leak through a log line or an error message. It deliberately has no
/// `Serialize`: a secret never goes back out.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that needs it (hashing, comparing).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why hashing or verifying a password failed (not a wrong password: that is `Ok(false)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordHashError {
    /// The stored hash is not a PHC string this verifier understands.
    #[error("malformed password hash: {0}")]
    MalformedHash(String),
    /// The hashing itself failed (random source, memory, parameters).
    #[error("password hashing failed: {0}")]
    Internal(String),
}

impl PasswordHashError {
    /// A hashing failure (random source, thread, memory) described by `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// A stored hash that cannot be read, described by `message`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::MalformedHash(message.into())
    }
}

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const OWASP_PARAMS: Params = match Params::new(19 * 1024, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("OWASP argon2 parameters are valid"),
};

/// The smallest parameters argon2 allows: 8 KiB, 1 pass, 1 lane.
const FAST_PARAMS: Params = match Params::new(8, 1, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("minimal argon2 parameters are valid"),
};

/// Hashes passwords with argon2id into PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) and
/// verifies them. Verification reads the algorithm and parameters from the stored string, so
/// hashes made under older or test parameters keep verifying after the parameters change.
///
/// Hashing with the OWASP parameters takes tens of milliseconds of CPU: callers on an async
/// executor must run it on a blocking thread.
#[derive(Debug, Clone)]
pub struct Argon2idHasher {
    params: Params,
}

impl Argon2idHasher {
    /// Argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1). The production choice.
    pub fn owasp() -> Self {
        Self { params: OWASP_PARAMS }
    }

    /// Argon2id with the smallest parameters argon2 allows (m = 8 KiB, t = 1, p = 1), so tests
    /// hash in microseconds. **Tests only**: these hashes are cheap to brute-force.
    pub fn fast_for_tests() -> Self {
        Self { params: FAST_PARAMS }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of `password` with a fresh random salt.
    pub fn hash_password(&self, password: &str) -> Result<String, PasswordHashError> {
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| PasswordHashError::Internal(e.to_string()))
    }

    /// Whether `password` matches the PHC string `phc`: `Ok(false)` on a mismatch, an error only
    /// when `phc` is malformed or hashing fails.
    pub fn verify_password(&self, password: &str, phc: &str) -> Result<bool, PasswordHashError> {
        let parsed = parse_phc(phc)?;
        match self.argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(HashError::PasswordInvalid) => Ok(false),
            Err(
                e @ (HashError::Algorithm
                | HashError::Version
                | HashError::EncodingInvalid
                | HashError::ParamInvalid { .. }
                | HashError::ParamsInvalid
                | HashError::SaltInvalid
                | HashError::OutputSize),
            ) => Err(PasswordHashError::MalformedHash(e.to_string())),
            Err(e) => Err(PasswordHashError::Internal(e.to_string())),
        }
    }

    /// Whether `phc` was made with other than this hasher's algorithm, version or parameters,
    /// so that it should be re-hashed at the next successful login.
    pub fn needs_rehash(&self, phc: &str) -> Result<bool, PasswordHashError> {
        let parsed = parse_phc(phc)?;
        let params = Params::try_from(&parsed).map_err(|e| PasswordHashError::MalformedHash(e.to_string()))?;
        let same = parsed.algorithm.as_str() == Algorithm::Argon2id.as_str()
            && parsed.version == Some(Version::V0x13.into())
            && params.m_cost() == self.params.m_cost()
            && params.t_cost() == self.params.t_cost()
            && params.p_cost() == self.params.p_cost();
        Ok(!same)
    }
}

impl Default for Argon2idHasher {
    fn default() -> Self {
        Self::owasp()
    }
}

/// Parses a PHC string and insists on a salt and a hash: without them the generic verifier
/// would answer "wrong password" for what is really a corrupt row.
fn parse_phc(phc: &str) -> Result<PasswordHash, PasswordHashError> {
    let parsed = PasswordHash::new(phc).map_err(|e| PasswordHashError::MalformedHash(e.to_string()))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(PasswordHashError::MalformedHash("missing salt or hash".to_owned()));
    }
    Ok(parsed)
}

/// Random bytes in an opaque token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A fresh opaque token (refresh, email verification, password reset): 32 random bytes from the
/// OS, base64url without padding (43 chars). Give it to the client; store only
/// [`hash_token`] of it.
///
/// # Panics
///
/// When the operating system's random source fails, which leaves nothing safe to do; use
/// [`try_generate_token`] to handle that instead.
pub fn generate_token() -> String {
    match try_generate_token() {
        Ok(token) => token,
        Err(e) => panic!("the OS random source failed: {e}"),
    }
}

/// [`generate_token`], answering the random source's failure instead of panicking.
pub fn try_generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of `token`, lowercase hex (64 chars): what is stored at rest, so a leaked table
/// holds no usable token. A plain hash suffices because tokens carry 256 random bits.
pub fn hash_token(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Compares two token hashes in time independent of where they differ, so response timing does
/// not reveal how much of a guessed hash was right. Different lengths answer `false` at once
/// (the length of a SHA-256 hex string is no secret).
pub fn tokens_match(a_hash: &str, b_hash: &str) -> bool {
    let (a, b) = (a_hash.as_bytes(), b_hash.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(diff) == 0
}
