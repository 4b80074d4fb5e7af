//! What the reference-model property tests (`application_state_machine`,
//! `session_state_machine`, `task_dependencies`) share: the in-memory ecosystem on a manual
//! clock, their users, and the proptest runner that keeps failing cases and reports the
//! minimal one.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

use icosistem_core::Context;
use icosistem_core::Ecosystem;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::{Role, User};
use icosistem_core::ports::{Argon2idPasswordHasher, ManualClock, RecordingNotifier};
use icosistem_core::service::AdminCreateUser;
use icosistem_store_memory::MemoryStore;

pub(crate) type Eco = Ecosystem<MemoryStore, RecordingNotifier, Arc<ManualClock>>;

pub(crate) const PASSWORD: &str = "Tangerine-Orbit-Lantern-907";

/// `hour`:00 UTC on the day `(year, month, day)`.
pub(crate) fn instant((year, month, day): (i32, u32, u32), hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("valid instant")
}

/// An ecosystem on a fresh memory store whose clock stands at `t0` (and the clock, to move it),
/// with the fast password hasher: the models create users in every case.
pub(crate) fn ecosystem(t0: DateTime<Utc>) -> (Eco, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t0));
    let eco = Ecosystem::new(MemoryStore::new(), RecordingNotifier::new(), Arc::clone(&clock))
        .with_hasher(Argon2idPasswordHasher::fast_for_tests());
    (eco, clock)
}

/// A verified user `first last` of `role`, created by the system like an admin would.
pub(crate) async fn create_user(eco: &Eco, first: &str, last: &str, role: Role) -> User {
    eco.admin_create_user(
        &Context::system(),
        AdminCreateUser {
            email: format!("{}.{}@model.test", first.to_lowercase(), last.to_lowercase()),
            password: SecretString::new(PASSWORD),
            first_name: first.into(),
            last_name: last.into(),
            role,
        },
    )
    .await
    .expect("bootstrap user")
}

/// Runs `check` on 256 scenarios of `scenarios`. Failing scenarios are kept in
/// `proptest-regressions/<name>.txt` (and replayed first); a failure panics with the minimal
/// failing scenario.
pub(crate) fn check_model<S, F>(name: &str, scenarios: S, check: F)
where
    S: Strategy,
    S::Value: Debug,
    F: Fn(S::Value) -> Result<(), TestCaseError>,
{
    // `FileFailurePersistence::Direct` wants a `'static` path; one leak per test binary.
    let path = format!("{}/proptest-regressions/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    let config = Config {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path.leak()))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    if let Err(error) = runner.run(&scenarios, check) {
        match error {
            TestError::Fail(reason, minimal) => panic!("{reason}\nminimal failing scenario: {minimal:#?}"),
            TestError::Abort(reason) => panic!("aborted: {reason}"),
        }
    }
}

/// Runs one scenario's future to its end on a current-thread runtime of its own.
pub(crate) fn block_on<F: Future>(scenario: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(scenario)
}

/// The coverage report's table: one `kind outcome count` row per outcome seen, kinds right- and
/// outcomes left-aligned to the given widths.
pub(crate) fn outcome_table(
    outcomes: &BTreeMap<(String, String), u64>,
    kind_width: usize,
    outcome_width: usize,
) -> String {
    outcomes
        .iter()
        .map(|((kind, outcome), n)| format!("{kind:>kind_width$} {outcome:<outcome_width$} {n}\n"))
        .collect()
}
