//! Projects and their milestones.

use chrono::{DateTime, NaiveDate, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::value::Name;
use icosistem_core::model::{Milestone, Project, ProjectStage, ProjectType};
use icosistem_core::service::{
    CreateMilestone, CreateProject, MilestoneAction, UpdateMilestone, UpdateProject, project_description,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse::{body_enum, money, required, required_enum, required_text};
use super::schema::{one_of, one_of_or_null};
use super::{MoneyDto, present};

/// A project as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The entrepreneur owning it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// One line pitch.
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// `startup`, `social_venture`, `saas` …
    pub project_type: String,
    /// Sector.
    pub category: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// `idea`, `concept`, … the stage reached.
    pub stage: String,
    /// The lifecycle status.
    pub status: String,
    /// `bootstrapped`, `pre_seed`, `seed` …
    pub funding_stage: String,
    /// Funding sought.
    pub funding_target: Option<MoneyDto>,
    /// Funding raised.
    pub funding_raised: Option<MoneyDto>,
    /// Team size.
    pub team_size: u32,
    /// Visible to clients.
    pub is_public: bool,
    /// Looking for a mentor.
    pub seeking_mentorship: bool,
    /// Progress 0–100, derived from the milestones.
    pub progress: u8,
    /// Launch date.
    pub launch_date: Option<NaiveDate>,
    /// Milestones (not cancelled).
    pub milestones_total: u32,
    /// Milestones completed.
    pub milestones_completed: u32,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Project> for ProjectDto {
    fn from(p: &Project) -> Self {
        Self {
            id: p.id.to_string(),
            owner_id: p.owner_id.to_string(),
            name: p.name.as_str().to_owned(),
            slug: p.slug.as_str().to_owned(),
            tagline: p.tagline.clone(),
            description: p.description.clone(),
            project_type: p.project_type.as_str().to_owned(),
            category: p.category.clone(),
            priority: p.priority.as_str().to_owned(),
            stage: p.stage.as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            funding_stage: p.funding_stage.as_str().to_owned(),
            funding_target: p.funding_target.as_ref().map(MoneyDto::from),
            funding_raised: p.funding_raised.as_ref().map(MoneyDto::from),
            team_size: p.team_size,
            is_public: p.is_public,
            seeking_mentorship: p.seeking_mentorship,
            progress: p.progress.get(),
            launch_date: p.launch_date,
            milestones_total: p.milestones_total,
            milestones_completed: p.milestones_completed,
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        }
    }
}

/// `POST /api/v2/projects`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateProjectRequest {
    /// Name (2–200), required.
    #[schema(schema_with = super::schema::name, required = true, nullable = false)]
    pub name: Option<String>,
    /// Description (10–10 000), required.
    #[schema(schema_with = super::schema::text::<10, 10000>, required = true, nullable = false)]
    pub description: Option<String>,
    /// `startup`, `social_venture`, `saas` …, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProjectType>, required = true, nullable = false)]
    pub project_type: Option<String>,
    /// One line pitch (≤ 300).
    #[schema(schema_with = super::schema::text_or_null::<0, 300>)]
    pub tagline: Option<String>,
    /// Sector (≤ 100).
    #[schema(schema_with = super::schema::text_or_null::<0, 100>)]
    pub category: Option<String>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Stage (default `idea`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ProjectStage>)]
    pub stage: Option<String>,
    /// Funding stage (default `bootstrapped`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::FundingStage>)]
    pub funding_stage: Option<String>,
    /// Funding sought.
    pub funding_target: Option<MoneyDto>,
    /// Team size (1–100, default 1).
    #[schema(minimum = 1, maximum = 100)]
    pub team_size: Option<u32>,
    /// Visible to clients (default false).
    pub is_public: Option<bool>,
    /// Looking for a mentor (default true).
    pub seeking_mentorship: Option<bool>,
}

/// `PATCH /api/v2/projects/{id}`: every field optional; `null` clears the optional ones. Stage
/// and status change through commands.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateProjectRequest {
    /// Name.
    #[schema(schema_with = super::schema::name_or_null)]
    pub name: Option<String>,
    /// Description (10–10 000).
    #[schema(schema_with = super::schema::text_or_null::<10, 10000>)]
    pub description: Option<String>,
    /// One line pitch; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 300>)]
    pub tagline: Option<Option<String>>,
    /// Sector; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 100>)]
    pub category: Option<Option<String>>,
    /// Priority.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Funding stage.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::FundingStage>)]
    pub funding_stage: Option<String>,
    /// Funding sought; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<MoneyDto>)]
    pub funding_target: Option<Option<MoneyDto>>,
    /// Funding raised; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<MoneyDto>)]
    pub funding_raised: Option<Option<MoneyDto>>,
    /// Team size (1–100).
    #[schema(minimum = 1, maximum = 100)]
    pub team_size: Option<u32>,
    /// Visible to clients.
    pub is_public: Option<bool>,
    /// Looking for a mentor.
    pub seeking_mentorship: Option<bool>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/projects/{id}/advance-stage`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AdvanceStageRequest {
    /// The stage to reach, required.
    #[schema(schema_with = one_of::<icosistem_core::model::ProjectStage>, required = true, nullable = false)]
    pub stage: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// A milestone as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MilestoneDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The project.
    #[schema(value_type = String, format = Uuid)]
    pub project_id: String,
    /// The project's owner.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Target date.
    pub target_date: NaiveDate,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// `pending`, `in_progress`, `completed`, `delayed` or `cancelled`.
    pub status: String,
    /// Progress 0–100.
    pub progress: u8,
    /// When it was completed.
    pub completed_on: Option<NaiveDate>,
    /// Why it was delayed.
    pub delay_reason: Option<String>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Milestone> for MilestoneDto {
    fn from(m: &Milestone) -> Self {
        Self {
            id: m.id.to_string(),
            project_id: m.project_id.to_string(),
            owner_id: m.owner_id.to_string(),
            title: m.title.clone(),
            description: m.description.clone(),
            target_date: m.target_date,
            priority: m.priority.as_str().to_owned(),
            status: m.status.as_str().to_owned(),
            progress: m.progress.get(),
            completed_on: m.completed_on,
            delay_reason: m.delay_reason.clone(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/projects/{id}/milestones`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateMilestoneRequest {
    /// Title (2–200), required.
    #[schema(schema_with = super::schema::text::<2, 200>, required = true, nullable = false)]
    pub title: Option<String>,
    /// Description (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<String>,
    /// Target date (after today), required.
    #[schema(required = true, nullable = false)]
    pub target_date: Option<NaiveDate>,
    /// Priority (default `medium`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
}

/// `PATCH /api/v2/milestones/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateMilestoneRequest {
    /// Title (2–200).
    #[schema(schema_with = super::schema::text_or_null::<2, 200>)]
    pub title: Option<String>,
    /// Description; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<Option<String>>,
    /// Priority.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/milestones/{id}/progress`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ProgressRequest {
    /// Progress 0–100 (100 completes), required.
    #[schema(minimum = 0, maximum = 100, required = true, nullable = false)]
    pub progress: Option<i64>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/milestones/{id}/delay`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DelayRequest {
    /// The new target date (after today), required.
    #[schema(required = true, nullable = false)]
    pub target_date: Option<NaiveDate>,
    /// Why (≤ 2000).
    #[schema(schema_with = super::schema::text_or_null::<0, 2000>)]
    pub reason: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Into the core's inputs: what the body names, read (enum names, money, presence); the rules of
// the values are the core's. Where the core offers a field's rule, it is checked here too, so
// that one 422 lists it with the fields that could not be read.

impl TryFrom<CreateProjectRequest> for CreateProject {
    type Error = ValidationErrors;

    fn try_from(body: CreateProjectRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = required_text(&mut errors, "name", body.name);
        if let Some(Err(e)) = name.as_deref().map(Name::parse) {
            errors.push("name", e.message().to_owned());
        }
        let description = required_text(&mut errors, "description", body.description);
        if let Some(d) = description.as_deref() {
            errors.check(project_description(d));
        }
        let project_type = required_enum::<ProjectType>(&mut errors, "project_type", body.project_type.as_deref());
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        let stage = body_enum(&mut errors, "stage", body.stage.as_deref());
        let funding_stage = body_enum(&mut errors, "funding_stage", body.funding_stage.as_deref());
        let funding_target = body
            .funding_target
            .as_ref()
            .and_then(|m| money(&mut errors, "funding_target", m));
        match (name, description, project_type) {
            (Some(name), Some(description), Some(project_type)) if errors.is_empty() => Ok(Self {
                name,
                description,
                project_type,
                tagline: body.tagline,
                category: body.category,
                priority,
                stage,
                funding_stage,
                funding_target,
                team_size: body.team_size,
                is_public: body.is_public,
                seeking_mentorship: body.seeking_mentorship,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<UpdateProjectRequest> for UpdateProject {
    type Error = ValidationErrors;

    fn try_from(body: UpdateProjectRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        let funding_stage = body_enum(&mut errors, "funding_stage", body.funding_stage.as_deref());
        let funding_target = body
            .funding_target
            .map(|m| m.and_then(|m| money(&mut errors, "funding_target", &m)));
        let funding_raised = body
            .funding_raised
            .map(|m| m.and_then(|m| money(&mut errors, "funding_raised", &m)));
        errors.into_result()?;
        Ok(Self {
            name: body.name,
            description: body.description,
            tagline: body.tagline,
            category: body.category,
            priority,
            funding_stage,
            funding_target,
            funding_raised,
            team_size: body.team_size,
            is_public: body.is_public,
            seeking_mentorship: body.seeking_mentorship,
            version: body.version,
        })
    }
}

impl TryFrom<AdvanceStageRequest> for ProjectStage {
    type Error = ValidationErrors;

    fn try_from(body: AdvanceStageRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_enum(&mut errors, "stage", body.stage.as_deref()).ok_or(errors)
    }
}

impl TryFrom<CreateMilestoneRequest> for CreateMilestone {
    type Error = ValidationErrors;

    fn try_from(body: CreateMilestoneRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let title = required_text(&mut errors, "title", body.title);
        let target_date = required(&mut errors, "target_date", body.target_date);
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        match (title, target_date) {
            (Some(title), Some(target_date)) if errors.is_empty() => Ok(Self {
                title,
                description: body.description,
                target_date,
                priority,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<UpdateMilestoneRequest> for UpdateMilestone {
    type Error = ValidationErrors;

    fn try_from(body: UpdateMilestoneRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        errors.into_result()?;
        Ok(Self {
            title: body.title,
            description: body.description,
            priority,
            version: body.version,
        })
    }
}

impl TryFrom<ProgressRequest> for MilestoneAction {
    type Error = ValidationErrors;

    fn try_from(body: ProgressRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required(&mut errors, "progress", body.progress)
            .map(Self::Progress)
            .ok_or(errors)
    }
}

impl TryFrom<DelayRequest> for MilestoneAction {
    type Error = ValidationErrors;

    fn try_from(body: DelayRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let reason = body.reason;
        required(&mut errors, "target_date", body.target_date)
            .map(|target_date| Self::Delay { target_date, reason })
            .ok_or(errors)
    }
}
