//! Tasks and dependencies (DOMAIN.md §4.8).
