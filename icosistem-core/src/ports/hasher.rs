use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::model::secret::{Argon2idHasher, PasswordHashError, SecretString};

/// A boxed future of a hashing operation. The port is object-safe (boxed futures rather than
/// `impl Future`) because services hold it as `Arc<dyn PasswordHasher>`: one hasher serves
/// every use case and tests swap in cheap parameters without a type parameter everywhere.
pub type HashFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PasswordHashError>> + Send + 'a>>;

/// Password hashing. Implementations must not block the async executor: argon2id with OWASP
/// parameters takes tens of milliseconds of CPU.
pub trait PasswordHasher: Send + Sync + 'static {
    /// A PHC string for `password` with a fresh salt.
    fn hash<'a>(&'a self, password: &'a SecretString) -> HashFuture<'a, String>;
    /// Whether `password` matches the PHC string `phc`; `Ok(false)` on mismatch.
    fn verify<'a>(&'a self, password: &'a SecretString, phc: &'a str) -> HashFuture<'a, bool>;
}

/// Argon2id, computed on a short-lived OS thread so the calling executor keeps serving other
/// requests (the core has no runtime to `spawn_blocking` on; a thread per hash costs ~20 µs next
/// to the ~20 ms of the hash itself, and the HTTP layer's rate limits bound how many run at once).
#[derive(Debug, Clone, Default)]
pub struct Argon2idPasswordHasher {
    inner: Arc<Argon2idHasher>,
}

impl Argon2idPasswordHasher {
    /// With OWASP parameters (m = 19 MiB, t = 2, p = 1).
    pub fn owasp() -> Self {
        Self {
            inner: Arc::new(Argon2idHasher::owasp()),
        }
    }

    /// With tiny parameters: tests, examples and benches only.
    pub fn fast_for_tests() -> Self {
        Self {
            inner: Arc::new(Argon2idHasher::fast_for_tests()),
        }
    }

    fn off_executor<T, F>(&self, work: F) -> HashFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2idHasher) -> Result<T, PasswordHashError> + Send + 'static,
    {
        let hasher = Arc::clone(&self.inner);
        let (tx, rx) = futures_channel::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("icosistem-argon2".into())
            .spawn(move || {
                let _ = tx.send(work(&hasher));
            });
        Box::pin(async move {
            if let Err(error) = spawned {
                return Err(PasswordHashError::internal(error.to_string()));
            }
            rx.await
                .unwrap_or_else(|_| Err(PasswordHashError::internal("hashing thread panicked".to_string())))
        })
    }
}

impl PasswordHasher for Argon2idPasswordHasher {
    fn hash<'a>(&'a self, password: &'a SecretString) -> HashFuture<'a, String> {
        let password = password.clone();
        self.off_executor(move |h| h.hash_password(password.expose()))
    }

    fn verify<'a>(&'a self, password: &'a SecretString, phc: &'a str) -> HashFuture<'a, bool> {
        let password = password.clone();
        let phc = phc.to_owned();
        self.off_executor(move |h| h.verify_password(password.expose(), &phc))
    }
}
