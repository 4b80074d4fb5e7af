//! Schema helpers that take a field's rule from the core, so the OpenAPI document states what the
//! validators enforce: an enum's accepted values are the core type's `ALL` names, not a copy.
//!
//! Bounds that JSON Schema carries as literals (`maxLength = 200`) are pinned to the core's
//! validators by the agreement test of `crate::openapi`.

use icosistem_core::model::value::Currency;
use icosistem_core::model::{
    ApplicationStatus, ClientType, EnrollmentStatus, EntrepreneurStage, FundingStage, MeetingStatus, MemberRole,
    MentorshipStatus, MilestoneStatus, NotificationStatus, OrganizationStatus, OrganizationType, ParticipantResponse,
    Priority, ProgramFormat, ProgramStatus, ProgramType, ProjectStage, ProjectStatus, ProjectType, Role, SessionStatus,
    TaskStatus, UserStatus,
};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Object, schema::SchemaType};

/// A closed set of names the core accepts for a field.
pub trait Vocabulary {
    /// Every accepted name, in the core's order.
    fn names() -> Vec<&'static str>;
}

macro_rules! vocabularies {
    ($($ty:ty),+ $(,)?) => {$(
        impl Vocabulary for $ty {
            fn names() -> Vec<&'static str> {
                <$ty>::ALL.iter().map(|value| value.as_str()).collect()
            }
        }
    )+};
}

vocabularies!(
    ApplicationStatus,
    ClientType,
    EnrollmentStatus,
    EntrepreneurStage,
    FundingStage,
    MeetingStatus,
    MemberRole,
    MentorshipStatus,
    MilestoneStatus,
    NotificationStatus,
    OrganizationStatus,
    OrganizationType,
    ParticipantResponse,
    Priority,
    ProgramFormat,
    ProgramStatus,
    ProgramType,
    ProjectStage,
    ProjectStatus,
    ProjectType,
    Role,
    SessionStatus,
    TaskStatus,
    UserStatus,
);

impl Vocabulary for Currency {
    fn names() -> Vec<&'static str> {
        Currency::ALL.iter().map(|c| c.code()).collect()
    }
}

/// A string that is one of `T`'s names.
pub fn one_of<T: Vocabulary>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::names()))
        .build()
}

/// One of `T`'s names, or `null` (an optional field: `null` is the same as absent).
pub fn one_of_or_null<T: Vocabulary>() -> Object {
    let mut names: Vec<serde_json::Value> = T::names().into_iter().map(Into::into).collect();
    names.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(names))
        .build()
}

/// One of `T`'s names, or empty (a query filter: empty is the same as absent).
pub fn one_of_or_empty<T: Vocabulary>() -> Object {
    let mut names = T::names();
    names.push("");
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// The roles one may register as: every role but `admin` (admins are created by admins).
pub fn self_registered_role() -> Object {
    let names: Vec<&str> = Role::ALL
        .iter()
        .filter(|role| **role != Role::Admin)
        .map(|role| role.as_str())
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .build()
}

/// A tax id as the core's `parse_tax_id` takes it: at least 5 ASCII letters or digits and at
/// most 50 characters; empty or `null` is none. Any separators are allowed, as there.
pub fn tax_id() -> Object {
    ObjectBuilder::new()
        .description(Some(
            "Tax id: at least 5 letters or digits, at most 50 characters, unique; empty or `null`: none.",
        ))
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(50))
        .pattern(Some(r"^(?:(?:[^A-Za-z0-9]*[A-Za-z0-9]){5}|\s*$)"))
        .build()
}
