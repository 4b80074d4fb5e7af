//! What the in-memory benches (`selection`, `mentoring`) share: the ecosystem type, the users'
//! password, the runtime and the timing of a routine apart from its fixture.

use std::time::{Duration, Instant};

use icosistem_core::model::{Role, User};
use icosistem_core::ports::{ManualClock, RecordingNotifier};
use icosistem_core::service::AdminCreateUser;
use icosistem_core::{Context, Ecosystem};
use icosistem_store_memory::MemoryStore;
use tokio::runtime::Runtime;

pub(crate) type Eco = Ecosystem<MemoryStore, RecordingNotifier, ManualClock>;

pub(crate) const PASSWORD: &str = "Quebrada-del-Condor-2027";

pub(crate) fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A verified, active user created by the platform (no email round-trip needed).
pub(crate) async fn user(eco: &Eco, email: &str, role: Role) -> User {
    eco.admin_create_user(
        &Context::system(),
        AdminCreateUser {
            email: email.into(),
            password: PASSWORD.into(),
            first_name: "Bench".into(),
            last_name: "User".into(),
            role,
        },
    )
    .await
    .expect("create user")
}

/// Runs `routine` `iters` times and returns the time spent in it alone. A fresh fixture is built
/// by `setup` (untimed) every `chunk` runs, so tables stay at a realistic, stable size instead of
/// growing with the iteration count; `routine` gets the fixture and the run's index within it.
pub(crate) async fn timed_in_chunks<F>(
    iters: u64,
    chunk: u64,
    mut setup: impl AsyncFnMut(u64) -> F,
    mut routine: impl AsyncFnMut(&F, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = chunk.min(iters - done);
        let fixture = setup(n).await;
        let start = Instant::now();
        for i in 0..n {
            routine(&fixture, i).await;
        }
        total += start.elapsed();
        done += n;
        // The fixture is dropped here, outside the timed section.
    }
    total
}
