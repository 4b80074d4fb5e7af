//! Cross-crate integration tests of Icosistem; the tests live in `tests/`.
