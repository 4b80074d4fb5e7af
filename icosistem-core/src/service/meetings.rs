//! Meetings and participants (DOMAIN.md §4.8).
