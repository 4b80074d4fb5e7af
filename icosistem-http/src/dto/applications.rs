//! Applications as the caller may see them (blind views included), reviews, and the request
//! bodies of the selection workflow.

use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{ProgramId, ProjectId, Review, UserId};
use icosistem_core::service::{ApplicationView, SubmitReview};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::parse::{required, required_id};

/// The project of an application, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationProjectDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Name.
    pub name: String,
    /// One line pitch.
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// Stage.
    pub stage: String,
    /// Sector.
    pub category: Option<String>,
    /// The owner — absent in a blind view.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub owner_id: Option<String>,
}

/// Who applied — absent in a blind view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicantDto {
    /// User id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// An application as the caller may see it (built from the core's [`ApplicationView`]: when the
/// program reviews blind and the caller evaluates it, no applicant identity at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApplicationDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The program applied to.
    #[schema(value_type = String, format = Uuid)]
    pub program_id: String,
    /// `draft`, `submitted`, `under_review`, `accepted`, `rejected`, `waitlisted` or
    /// `withdrawn`.
    pub status: String,
    /// The applicant's answers.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// The decision's note.
    pub decision_note: Option<String>,
    /// Mean of the qualified review scores, in hundredths.
    pub mean_score_centi: Option<u32>,
    /// The project.
    pub project: ApplicationProjectDto,
    /// Who applied — absent in a blind view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<ApplicantDto>,
    /// Whether identity was withheld.
    pub blind: bool,
    /// The index of the program's review round the application is in (absent without
    /// rounds, and for drafts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_round: Option<u32>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&ApplicationView> for ApplicationDto {
    fn from(v: &ApplicationView) -> Self {
        Self {
            id: v.id.to_string(),
            program_id: v.program_id.to_string(),
            status: v.status.as_str().to_owned(),
            answers: v.answers.clone(),
            submitted_at: v.submitted_at,
            decided_at: v.decided_at,
            decision_note: v.decision_note.clone(),
            mean_score_centi: v.mean_score_centi,
            project: ApplicationProjectDto {
                id: v.project.id.to_string(),
                name: v.project.name.clone(),
                tagline: v.project.tagline.clone(),
                description: v.project.description.clone(),
                stage: v.project.stage.as_str().to_owned(),
                category: v.project.category.clone(),
                owner_id: v.project.owner_id.map(|id| id.to_string()),
            },
            applicant: v.applicant.as_ref().map(|a| ApplicantDto {
                id: a.id.to_string(),
                name: a.name.clone(),
                email: a.email.as_str().to_owned(),
            }),
            blind: v.blind,
            current_round: v.current_round,
            version: v.version,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A review of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The application.
    #[schema(value_type = String, format = Uuid)]
    pub application_id: String,
    /// The reviewer.
    #[schema(value_type = String, format = Uuid)]
    pub reviewer_id: String,
    /// `assigned` until the review is submitted, then `submitted`.
    pub status: String,
    /// Score 0–100 (once submitted).
    pub score: Option<u8>,
    /// Comment.
    pub comment: Option<String>,
    /// The reviewer declared a conflict of interest (the review does not count).
    pub conflict_declared: bool,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The index of the program's review round it belongs to (absent without rounds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Review> for ReviewDto {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.to_string(),
            application_id: r.application_id.to_string(),
            reviewer_id: r.reviewer_id.to_string(),
            status: if r.submitted_at.is_some() {
                "submitted"
            } else {
                "assigned"
            }
            .to_owned(),
            score: r.score.map(|s| s.get()),
            comment: r.comment.clone(),
            conflict_declared: r.conflict_declared,
            submitted_at: r.submitted_at,
            round: r.round,
            version: r.meta.version,
            created_at: r.meta.created_at,
            updated_at: r.meta.updated_at,
        }
    }
}

/// `POST /api/v2/applications`: a draft.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateApplicationRequest {
    /// The program (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub program_id: Option<String>,
    /// The caller's project (UUID), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub project_id: Option<String>,
    /// Answers to the program's questions (default `{}`).
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// `PATCH /api/v2/applications/{id}` (while draft).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateApplicationRequest {
    /// The new answers, required.
    #[schema(value_type = Object, required = true)]
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/applications/{id}/accept|reject|waitlist|promote`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DecisionRequest {
    /// A note to the applicant (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub note: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/applications/{id}/reject-in-round`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RejectInRoundRequest {
    /// Why the application ends in this round (1–2000 characters), required.
    #[schema(schema_with = super::schema::text::<1, 2000>, required = true, nullable = false)]
    pub reason: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/applications/{id}/reviewers`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AssignReviewerRequest {
    /// The reviewer (UUID; a member of the program's organization), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub reviewer_id: Option<String>,
}

/// `POST /api/v2/applications/{id}/reviews`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SubmitReviewRequest {
    /// Score 0–100, required.
    #[schema(minimum = 0, maximum = 100, required = true, nullable = false)]
    pub score: Option<i64>,
    /// Comment (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub comment: Option<String>,
    /// Declares a conflict of interest (default false).
    pub conflict_declared: bool,
}

// ---------------------------------------------------------------------------------------------
// Into the core's inputs: what the body names, read (presence, ids); the rules are the core's.

/// What the applicant starts: the program, the project and the first answers.
pub type NewApplication = (ProgramId, ProjectId, Map<String, Value>);

impl TryFrom<CreateApplicationRequest> for NewApplication {
    type Error = ValidationErrors;

    fn try_from(body: CreateApplicationRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let program_id = required_id(&mut errors, "program_id", body.program_id.as_deref());
        let project_id = required_id(&mut errors, "project_id", body.project_id.as_deref());
        match (program_id, project_id) {
            (Some(program), Some(project)) if errors.is_empty() => Ok((program, project, body.answers)),
            _ => Err(errors),
        }
    }
}

impl TryFrom<UpdateApplicationRequest> for Map<String, Value> {
    type Error = ValidationErrors;

    fn try_from(body: UpdateApplicationRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required(&mut errors, "answers", body.answers).ok_or(errors)
    }
}

impl TryFrom<AssignReviewerRequest> for UserId {
    type Error = ValidationErrors;

    fn try_from(body: AssignReviewerRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_id(&mut errors, "reviewer_id", body.reviewer_id.as_deref()).ok_or(errors)
    }
}

impl TryFrom<SubmitReviewRequest> for SubmitReview {
    type Error = ValidationErrors;

    fn try_from(body: SubmitReviewRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let comment = body.comment;
        let conflict_declared = body.conflict_declared;
        required(&mut errors, "score", body.score)
            .map(|score| Self {
                score,
                comment,
                conflict_declared,
            })
            .ok_or(errors)
    }
}
