//! Cross-crate integration tests of Icosistem; the tests live in `tests/`.
//!
//! The README is included below so that its Rust examples are compiled and run as doctests:
//! the front door never shows code that does not build.
#![doc = include_str!("../../README.md")]
