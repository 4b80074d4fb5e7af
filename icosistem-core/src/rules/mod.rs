//! Validators: pure functions that report *every* failing field at once.
//!
//! - [`cohort`]: whole-cohort mentor matching, an exact assignment under seats and conflicts;
//! - [`documents`]: an upload's file name and content type (sniffed), polyglots refused;
//! - [`delivery`]: the outbox's retry delays (exponential backoff with jitter);
//! - [`common`]: reusable rules (the deployment guide's `validate_future_date` and
//!   `validate_positive_number`, ranges, lengths, date order, the password policy);
//! - [`availability`]: weekly slots in the ally's time zone and the free slots they offer;
//! - [`matching`]: the entrepreneur–ally match score and its reasons;
//! - [`program`]: a program's shape (window, dates, sizes) and the eligibility of an
//!   application.
//! - [`rounds`]: a program's review rounds, validated as data.

pub mod availability;
pub mod cohort;
pub mod common;
pub mod delivery;
pub mod documents;
pub mod matching;
pub mod program;
pub mod rounds;
