//! [`Expect`]: the version a caller expects an entity to be at when it changes it.

/// The version a command expects its entity to be at (optimistic concurrency): a stale
/// expectation is refused with `Conflict { field: "version" }` before any work, so an edit made
/// on an old copy never overwrites a newer one.
///
/// Commands take `impl Into<Expect>`, so `None`/`Some(v)` (an optional `If-Match`) and a bare
/// `u64` work as well as the named values:
///
/// ```
/// use icosistem_core::Expect;
///
/// assert_eq!(Expect::from(None), Expect::Any);
/// assert_eq!(Expect::from(Some(3)), Expect::Version(3));
/// assert_eq!(Expect::from(3), Expect::Version(3));
/// assert!(Expect::Any.allows(7) && Expect::Version(7).allows(7) && !Expect::Version(6).allows(7));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Expect {
    /// Whatever the current version is (last write wins; the store still serializes writers).
    #[default]
    Any,
    /// Exactly this version (what the caller read last).
    Version(u64),
}

impl Expect {
    /// Whether an entity at `current` meets this expectation.
    pub fn allows(self, current: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Version(v) => v == current,
        }
    }

    /// The expected version, if one was named.
    pub fn version(self) -> Option<u64> {
        match self {
            Self::Any => None,
            Self::Version(v) => Some(v),
        }
    }
}

impl From<Option<u64>> for Expect {
    fn from(version: Option<u64>) -> Self {
        version.map_or(Self::Any, Self::Version)
    }
}

impl From<u64> for Expect {
    fn from(version: u64) -> Self {
        Self::Version(version)
    }
}

impl From<Expect> for Option<u64> {
    fn from(expect: Expect) -> Self {
        expect.version()
    }
}
