//! Password hashes and random tokens.
//!
//! Passwords are hashed with argon2id; session and API tokens are 256 random bits given to
//! the client once and stored only as their SHA-256, so a copy of the database opens no
//! session.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use crate::StoreError;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id and a fresh salt (PHC string format).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Checks a password against a stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Spends the time of one verification, so that an unknown user name answers as slowly as
/// a wrong password.
pub fn burn_verification(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("ngoso-dummy-password"));
    let _ = verify_password(password, hash);
}

/// The pool every password check and hash of a serving process runs on. argon2 takes a core
/// and about 19 MiB for a while; run on the async workers it stalls every other request, and
/// run without bound a flood of logins takes all the memory. At most `workers` computations
/// run at once and at most `queue` more wait; a caller past that is told
/// [`StoreError::Busy`] at once (the web answers 429).
#[derive(Clone)]
pub struct PasswordPool(std::sync::Arc<Slots>);

struct Slots {
    /// Computations running or waiting.
    admitted: Semaphore,
    /// Computations running.
    running: Semaphore,
}

impl PasswordPool {
    /// A pool of `workers` computations at once (at least one) and `queue` waiting.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        PasswordPool(std::sync::Arc::new(Slots {
            admitted: Semaphore::new(workers + queue),
            running: Semaphore::new(workers),
        }))
    }

    /// One worker per core, and 64 waiting.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2), 64)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
        let _admitted = self.0.admitted.try_acquire().map_err(|_| StoreError::Busy)?;
        let _running = self.0.running.acquire().await.map_err(|_| StoreError::Busy)?;
        tokio::task::spawn_blocking(f).await.map_err(|_| StoreError::Busy)
    }

    /// [`verify_password`] on the pool.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, StoreError> {
        let (password, hash) = (password.to_owned(), hash.to_owned());
        self.run(move || verify_password(&password, &hash)).await
    }

    /// [`burn_verification`] on the pool.
    pub async fn burn(&self, password: &str) -> Result<(), StoreError> {
        let password = password.to_owned();
        self.run(move || burn_verification(&password)).await
    }

    /// [`hash_password`] on the pool.
    pub async fn hash(&self, password: &str) -> Result<String, StoreError> {
        let password = password.to_owned();
        self.run(move || hash_password(&password)).await
    }
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPool").field("running", &self.0.running.available_permits()).finish()
    }
}

/// A new random token: 32 bytes, lower-case hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A random password of 16 letters and digits, easy to read aloud (no 0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// The stored form of a token: SHA-256, lower-case hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("mật khẩu 🔑 dài");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu 🔑 dài", &h));
        assert!(!verify_password("mat khau", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
    }
}
