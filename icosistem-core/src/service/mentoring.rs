//! Mentorships, allies, availability and matching (DOMAIN.md §4.5, §4.7).
