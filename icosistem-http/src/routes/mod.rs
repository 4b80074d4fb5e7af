//! The handlers, one module per group of paths.

pub(crate) mod auth;
pub(crate) mod health;
pub(crate) mod users;
