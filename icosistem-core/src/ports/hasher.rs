use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

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

/// Argon2id, computed on a small pool of OS threads so the calling executor keeps serving other
/// requests (the core has no runtime to `spawn_blocking` on).
///
/// The pool bounds how many hashes run at once (default: half the CPUs, at least one; see
/// [`with_max_concurrent`](Self::with_max_concurrent)). Each argon2id hash holds 19 MiB while it
/// runs, so an unbounded number of concurrent logins — a login flood from many addresses gets
/// past any per-IP rate limit — would grow memory without limit; with the pool, the peak is
/// `max_concurrent × 19 MiB` and further requests wait their turn in a queue that holds only
/// their inputs. Long-lived workers also reuse their allocator arenas instead of leaving one
/// behind per short-lived thread. The workers start on first use and exit when the last clone of
/// the hasher is dropped.
#[derive(Debug, Clone)]
pub struct Argon2idPasswordHasher {
    inner: Arc<Argon2idHasher>,
    pool: Arc<HashPool>,
}

impl Default for Argon2idPasswordHasher {
    fn default() -> Self {
        Self::with_hasher(Argon2idHasher::default())
    }
}

type HashJob = Box<dyn FnOnce(&Argon2idHasher) + Send>;

/// The queue of hash jobs and the size of the worker pool that drains it.
#[derive(Debug)]
struct HashPool {
    workers: usize,
    queue: OnceLock<Result<mpsc::Sender<HashJob>, String>>,
}

impl HashPool {
    fn new(workers: usize) -> Self {
        Self {
            workers: workers.max(1),
            queue: OnceLock::new(),
        }
    }

    /// The queue, starting the workers on first use.
    fn queue(&self, hasher: &Arc<Argon2idHasher>) -> Result<&mpsc::Sender<HashJob>, PasswordHashError> {
        self.queue
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel::<HashJob>();
                let rx = Arc::new(Mutex::new(rx));
                let mut started = 0;
                let mut last_error = None;
                for i in 0..self.workers {
                    let rx = Arc::clone(&rx);
                    let hasher = Arc::clone(hasher);
                    let spawned = std::thread::Builder::new()
                        .name(format!("icosistem-argon2-{i}"))
                        .spawn(move || {
                            loop {
                                // The lock is held only while waiting for the next job, never
                                // while hashing.
                                let job = match rx.lock() {
                                    Ok(rx) => rx.recv(),
                                    Err(_) => return,
                                };
                                match job {
                                    // A panicking job (none is expected) must not take a worker
                                    // with it: its caller sees the dropped reply as an error.
                                    Ok(job) => {
                                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&hasher)));
                                    }
                                    // Every sender dropped: the hasher is gone.
                                    Err(_) => return,
                                }
                            }
                        });
                    match spawned {
                        Ok(_) => started += 1,
                        Err(error) => last_error = Some(error.to_string()),
                    }
                }
                if started == 0 {
                    Err(last_error.unwrap_or_else(|| "no hashing thread".to_string()))
                } else {
                    Ok(tx)
                }
            })
            .as_ref()
            .map_err(|error| PasswordHashError::internal(error.clone()))
    }
}

/// Half the CPUs, at least one. A hash is pure CPU for ~50 ms: with every core hashing, a login
/// burst would stall every other request for its whole length, and each extra worker adds
/// 19 MiB to the peak. Half leaves the other cores to the rest of the API (a queued login waits a
/// little longer instead) and keeps a 2-CPU replica's peak at one hash.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Argon2idPasswordHasher {
    fn with_hasher(hasher: Argon2idHasher) -> Self {
        Self {
            inner: Arc::new(hasher),
            pool: Arc::new(HashPool::new(default_workers())),
        }
    }

    /// With OWASP parameters (m = 19 MiB, t = 2, p = 1).
    pub fn owasp() -> Self {
        Self::with_hasher(Argon2idHasher::owasp())
    }

    /// With tiny parameters: tests, examples and benches only.
    pub fn fast_for_tests() -> Self {
        Self::with_hasher(Argon2idHasher::fast_for_tests())
    }

    /// At most `n` hashes at once (at least 1); the default is half the CPUs. More than the
    /// CPUs only adds memory: the hashes are CPU-bound.
    pub fn with_max_concurrent(mut self, n: usize) -> Self {
        self.pool = Arc::new(HashPool::new(n));
        self
    }

    /// How many hashes may run at once.
    pub fn max_concurrent(&self) -> usize {
        self.pool.workers
    }

    fn off_executor<T, F>(&self, work: F) -> HashFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2idHasher) -> Result<T, PasswordHashError> + Send + 'static,
    {
        let (tx, rx) = futures_channel::oneshot::channel();
        let queued = self.pool.queue(&self.inner).and_then(|queue| {
            queue
                .send(Box::new(move |hasher: &Argon2idHasher| {
                    let _ = tx.send(work(hasher));
                }))
                .map_err(|_| PasswordHashError::internal("the hashing threads stopped".to_string()))
        });
        Box::pin(async move {
            queued?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pool_of_two_serves_many_concurrent_callers() {
        let hasher = Argon2idPasswordHasher::fast_for_tests().with_max_concurrent(2);
        assert_eq!(hasher.max_concurrent(), 2);
        let password = SecretString::new("correct horse battery staple");
        let hashes = futures::future::join_all((0..16).map(|_| hasher.hash(&password))).await;
        for phc in hashes {
            let phc = phc.expect("hashed");
            assert!(hasher.verify(&password, &phc).await.expect("verified"));
            let wrong = SecretString::new("wrong horse battery staple");
            assert!(!hasher.verify(&wrong, &phc).await.expect("verified"));
        }
    }

    #[test]
    fn at_least_one_worker() {
        assert_eq!(
            Argon2idPasswordHasher::fast_for_tests()
                .with_max_concurrent(0)
                .max_concurrent(),
            1
        );
        assert!(Argon2idPasswordHasher::default().max_concurrent() >= 1);
    }
}
