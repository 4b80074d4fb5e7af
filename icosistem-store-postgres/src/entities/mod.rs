//! The `PgEntity` mapping of every entity, grouped like the core's model.

mod calendar;
mod document;
mod identity;
mod inbox;
mod mentoring;
mod messaging;
mod organization;
mod program;
mod project;
mod webhook;
