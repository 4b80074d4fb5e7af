//! The `PgEntity` mapping of every entity, grouped like the core's model.

mod identity;
