//! Bodies of the work and account-administration paths: tasks and their dependencies, the
//! caller's notifications, the audit log, enrollments' drop-out, role profiles and the admin's
//! user management.

use crate::dto::parse::{body_enum, enums, money, optional_id, required, required_enum, required_id, required_text};
use crate::dto::schema::{one_of, one_of_or_null};
use chrono::{DateTime, NaiveDate, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::secret::SecretString;
use icosistem_core::model::value::{AtField, Email, PersonName};
use icosistem_core::model::{
    AllyProfile, AuditEvent, ClientProfile, ClientType, EntrepreneurProfile, EntrepreneurStage, Notification,
    OutboxMessage, Profile, ProfileData, ProjectStage, Role, Task, TaskDependency, TaskId,
};
use icosistem_core::service::{
    AdminCreateUser, AdminUpdateUser, CreateTask, UpdateTask, task_description, task_due_date, task_title,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{MoneyDto, present};

/// A task as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TaskDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Who created it and owns it.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Who does it.
    #[schema(value_type = String, format = Uuid)]
    pub assignee_id: String,
    /// The project it belongs to.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub project_id: Option<String>,
    /// The parent task of a subtask.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub parent_id: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// `todo`, `in_progress`, `blocked`, `completed` or `cancelled`.
    pub status: String,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: String,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Progress 0–100 (the mean of its subtasks' when it has any).
    pub progress: u8,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Task> for TaskDto {
    fn from(t: &Task) -> Self {
        Self {
            id: t.id.to_string(),
            owner_id: t.owner_id.to_string(),
            assignee_id: t.assignee_id.to_string(),
            project_id: t.project_id.map(|p| p.to_string()),
            parent_id: t.parent_id.map(|p| p.to_string()),
            title: t.title.clone(),
            description: t.description.clone(),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            due_date: t.due_date,
            progress: t.progress.get(),
            completed_at: t.completed_at,
            version: t.meta.version,
            created_at: t.meta.created_at,
            updated_at: t.meta.updated_at,
        }
    }
}

/// `POST /api/v2/tasks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateTaskRequest {
    /// Title (3–300), required.
    #[schema(schema_with = super::schema::text::<3, 300>, required = true, nullable = false)]
    pub title: Option<String>,
    /// Description (≤ 5000).
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<String>,
    /// Who does it (UUID of an existing user; default the caller).
    #[schema(schema_with = super::schema::uuid_or_blank)]
    pub assignee_id: Option<String>,
    /// A project the caller may edit (UUID).
    #[schema(schema_with = super::schema::uuid_or_blank)]
    pub project_id: Option<String>,
    /// Makes it a subtask of one of the caller's own open tasks (UUID).
    #[schema(schema_with = super::schema::uuid_or_blank)]
    pub parent_id: Option<String>,
    /// `low`, `medium` (default), `high` or `critical`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Due date (today or later).
    pub due_date: Option<NaiveDate>,
}

/// `PATCH /api/v2/tasks/{id}` (the owner): every field optional; `null` clears the optional ones.
/// Status changes through commands.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateTaskRequest {
    /// Title (3–300).
    #[schema(schema_with = super::schema::text_or_null::<3, 300>)]
    pub title: Option<String>,
    /// Description; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(schema_with = super::schema::text_or_null::<0, 5000>)]
    pub description: Option<Option<String>>,
    /// Priority.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Priority>)]
    pub priority: Option<String>,
    /// Due date; `null` clears it.
    #[serde(deserialize_with = "present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    /// New assignee (UUID of an existing user).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/tasks/{id}/dependencies`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AddDependencyRequest {
    /// The task that must finish first (UUID; same owner), required.
    #[schema(value_type = String, format = Uuid, required = true, nullable = false)]
    pub depends_on: Option<String>,
}

/// "`task_id` cannot be completed before `depends_on`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DependencyDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The dependent task.
    #[schema(value_type = String, format = Uuid)]
    pub task_id: String,
    /// The task it waits for.
    #[schema(value_type = String, format = Uuid)]
    pub depends_on: String,
    /// The owner of both tasks.
    #[schema(value_type = String, format = Uuid)]
    pub owner_id: String,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&TaskDependency> for DependencyDto {
    fn from(d: &TaskDependency) -> Self {
        Self {
            id: d.id.to_string(),
            task_id: d.task_id.to_string(),
            depends_on: d.depends_on.to_string(),
            owner_id: d.owner_id.to_string(),
            version: d.meta.version,
            created_at: d.meta.created_at,
            updated_at: d.meta.updated_at,
        }
    }
}

// Tasks into the core's inputs: what the body names, read (presence, ids, enum names). The
// core's own rules of a task's fields are checked here too (the core checks them again), so
// that one 422 lists them with the fields that could not be read. A body is read on `today`, the
// day its due date is checked against.

/// A body and the day it is read on (`today`, what its dates are checked against).
#[derive(Debug, Clone)]
pub struct ReadOn<B>(pub B, pub NaiveDate);

impl TryFrom<ReadOn<CreateTaskRequest>> for CreateTask {
    type Error = ValidationErrors;

    fn try_from(ReadOn(body, today): ReadOn<CreateTaskRequest>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let title = required_text(&mut errors, "title", body.title);
        let assignee_id = optional_id(&mut errors, "assignee_id", body.assignee_id.as_deref());
        let project_id = optional_id(&mut errors, "project_id", body.project_id.as_deref());
        let parent_id = optional_id(&mut errors, "parent_id", body.parent_id.as_deref());
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        if let Some(t) = title.as_deref() {
            errors.check(task_title(t));
        }
        errors.check(task_description(body.description.as_deref()));
        if let Some(due) = body.due_date {
            errors.check(task_due_date(due, today));
        }
        match title {
            Some(title) if errors.is_empty() => Ok(Self {
                title,
                description: body.description,
                assignee_id,
                project_id,
                parent_id,
                priority,
                due_date: body.due_date,
            }),
            _ => Err(errors),
        }
    }
}

impl TryFrom<ReadOn<UpdateTaskRequest>> for UpdateTask {
    type Error = ValidationErrors;

    fn try_from(ReadOn(body, today): ReadOn<UpdateTaskRequest>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let priority = body_enum(&mut errors, "priority", body.priority.as_deref());
        let assignee_id = optional_id(&mut errors, "assignee_id", body.assignee_id.as_deref());
        if let Some(t) = body.title.as_deref() {
            errors.check(task_title(t));
        }
        if let Some(d) = &body.description {
            errors.check(task_description(d.as_deref()));
        }
        if let Some(Some(due)) = body.due_date {
            errors.check(task_due_date(due, today));
        }
        errors.into_result()?;
        Ok(Self {
            title: body.title,
            description: body.description,
            priority,
            due_date: body.due_date,
            assignee_id,
            version: body.version,
        })
    }
}

impl TryFrom<AddDependencyRequest> for TaskId {
    type Error = ValidationErrors;

    fn try_from(body: AddDependencyRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_id(&mut errors, "depends_on", body.depends_on.as_deref()).ok_or(errors)
    }
}

/// An in-app notification of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NotificationDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// The recipient (the caller).
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// Stable kind (`task_assigned`, `application_accepted` …).
    pub kind: String,
    /// Short title.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Ids of the things it is about.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// `unread`, `read` or `archived`.
    pub status: String,
    /// When it was first read.
    pub read_at: Option<DateTime<Utc>>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Notification> for NotificationDto {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.to_string(),
            user_id: n.user_id.to_string(),
            kind: n.kind.clone(),
            title: n.title.clone(),
            body: n.body.clone(),
            data: n.data.clone(),
            status: n.status.as_str().to_owned(),
            read_at: n.read_at,
            version: n.meta.version,
            created_at: n.meta.created_at,
            updated_at: n.meta.updated_at,
        }
    }
}

/// `POST /api/v2/notifications/read-all`: how many unread notifications became read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadAllDto {
    /// Notifications marked read by this call (0 when none was unread).
    pub updated: u32,
}

impl From<&u32> for ReadAllDto {
    fn from(updated: &u32) -> Self {
        Self { updated: *updated }
    }
}

/// One outbox message, for an admin (`/api/v2/admin/outbox`). Neither its body nor its data
/// are shown: a verification or reset email carries a one-time token there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OutboxMessageDto {
    /// Id (UUID); also the `X-Icosistem-Outbox-Id` header of the email.
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// `email` or `webhook`.
    #[schema(schema_with = one_of::<icosistem_core::model::OutboxChannel>)]
    pub channel: String,
    /// The recipient user, when there is one.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub user_id: Option<String>,
    /// Address on the channel (an email address, a URL).
    pub recipient: String,
    /// Stable kind (`email_verification`, `application_accepted` …).
    pub kind: String,
    /// Subject line.
    pub subject: String,
    /// `pending`, `sent` or `failed` (a dead letter).
    #[schema(schema_with = one_of::<icosistem_core::model::OutboxStatus>)]
    pub status: String,
    /// Delivery attempts so far (0 again after a re-queue).
    pub attempts: u32,
    /// Not tried before this instant.
    pub next_attempt_at: DateTime<Utc>,
    /// When delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last delivery error (the SMTP answer, a timeout …).
    pub last_error: Option<String>,
    /// Optimistic-concurrency version.
    pub version: u64,
    /// Created at (when its cause was committed).
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&OutboxMessage> for OutboxMessageDto {
    fn from(m: &OutboxMessage) -> Self {
        Self {
            id: m.id.to_string(),
            channel: m.channel.as_str().to_owned(),
            user_id: m.user_id.map(|u| u.to_string()),
            recipient: m.recipient.clone(),
            kind: m.kind.clone(),
            subject: m.subject.clone(),
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            last_error: m.last_error.clone(),
            version: m.meta.version,
            created_at: m.meta.created_at,
            updated_at: m.meta.updated_at,
        }
    }
}

/// `POST /api/v2/admin/outbox/retry`: which failed messages to re-queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(default)]
pub struct RetryOutboxRequest {
    /// Only this channel (`email` or `webhook`); absent: every channel.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::OutboxChannel>)]
    pub channel: Option<String>,
}

/// `POST /api/v2/admin/outbox/retry`: how many failed messages were re-queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct RequeuedDto {
    /// Messages moved from `failed` back to `pending` (0 when none was failed).
    pub requeued: u32,
}

impl From<&u32> for RequeuedDto {
    fn from(requeued: &u32) -> Self {
        Self { requeued: *requeued }
    }
}

/// One audit event. Events are append-only: `version` is always 1 and `created_at` is `at`.
/// The client's IP is kept in the log but not shown here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEventDto {
    /// Id (UUID).
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Who acted (absent for anonymous callers, the system, and people outside the
    /// organization in an organization's slice).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor_id: Option<String>,
    /// `user`, `anonymous` or `system`.
    pub actor_kind: String,
    /// Stable action (`task.create`, `application.accept`, `user.unlock` …).
    pub action: String,
    /// Target entity kind.
    pub target_kind: String,
    /// Target entity id.
    #[schema(value_type = String, format = Uuid)]
    pub target_id: String,
    /// The organization the target belongs to.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub organization_id: Option<String>,
    /// Summary before the change.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// Summary after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The request id of the command.
    pub request_id: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Always 1 (events never change).
    pub version: u64,
    /// Same as `at`.
    pub created_at: DateTime<Utc>,
}

impl From<&AuditEvent> for AuditEventDto {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            actor_id: e.actor_id.map(|a| a.to_string()),
            actor_kind: e.actor_kind.clone(),
            action: e.action.clone(),
            target_kind: e.target_kind.clone(),
            target_id: e.target_id.to_string(),
            organization_id: e.organization_id.map(|o| o.to_string()),
            before: e.before.clone(),
            after: e.after.clone(),
            request_id: e.request_id.clone(),
            at: e.at,
            version: 1,
            created_at: e.at,
        }
    }
}

/// `POST /api/v2/enrollments/{id}/drop-out`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DropOutRequest {
    /// Why (≤ 2000).
    #[schema(schema_with = super::schema::text_or_null::<0, 2000>)]
    pub reason: Option<String>,
}

/// A role profile. `kind` says which group of fields is filled: `entrepreneur` (`stage`,
/// `sectors`, `seeking_mentorship`, `mentorship_areas`), `ally` (`primary_expertise`,
/// `specializations`, `preferred_stages`, `max_mentees`, `available`, `session_duration_minutes`,
/// `average_rating_centi`, `ratings_count`) or `client` (`client_type`, `interest_areas`,
/// `investment_min`, `investment_max`); the other groups' fields are absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProfileDto {
    /// The user it belongs to (also its id).
    #[schema(value_type = String, format = Uuid)]
    pub user_id: String,
    /// `entrepreneur`, `ally` or `client`.
    pub kind: String,
    /// Entrepreneur: `aspiring`, `early`, `established` or `serial`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Entrepreneur: sectors, first is primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Vec<String>>,
    /// Entrepreneur: looking for a mentor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeking_mentorship: Option<bool>,
    /// Entrepreneur: areas where mentoring is wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentorship_areas: Option<Vec<String>>,
    /// Ally: main area of expertise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_expertise: Option<String>,
    /// Ally: specializations (used for matching).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specializations: Option<Vec<String>>,
    /// Ally: project stages preferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_stages: Option<Vec<String>>,
    /// Ally: mentee capacity 0–20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_mentees: Option<u8>,
    /// Ally: open to new mentees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<bool>,
    /// Ally: preferred session length in minutes, 15–240.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_duration_minutes: Option<u16>,
    /// Ally: mean session rating × 100 (450 = 4.5), once rated; only feedback changes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_rating_centi: Option<u32>,
    /// Ally: ratings received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratings_count: Option<u32>,
    /// Client: `investor`, `corporation`, `government`, `ngo`, `university`, `foundation` or
    /// `individual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    /// Client: interest areas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interest_areas: Option<Vec<String>>,
    /// Client: lower end of the investment range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investment_min: Option<MoneyDto>,
    /// Client: upper end of the investment range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investment_max: Option<MoneyDto>,
    /// Optimistic-concurrency version (send it back in `If-Match`).
    pub version: u64,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

impl From<&Profile> for ProfileDto {
    fn from(p: &Profile) -> Self {
        let mut dto = Self {
            user_id: p.user_id.to_string(),
            kind: p.data.role().as_str().to_owned(),
            stage: None,
            sectors: None,
            seeking_mentorship: None,
            mentorship_areas: None,
            primary_expertise: None,
            specializations: None,
            preferred_stages: None,
            max_mentees: None,
            available: None,
            session_duration_minutes: None,
            average_rating_centi: None,
            ratings_count: None,
            client_type: None,
            interest_areas: None,
            investment_min: None,
            investment_max: None,
            version: p.meta.version,
            created_at: p.meta.created_at,
            updated_at: p.meta.updated_at,
        };
        match &p.data {
            ProfileData::Entrepreneur(e) => {
                dto.stage = Some(e.stage.as_str().to_owned());
                dto.sectors = Some(e.sectors.clone());
                dto.seeking_mentorship = Some(e.seeking_mentorship);
                dto.mentorship_areas = Some(e.mentorship_areas.clone());
            }
            ProfileData::Ally(a) => {
                dto.primary_expertise = a.primary_expertise.clone();
                dto.specializations = Some(a.specializations.clone());
                dto.preferred_stages = Some(a.preferred_stages.iter().map(|s| s.as_str().to_owned()).collect());
                dto.max_mentees = Some(a.max_mentees);
                dto.available = Some(a.available);
                dto.session_duration_minutes = Some(a.session_duration_minutes);
                dto.average_rating_centi = a.average_rating_centi();
                dto.ratings_count = Some(a.ratings_count);
            }
            ProfileData::Client(c) => {
                dto.client_type = Some(c.client_type.as_str().to_owned());
                dto.interest_areas = Some(c.interest_areas.clone());
                dto.investment_min = c.investment_min.as_ref().map(MoneyDto::from);
                dto.investment_max = c.investment_max.as_ref().map(MoneyDto::from);
            }
        }
        dto
    }
}

/// `PUT /api/v2/users/me/profile`: replaces the caller's role profile. Send the fields of your
/// role's group (see [`ProfileDto`]); absent ones take their defaults, fields of another role's
/// group are refused (422). An ally's rating is never taken from the body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct UpdateProfileRequest {
    /// `entrepreneur`, `ally` or `client`; must be the caller's role (default: it).
    pub kind: Option<String>,
    /// Entrepreneur: `aspiring` (default), `early`, `established` or `serial`.
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::EntrepreneurStage>)]
    pub stage: Option<String>,
    /// Entrepreneur: sectors.
    pub sectors: Option<Vec<String>>,
    /// Entrepreneur: looking for a mentor (default true).
    pub seeking_mentorship: Option<bool>,
    /// Entrepreneur: areas where mentoring is wanted.
    pub mentorship_areas: Option<Vec<String>>,
    /// Ally: main area of expertise.
    pub primary_expertise: Option<String>,
    /// Ally: specializations.
    pub specializations: Option<Vec<String>>,
    /// Ally: preferred project stages.
    pub preferred_stages: Option<Vec<String>>,
    /// Ally: mentee capacity 0–20 (default 10).
    #[schema(minimum = 0, maximum = 20)]
    pub max_mentees: Option<i64>,
    /// Ally: open to new mentees (default true).
    pub available: Option<bool>,
    /// Ally: preferred session length, 15–240 minutes (default 60).
    #[schema(minimum = 15, maximum = 240)]
    pub session_duration_minutes: Option<i64>,
    /// Client: kind of client (default `individual`).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::ClientType>)]
    pub client_type: Option<String>,
    /// Client: interest areas.
    pub interest_areas: Option<Vec<String>>,
    /// Client: lower end of the investment range.
    pub investment_min: Option<MoneyDto>,
    /// Client: upper end of the investment range.
    pub investment_max: Option<MoneyDto>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

/// `POST /api/v2/admin/users`: a user of any role, verified and active.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AdminCreateUserRequest {
    /// Email, required.
    #[schema(schema_with = super::schema::email, required = true, nullable = false)]
    pub email: Option<String>,
    /// Initial password (the password policy applies), required.
    #[schema(min_length = 12, max_length = 128, required = true, nullable = false)]
    pub password: Option<String>,
    /// Given name, required.
    #[schema(schema_with = super::schema::person_name, required = true, nullable = false)]
    pub first_name: Option<String>,
    /// Family name, required.
    #[schema(schema_with = super::schema::person_name, required = true, nullable = false)]
    pub last_name: Option<String>,
    /// `admin`, `entrepreneur`, `ally` or `client`, required.
    #[schema(schema_with = one_of::<icosistem_core::model::Role>, required = true, nullable = false)]
    pub role: Option<String>,
}

/// `PATCH /api/v2/admin/users/{id}`: every field optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AdminUpdateUserRequest {
    /// New role (ends the user's sessions; the new role's profile is created).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::Role>)]
    pub role: Option<String>,
    /// New status: `active`, `suspended` or `inactive` (a move the account allows).
    #[schema(schema_with = one_of_or_null::<icosistem_core::model::UserStatus>)]
    pub status: Option<String>,
    /// Given name.
    #[schema(schema_with = super::schema::person_name_or_null)]
    pub first_name: Option<String>,
    /// Family name.
    #[schema(schema_with = super::schema::person_name_or_null)]
    pub last_name: Option<String>,
    /// The version read (alternative to `If-Match`).
    pub version: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Into the core's inputs: what the body names, read (enum names, money, presence); the rules of
// the values are the core's, called here so that one 422 lists them with the fields that could
// not be read.

impl TryFrom<AdminCreateUserRequest> for AdminCreateUser {
    type Error = ValidationErrors;

    fn try_from(body: AdminCreateUserRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = required_text(&mut errors, "email", body.email);
        if let Some(e) = email.as_deref() {
            errors.check(Email::parse(e).at("email"));
        }
        let password = required(&mut errors, "password", body.password.filter(|p| !p.is_empty()));
        let first_name = required_text(&mut errors, "first_name", body.first_name);
        if let Some(n) = first_name.as_deref() {
            errors.check(PersonName::parse(n).at("first_name"));
        }
        let last_name = required_text(&mut errors, "last_name", body.last_name);
        if let Some(n) = last_name.as_deref() {
            errors.check(PersonName::parse(n).at("last_name"));
        }
        let role = required_enum(&mut errors, "role", body.role.as_deref());
        match (email, password, first_name, last_name, role) {
            (Some(email), Some(password), Some(first_name), Some(last_name), Some(role)) if errors.is_empty() => {
                Ok(Self {
                    email,
                    password: SecretString::new(password),
                    first_name,
                    last_name,
                    role,
                })
            }
            _ => Err(errors),
        }
    }
}

impl TryFrom<AdminUpdateUserRequest> for AdminUpdateUser {
    type Error = ValidationErrors;

    fn try_from(body: AdminUpdateUserRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let role = body_enum(&mut errors, "role", body.role.as_deref());
        let status = body_enum(&mut errors, "status", body.status.as_deref());
        errors.into_result()?;
        Ok(Self {
            role,
            status,
            first_name: body.first_name,
            last_name: body.last_name,
            version: body.version,
        })
    }
}

impl UpdateProfileRequest {
    /// The profile data for a caller of `role`: of the body's `kind` (default: the caller's
    /// role), which must be the caller's role; fields of another role's group are refused. (The
    /// caller's role is an input besides the body, hence no `TryFrom`.)
    pub(crate) fn into_data(self, role: Role) -> Result<ProfileData, ValidationErrors> {
        let body = self;
        let mut errors = ValidationErrors::new();
        let kind = match body.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            None => Some(role),
            Some(k) => body_enum::<Role>(&mut errors, "kind", Some(k)),
        };
        let data = match kind {
            Some(Role::Admin) => {
                errors.push("kind", "admins have no role profile");
                None
            }
            Some(kind) if kind != role => {
                errors.push("kind", "must match your role");
                None
            }
            Some(kind) => profile_data(&mut errors, kind, body),
            None => None,
        };
        match data {
            Some(data) if errors.is_empty() => Ok(data),
            _ => Err(errors),
        }
    }
}

/// The profile data of `kind` from the body; fields of another role's group are refused.
fn profile_data(errors: &mut ValidationErrors, kind: Role, body: UpdateProfileRequest) -> Option<ProfileData> {
    let groups: [(Role, &[(&'static str, bool)]); 3] = [
        (
            Role::Entrepreneur,
            &[
                ("stage", body.stage.is_some()),
                ("sectors", body.sectors.is_some()),
                ("seeking_mentorship", body.seeking_mentorship.is_some()),
                ("mentorship_areas", body.mentorship_areas.is_some()),
            ],
        ),
        (
            Role::Ally,
            &[
                ("primary_expertise", body.primary_expertise.is_some()),
                ("specializations", body.specializations.is_some()),
                ("preferred_stages", body.preferred_stages.is_some()),
                ("max_mentees", body.max_mentees.is_some()),
                ("available", body.available.is_some()),
                ("session_duration_minutes", body.session_duration_minutes.is_some()),
            ],
        ),
        (
            Role::Client,
            &[
                ("client_type", body.client_type.is_some()),
                ("interest_areas", body.interest_areas.is_some()),
                ("investment_min", body.investment_min.is_some()),
                ("investment_max", body.investment_max.is_some()),
            ],
        ),
    ];
    for (role, fields) in groups {
        if role == kind {
            continue;
        }
        for (field, sent) in fields {
            if *sent {
                errors.push(*field, format!("does not apply to a {kind} profile"));
            }
        }
    }
    match kind {
        Role::Entrepreneur => {
            let defaults = EntrepreneurProfile::default();
            let stage = body_enum::<EntrepreneurStage>(errors, "stage", body.stage.as_deref());
            Some(ProfileData::Entrepreneur(EntrepreneurProfile {
                stage: stage.unwrap_or(defaults.stage),
                sectors: body.sectors.unwrap_or_default(),
                seeking_mentorship: body.seeking_mentorship.unwrap_or(defaults.seeking_mentorship),
                mentorship_areas: body.mentorship_areas.unwrap_or_default(),
            }))
        }
        Role::Ally => {
            let defaults = AllyProfile::default();
            let preferred_stages =
                enums::<ProjectStage>(errors, "preferred_stages", &body.preferred_stages.unwrap_or_default());
            // A number the field's type cannot hold becomes the type's maximum, which the core's
            // bounds refuse in their own words (checked below, listed with the other fields).
            let ally = AllyProfile {
                primary_expertise: body.primary_expertise.filter(|p| !p.trim().is_empty()),
                specializations: body.specializations.unwrap_or_default(),
                preferred_stages,
                max_mentees: body
                    .max_mentees
                    .map_or(defaults.max_mentees, |v| u8::try_from(v).unwrap_or(u8::MAX)),
                available: body.available.unwrap_or(defaults.available),
                session_duration_minutes: body
                    .session_duration_minutes
                    .map_or(defaults.session_duration_minutes, |v| {
                        u16::try_from(v).unwrap_or(u16::MAX)
                    }),
                // The core keeps the stored rating whatever is sent.
                ratings_total: 0,
                ratings_count: 0,
            };
            ally.check(errors);
            Some(ProfileData::Ally(ally))
        }
        Role::Client => {
            let defaults = ClientProfile::default();
            let client_type = body_enum::<ClientType>(errors, "client_type", body.client_type.as_deref());
            let investment_min = body
                .investment_min
                .as_ref()
                .and_then(|m| money(errors, "investment_min", m));
            let investment_max = body
                .investment_max
                .as_ref()
                .and_then(|m| money(errors, "investment_max", m));
            Some(ProfileData::Client(ClientProfile {
                client_type: client_type.unwrap_or(defaults.client_type),
                interest_areas: body.interest_areas.unwrap_or_default(),
                investment_min,
                investment_max,
            }))
        }
        Role::Admin => None,
    }
}
