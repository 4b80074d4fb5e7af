//! Criterion benches of Icosistem; see `benches/`.
