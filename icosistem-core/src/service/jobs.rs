//! Time-driven jobs (DOMAIN.md §4.9).
