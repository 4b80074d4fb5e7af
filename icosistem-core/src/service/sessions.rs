//! Mentorship sessions (DOMAIN.md §4.6).
