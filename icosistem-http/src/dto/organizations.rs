//! Organizations, their members, programs and enrollments.

use chrono::{DateTime, NaiveDate, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::Name;
use icosistem_core::model::{Enrollment, MemberRole, Organization, OrganizationMember, Program, Round, UserId};
use icosistem_core::service::{CreateOrganization, CreateProgram, RoundInput, UpdateOrganization, UpdateProgram};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse::{body_enum, enums, ids, required, required_enum, required_id, required_text};
use super::present;
use super::schema::{one_of, one_of_or_null};

/// An organization as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// `incubator`, `accelerator`, `university` …
    pub organization_type: String,
    /// `pending`, `active`, `verified`, `partner`, `suspended` or `inactive`.
    pub status: String,
    /// Listed in the public directory.
    pub is_public: bool,
    /// Its programs may take applications.
    pub allow_applications: bool,
    /// Contact email.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Organization> for OrganizationDto {
    fn from(org: &Organization) -> Self {
        Self {
            id: org.id.to_string(),
            name: org.name.as_str().to_owned(),
            slug: org.slug.as_str().to_owned(),
            organization_type: org.organization_type.as_str().to_owned(),
            status: org.status.as_str().to_owned(),
            is_public: org.is_public,
            allow_applications: org.allow_applications,
            email: org.email.as_ref().map(|e| e.as_str().to_owned()),
            website: org.website.as_ref().map(|w| w.as_str().to_owned()),
            tax_id: org.tax_id.clone(),
            description: org.description.clone(),
            version: org.meta.version,
            created_at: org.meta.created_at,
            updated_at: org.meta.updated_at,
        }
    }
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberDto {
    /// Id of the membership (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The organization.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// The member.
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// `owner`, `coordinator` or `reviewer`.
    pub role: String,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&OrganizationMember> for MemberDto {
    fn from(m: &OrganizationMember) -> Self {
        Self {
            id: m.id.to_string(),
            organization_id: m.organization_id.to_string(),
            user_id: m.user_id.to_string(),
            role: m.role.as_str().to_owned(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/organizations`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateOrganizationRequest {
    /// Name (2–200), required.
    #[schema(schema_with = super::schema::name, required = true, nullable = false)]
    pub name: Option<String>,
    /// `incubator`, `accelerator`, `university`, `research_center`, `corporation`,
    /// `government` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::OrganizationType>, required = true, nullable = false)]
    pub organization_type: Option<String>,
    /// Listed publicly (default true).
    pub is_public: Option<bool>,
    /// Programs may take applications (default true).
    pub allow_applications: Option<bool>,
    /// Contact email.
    #[schema(schema_with = super::schema::email_or_null)]
    pub email: Option<String>,
    /// Web site (a missing scheme gets `https://`).
    #[schema(schema_with = super::schema::url_or_null)]
    pub website: Option<String>,
    /// Tax id (≥ 5 alphanumerics, unique).
    #[schema(schema_with = super::schema::tax_id)]
    pub tax_id: Option<String>,
    /// Description (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<String>,
}

/// `PATCH /api/v2/organizations/{id}`: every field optional; `null` clears the optional texts.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateOrganizationRequest {
    /// Name.
    #[schema(schema_with = super::schema::name_or_null)]
    pub name: Option<String>,
    /// Listed publicly.
    pub is_public: Option<bool>,
    /// Programs may take applications.
    pub allow_applications: Option<bool>,
    /// Contact email; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::email_or_null)]
    pub email: Option<Option<String>>,
    /// Web site; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::url_or_null)]
    pub website: Option<Option<String>>,
    /// Description; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<Option<String>>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/organizations/{id}/members`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AddMemberRequest {
    /// The user to add (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub user_id: Option<String>,
    /// `owner`, `coordinator` or `reviewer`, required.
    #[schema(schema_with = one_of::<icosistem_core::model::MemberRole>, required = true, nullable = false)]
    pub role: Option<String>,
}

/// A program as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProgramDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The organization running it.
    #[schema(value_type = String, format = Uuid)]
    pub organization_id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// `incubation`, `acceleration`, `mentorship` …
    pub program_type: String,
    /// `draft`, `published`, `in_progress`, `completed` or `cancelled`.
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Minimum cohort to start.
    pub min_participants: u32,
    /// Capacity.
    pub max_participants: u32,
    /// Accepted applications right now.
    pub accepted_count: u32,
    /// Reviews needed before a decision.
    pub min_reviews: u32,
    /// Reviewers do not see who applied.
    pub blind_review: bool,
    /// Eligible sectors (empty: any).
    pub target_sectors: Vec<String>,
    /// Eligible project stages (empty: any).
    pub target_stages: Vec<String>,
    /// `presential`, `virtual` or `hybrid`.
    pub format: String,
    /// The review rounds, in order (empty: one implicit round decided with `min_reviews`).
    pub rounds: Vec<RoundDto>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// A review round of a program (docs/domain.md §10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoundDto {
    /// Name, unique within the program.
    pub name: String,
    /// Who reviews in this round (UUIDs; empty: any member of the organization).
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub reviewer_ids: Vec<String>,
    /// Reviews without a declared conflict a decision in this round needs.
    pub min_reviews: u32,
    /// Mean score (0–100) needed to pass the round.
    pub threshold: u8,
    /// Reviewers in this round do not see who applied, nor the mean score.
    pub blind: bool,
}

impl From<&Round> for RoundDto {
    fn from(r: &Round) -> Self {
        Self {
            name: r.name.clone(),
            reviewer_ids: r.reviewer_ids.iter().map(ToString::to_string).collect(),
            min_reviews: r.min_reviews,
            threshold: r.threshold,
            blind: r.blind,
        }
    }
}

/// A review round as program create/update take it. (`Serialize`: the request schemas show
/// their defaults, which utoipa serializes.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RoundRequest {
    /// Name (1–100 characters), unique within the program; required.
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Who reviews in this round (member UUIDs; empty: any member of the organization).
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub reviewer_ids: Vec<String>,
    /// Reviews a decision in this round needs (1–20, default 1).
    #[schema(minimum = 1, maximum = 20)]
    pub min_reviews: Option<i64>,
    /// Mean score needed to pass the round (0–100, default 0).
    #[schema(minimum = 0, maximum = 100)]
    pub threshold: Option<i64>,
    /// Reviewers do not see who applied (default false).
    pub blind: bool,
}

/// The rounds of a request, each failure named `rounds[i].field`; the rules of the values are
/// the core's.
fn round_inputs(errors: &mut ValidationErrors, rounds: Vec<RoundRequest>) -> Vec<RoundInput> {
    rounds
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if r.name.is_none() {
                errors.push(format!("rounds[{i}].name"), "is required");
            }
            RoundInput {
                name: r.name.unwrap_or_default(),
                reviewer_ids: ids(errors, &format!("rounds[{i}].reviewer_ids"), &r.reviewer_ids),
                min_reviews: r.min_reviews.unwrap_or(1),
                threshold: r.threshold.unwrap_or(0),
                blind: r.blind,
            }
        })
        .collect()
}

impl From<&Program> for ProgramDto {
    fn from(p: &Program) -> Self {
        Self {
            id: p.id.to_string(),
            organization_id: p.organization_id.to_string(),
            name: p.name.as_str().to_owned(),
            slug: p.slug.as_str().to_owned(),
            program_type: p.program_type.as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            description: p.description.clone(),
            application_opens_at: p.application_opens_at,
            application_deadline: p.application_deadline,
            start_date: p.start_date,
            end_date: p.end_date,
            min_participants: p.min_participants,
            max_participants: p.max_participants,
            accepted_count: p.accepted_count,
            min_reviews: p.min_reviews,
            blind_review: p.blind_review,
            target_sectors: p.target_sectors.clone(),
            target_stages: p.target_stages.iter().map(|s| s.as_str().to_owned()).collect(),
            format: p.format.as_str().to_owned(),
            rounds: p.rounds.iter().map(RoundDto::from).collect(),
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        }
    }
}

/// An enrollment in a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EnrollmentDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The program.
    #[schema(value_type = String, format = Uuid)]
    pub program_id: String,
    /// The accepted application.
    #[schema(value_type = String, format = Uuid)]
    pub application_id: String,
    /// The project enrolled.
    #[schema(value_type = String, format = Uuid)]
    pub project_id: String,
    /// The entrepreneur.
    #[schema(value_type = String, format = Uuid)]
    pub entrepreneur_id: String,
    /// The enrollment status.
    pub status: String,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the entrepreneur dropped out.
    pub drop_reason: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Enrollment> for EnrollmentDto {
    fn from(e: &Enrollment) -> Self {
        Self {
            id: e.id.to_string(),
            program_id: e.program_id.to_string(),
            application_id: e.application_id.to_string(),
            project_id: e.project_id.to_string(),
            entrepreneur_id: e.entrepreneur_id.to_string(),
            status: e.status.as_str().to_owned(),
            ended_at: e.ended_at,
            drop_reason: e.drop_reason.clone(),
            version: e.meta.version,
            created_at: e.meta.created_at,
            updated_at: e.meta.updated_at,
        }
    }
}

/// `POST /api/v2/programs`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateProgramRequest {
    /// The organization (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub organization_id: Option<String>,
    /// Name, required.
    #[schema(schema_with = super::schema::name, required = true, nullable = false)]
    pub name: Option<String>,
    /// `incubation`, `acceleration` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProgramType>, required = true, nullable = false)]
    pub program_type: Option<String>,
    /// Free text (≤ 10 000).
    #[schema(schema_with = super::schema::text_or_null::<0, 10000>)]
    pub description: Option<String>,
    /// Applications open at (RFC 3339), required.
    #[schema(required = true, nullable = false)]
    pub application_opens_at: Option<DateTime<Utc>>,
    /// Applications close at (RFC 3339), required.
    #[schema(required = true, nullable = false)]
    pub application_deadline: Option<DateTime<Utc>>,
    /// First day (`YYYY-MM-DD`), required.
    #[schema(required = true, nullable = false)]
    pub start_date: Option<NaiveDate>,
    /// Last day (`YYYY-MM-DD`), required.
    #[schema(required = true, nullable = false)]
    pub end_date: Option<NaiveDate>,
    /// Minimum cohort (default 1).
    #[schema(minimum = 1)]
    pub min_participants: Option<u32>,
    /// Capacity (1–1000), required.
    #[schema(minimum = 1, maximum = 1000, required = true, nullable = false)]
    pub max_participants: Option<u32>,
    /// Reviews needed before a decision (default 1).
    #[schema(minimum = 1, maximum = 20)]
    pub min_reviews: Option<u32>,
    /// Hide applicants' identity from reviewers (default false).
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Vec<String>,
    /// Eligible project stages.
    pub target_stages: Vec<String>,
    /// `presential`, `virtual` or `hybrid`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProgramFormat>)]
    pub format: Option<String>,
    /// Review rounds, in order (at least one when given; leave out for one implicit round).
    pub rounds: Option<Vec<RoundRequest>>,
}

/// `PATCH /api/v2/programs/{id}`: every field optional; `description: null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateProgramRequest {
    /// Name.
    #[schema(schema_with = super::schema::name_or_null)]
    pub name: Option<String>,
    /// Free text; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 10000>)]
    pub description: Option<Option<String>>,
    /// Applications open at.
    pub application_opens_at: Option<DateTime<Utc>>,
    /// Applications close at.
    pub application_deadline: Option<DateTime<Utc>>,
    /// First day.
    pub start_date: Option<NaiveDate>,
    /// Last day.
    pub end_date: Option<NaiveDate>,
    /// Minimum cohort.
    #[schema(minimum = 1)]
    pub min_participants: Option<u32>,
    /// Capacity.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_participants: Option<u32>,
    /// Reviews needed before a decision.
    #[schema(minimum = 1, maximum = 20)]
    pub min_reviews: Option<u32>,
    /// Hide applicants' identity from reviewers.
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Option<Vec<String>>,
    /// Eligible project stages.
    pub target_stages: Option<Vec<String>>,
    /// `presential`, `virtual` or `hybrid`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProgramFormat>)]
    pub format: Option<String>,
    /// Review rounds, replacing the current ones; refused once an application has entered them.
    pub rounds: Option<Vec<RoundRequest>>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Into the core's inputs: what the body names, read (presence, enum names, ids); the rules of
// the values are the core's.

impl TryFrom<CreateOrganizationRequest> for CreateOrganization {
    type Error = ValidationErrors;

    fn try_from(body: CreateOrganizationRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = required_text(&mut errors, "name", body.name);
        if let Some(Err(e)) = name.as_deref().map(Name::parse) {
            errors.push("name", e.message().to_owned());
        }
        let organization_type = required_enum(&mut errors, "organization_type", body.organization_type.as_deref());
        match (name, organization_type) {
            (Some(name), Some(organization_type)) if errors.is_empty() => Ok(Self {
                name,
                organization_type,
                is_public: body.is_public,
                allow_applications: body.allow_applications,
                email: body.email,
                website: body.website,
                tax_id: body.tax_id,
                description: body.description,
            }),
            _ => Err(errors),
        }
    }
}

impl From<UpdateOrganizationRequest> for UpdateOrganization {
    fn from(body: UpdateOrganizationRequest) -> Self {
        Self {
            name: body.name,
            is_public: body.is_public,
            allow_applications: body.allow_applications,
            email: body.email,
            website: body.website,
            description: body.description,
            version: body.version,
        }
    }
}

impl TryFrom<AddMemberRequest> for (UserId, MemberRole) {
    type Error = ValidationErrors;

    fn try_from(body: AddMemberRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let user = required_id(&mut errors, "user_id", body.user_id.as_deref());
        let role = required_enum(&mut errors, "role", body.role.as_deref());
        user.zip(role).filter(|_| errors.is_empty()).ok_or(errors)
    }
}

impl TryFrom<CreateProgramRequest> for CreateProgram {
    type Error = ValidationErrors;

    fn try_from(body: CreateProgramRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let organization_id = required_id(&mut errors, "organization_id", body.organization_id.as_deref());
        let name = required_text(&mut errors, "name", body.name);
        if let Some(Err(e)) = name.as_deref().map(Name::parse) {
            errors.push("name", e.message().to_owned());
        }
        let program_type = required_enum(&mut errors, "program_type", body.program_type.as_deref());
        let opens = required(&mut errors, "application_opens_at", body.application_opens_at);
        let deadline = required(&mut errors, "application_deadline", body.application_deadline);
        let start = required(&mut errors, "start_date", body.start_date);
        let end = required(&mut errors, "end_date", body.end_date);
        let max = required(&mut errors, "max_participants", body.max_participants);
        let target_stages = enums(&mut errors, "target_stages", &body.target_stages);
        let format = body_enum(&mut errors, "format", body.format.as_deref());
        let rounds = body.rounds.map(|r| round_inputs(&mut errors, r));
        let (
            Some(organization_id),
            Some(name),
            Some(program_type),
            Some(application_opens_at),
            Some(application_deadline),
            Some(start_date),
            Some(end_date),
            Some(max_participants),
        ) = (organization_id, name, program_type, opens, deadline, start, end, max)
        else {
            return Err(errors);
        };
        errors.into_result()?;
        Ok(Self {
            organization_id,
            name,
            program_type,
            description: body.description,
            application_opens_at,
            application_deadline,
            start_date,
            end_date,
            min_participants: body.min_participants,
            max_participants,
            min_reviews: body.min_reviews,
            blind_review: body.blind_review,
            target_sectors: body.target_sectors,
            target_stages,
            format,
            rounds,
        })
    }
}

impl TryFrom<UpdateProgramRequest> for UpdateProgram {
    type Error = ValidationErrors;

    fn try_from(body: UpdateProgramRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let target_stages = body
            .target_stages
            .as_deref()
            .map(|names| enums(&mut errors, "target_stages", names));
        let format = body_enum(&mut errors, "format", body.format.as_deref());
        let rounds = body.rounds.map(|r| round_inputs(&mut errors, r));
        errors.into_result()?;
        Ok(Self {
            name: body.name,
            description: body.description,
            application_opens_at: body.application_opens_at,
            application_deadline: body.application_deadline,
            start_date: body.start_date,
            end_date: body.end_date,
            min_participants: body.min_participants,
            max_participants: body.max_participants,
            min_reviews: body.min_reviews,
            blind_review: body.blind_review,
            target_sectors: body.target_sectors,
            target_stages,
            format,
            rounds,
            version: body.version,
        })
    }
}
