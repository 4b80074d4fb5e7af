//! The state machines of docs/domain.md §4, one module each.
//!
//! Every transition is a pure function of (current state, command, facts the guard needs) that
//! returns the new state and the domain events it produced, or a typed error
//! ([`Error::InvalidTransition`] for a move the graph
//! does not allow). No function here reads a clock or a store: the service layer loads the
//! facts, calls the transition and persists what it returns.

pub mod account;
pub mod application;
pub mod enrollment;
pub mod meeting;
pub mod mentorship;
pub mod milestone;
pub mod program;
pub mod project;
pub mod rounds;
pub mod session;
pub mod task;

use crate::error::Error;

/// Names a state or a command by its stable snake_case name (used in errors and audit).
pub trait StateName: Copy {
    /// The snake_case name (`under_review`).
    fn name(self) -> &'static str;
}

/// A declarative transition table: `(from, command, to)` rows. Used by the simple machines
/// whose guards are only "is this move in the graph".
pub(crate) fn lookup<S, C>(entity: &'static str, table: &[(S, C, S)], from: S, command: C) -> Result<S, Error>
where
    S: StateName + PartialEq,
    C: StateName + PartialEq,
{
    table
        .iter()
        .find(|(f, c, _)| *f == from && *c == command)
        .map(|(_, _, to)| *to)
        .ok_or(Error::invalid_transition(entity, from.name(), command.name()))
}

/// Checks a table-driven machine over every state and command: each pair of `table` moves to its
/// row's state, every other pair is refused as an invalid transition of `entity`.
#[cfg(test)]
pub(crate) fn assert_machine<S, C>(
    entity: &str,
    states: &[S],
    commands: &[C],
    table: &[(S, C, S)],
    transition: impl Fn(S, C) -> Result<S, Error>,
) where
    S: StateName + PartialEq + std::fmt::Debug,
    C: StateName + PartialEq + std::fmt::Debug,
{
    for &from in states {
        for &cmd in commands {
            let expected = table.iter().find(|(f, c, _)| *f == from && *c == cmd).map(|r| r.2);
            match (transition(from, cmd), expected) {
                (Ok(to), Some(want)) => assert_eq!(to, want, "{} -{}->", from.name(), cmd.name()),
                (Err(Error::InvalidTransition { entity: e, .. }), None) if e == entity => {}
                (got, want) => panic!("{} -{}->: got {got:?}, want {want:?}", from.name(), cmd.name()),
            }
        }
    }
}

/// Declares a snake_case enum with `name()`, `ALL`, `FromStr` and serde in one place.
macro_rules! snake_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $crate::workflow::StateName for $name {
            fn name(self) -> &'static str { self.as_str() }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::FieldError::new(
                        stringify!($name),
                        concat!("must be one of: ", $($text, " "),+),
                    )),
                }
            }
        }
    };
}
pub(crate) use snake_enum;
