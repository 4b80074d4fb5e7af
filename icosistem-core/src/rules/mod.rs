//! Validators: pure functions that report *every* failing field at once.
//!
//! - [`common`]: reusable rules (the deployment guide's `validate_future_date` and
//!   `validate_positive_number`, ranges, lengths, date order, the password policy);
//! - [`program`]: a program's shape (window, dates, sizes) and the eligibility of an
//!   application.

pub mod common;
pub mod program;
