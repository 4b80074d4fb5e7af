//! Programs, their lifecycle, and enrollments.

use crate::service::Expect;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::{Context, Ecosystem, Notice, Uow, authorize_seen, check_version};
use crate::error::{Error, Result, ValidationErrors};
use crate::model::value::{AtField, Name, optional_text};
use crate::model::{
    Enrollment, EnrollmentId, EnrollmentStatus, OrganizationId, Program, ProgramFormat, ProgramId, ProgramStatus,
    ProgramType, ProjectStage,
};
use crate::policy::{Action, Facts, authorize};
use crate::ports::store::{EnrollmentFilter, Page, PageRequest, ProgramFilter, Store, Transaction};
use crate::ports::{Clock, Notifier};
use crate::rules::program::{ProgramShape, check_program_shape};
use crate::rules::rounds::RoundInput;
use crate::workflow::enrollment::{self, EnrollmentCommand};
use crate::workflow::program::{self as wf, ProgramCommand, ProgramEvent, ProgramFacts};

/// Input of `create_program`.
#[derive(Debug, Clone)]
pub struct CreateProgram {
    /// Organization running it.
    pub organization_id: OrganizationId,
    /// Name (2–200).
    pub name: String,
    /// Kind.
    pub program_type: ProgramType,
    /// Description (≤ 10 000).
    pub description: Option<String>,
    /// Applications open at.
    pub application_opens_at: DateTime<Utc>,
    /// Applications close at.
    pub application_deadline: DateTime<Utc>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Minimum cohort (default 1).
    pub min_participants: Option<u32>,
    /// Capacity (1–1000).
    pub max_participants: u32,
    /// Reviews per decision (default 1).
    pub min_reviews: Option<u32>,
    /// Blind review (default false).
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Vec<String>,
    /// Eligible stages.
    pub target_stages: Vec<ProjectStage>,
    /// Format (default hybrid).
    pub format: Option<ProgramFormat>,
    /// Review rounds (docs/domain.md §10); `None`: one implicit round decided with `min_reviews`.
    pub rounds: Option<Vec<RoundInput>>,
}

/// Input of `update_program`; `None` keeps a field. Schedule and size may change while the
/// program is a draft or published; the capacity never below the accepted count.
#[derive(Debug, Clone, Default)]
pub struct UpdateProgram {
    /// Name.
    pub name: Option<String>,
    /// Description (`Some(None)` clears).
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
    pub min_participants: Option<u32>,
    /// Capacity.
    pub max_participants: Option<u32>,
    /// Reviews per decision.
    pub min_reviews: Option<u32>,
    /// Blind review.
    pub blind_review: Option<bool>,
    /// Eligible sectors.
    pub target_sectors: Option<Vec<String>>,
    /// Eligible stages.
    pub target_stages: Option<Vec<ProjectStage>>,
    /// Format.
    pub format: Option<ProgramFormat>,
    /// Review rounds; refused (on `rounds`) once an application has entered them.
    pub rounds: Option<Vec<RoundInput>>,
    /// The version read.
    pub version: Option<u64>,
}

fn clean_sectors(sectors: Vec<String>, errors: &mut ValidationErrors) -> Vec<String> {
    let cleaned: Vec<String> = sectors
        .into_iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if cleaned.len() > 50 || cleaned.iter().any(|s| s.chars().count() > 100) {
        errors.push("target_sectors", "at most 50 sectors of at most 100 characters");
    }
    cleaned
}

impl<T: Transaction> Uow<T> {
    /// Loads a program for `action` (locked): invisible → `NotFound`, visible but not allowed →
    /// `Forbidden`.
    pub(crate) async fn program_for(&mut self, id: ProgramId, action: Action) -> Result<Program> {
        let program = self.load_for_update(id).await?;
        self.authorize_program(&program, action).await?;
        Ok(program)
    }

    /// The caller may run `action` on `program`: invisible → `NotFound`, visible but not
    /// allowed → `Forbidden`.
    pub(crate) async fn authorize_program(&mut self, program: &Program, action: Action) -> Result<()> {
        let facts = Facts {
            org_role: self.org_role(program.organization_id).await?,
            is_public: program.status != ProgramStatus::Draft,
            ..Facts::none()
        };
        authorize_seen(
            &self.ctx.actor,
            Action::ViewProgram,
            action,
            &facts,
            "program",
            program.id,
        )
    }
}

impl<S: Store, N: Notifier, C: Clock> Ecosystem<S, N, C> {
    /// Creates a draft program (admins, and owners/coordinators of its organization).
    pub async fn create_program(&self, ctx: &Context, input: CreateProgram) -> Result<Program> {
        let mut uow = self.uow(ctx).await?;
        let org = uow
            .get(input.organization_id)
            .await?
            .ok_or_else(|| Error::invalid("organization_id", "no such organization"))?;
        let facts = Facts::in_org(uow.org_role(org.id).await?);
        authorize(&ctx.actor, Action::ManageProgram, &facts)?;
        let mut errors = ValidationErrors::new();
        let name = errors.check(Name::parse(&input.name).at("name"));
        let description = errors
            .check(optional_text("description", input.description.as_deref(), 10_000))
            .flatten();
        let shape = ProgramShape {
            application_opens_at: input.application_opens_at,
            application_deadline: input.application_deadline,
            start_date: input.start_date,
            end_date: input.end_date,
            min_participants: input.min_participants.unwrap_or(1),
            max_participants: input.max_participants,
            min_reviews: input.min_reviews.unwrap_or(1),
        };
        check_program_shape(&shape, self.limits.max_program_participants, &mut errors);
        let target_sectors = clean_sectors(input.target_sectors, &mut errors);
        let rounds = match &input.rounds {
            Some(rounds) => uow.checked_rounds(org.id, rounds, &self.limits, &mut errors).await?,
            None => Some(Vec::new()),
        };
        errors.into_result()?;
        let rounds = rounds.expect("validated");
        let name = name.expect("validated");
        let slug = uow
            .free_slug(name.as_str(), |slug| ProgramFilter {
                slug: Some(slug),
                ..Default::default()
            })
            .await?;
        let program = Program {
            id: uow.new_id(),
            organization_id: org.id,
            name,
            slug,
            program_type: input.program_type,
            status: ProgramStatus::Draft,
            description,
            application_opens_at: shape.application_opens_at,
            application_deadline: shape.application_deadline,
            start_date: shape.start_date,
            end_date: shape.end_date,
            min_participants: shape.min_participants,
            max_participants: shape.max_participants,
            accepted_count: 0,
            min_reviews: shape.min_reviews,
            blind_review: input.blind_review.unwrap_or(false),
            target_sectors,
            target_stages: input.target_stages,
            format: input.format.unwrap_or(ProgramFormat::Hybrid),
            rounds,
            meta: uow.meta(),
            deletion: Default::default(),
        };
        uow.insert(&program).await?;
        uow.audit(
            "program.create",
            "program",
            program.id,
            Some(org.id),
            None,
            Some(json!({ "status": program.status })),
        )
        .await?;
        uow.commit().await?;
        Ok(program)
    }

    /// A program visible to the caller: non-draft programs to everyone signed in, drafts to
    /// admins and the organization's members.
    pub async fn get_program(&self, ctx: &Context, id: ProgramId) -> Result<Program> {
        let mut uow = self.uow(ctx).await?;
        let program: Program = uow.load(id).await?;
        let facts = Facts {
            org_role: uow.org_role(program.organization_id).await?,
            is_public: program.status != ProgramStatus::Draft,
            ..Facts::none()
        };
        authorize_seen(
            &ctx.actor,
            Action::ViewProgram,
            Action::ViewProgram,
            &facts,
            "program",
            id,
        )?;
        Ok(program)
    }

    /// Lists programs (`?organization_id&status&accepting=true`). Drafts are listed only for
    /// admins and for members of the organization named in the filter.
    pub async fn list_programs(
        &self,
        ctx: &Context,
        filter: ProgramFilter,
        page: PageRequest,
    ) -> Result<Page<Program>> {
        let mut uow = self.uow(ctx).await?;
        let sees_drafts = ctx.actor.is_admin()
            || match filter.organization_id {
                Some(org) => uow.org_role(org).await?.is_some(),
                None => false,
            };
        let mut filter = filter;
        if !sees_drafts {
            filter.exclude_drafts = true;
        }
        if !ctx.actor.is_admin() {
            filter.include_deleted = false;
        }
        uow.list(&filter, page).await
    }

    /// Edits a program (staff of its organization and admins). Dates and sizes follow the same
    /// rules as at creation; the capacity never drops below the seats already taken.
    pub async fn update_program(&self, ctx: &Context, id: ProgramId, input: UpdateProgram) -> Result<Program> {
        let mut uow = self.uow(ctx).await?;
        let mut program = uow.program_for(id, Action::ManageProgram).await?;
        check_version(&program, input.version)?;
        if program.status.is_terminal() {
            return Err(Error::invalid_transition("program", program.status.as_str(), "update"));
        }
        let mut errors = ValidationErrors::new();
        if let Some(name) = input.name.as_deref()
            && let Some(name) = errors.check(Name::parse(name).at("name"))
        {
            program.name = name;
        }
        if let Some(description) = input.description {
            program.description = errors
                .check(optional_text("description", description.as_deref(), 10_000))
                .flatten();
        }
        let schedule_change = input.application_opens_at.is_some()
            || input.application_deadline.is_some()
            || input.start_date.is_some()
            || input.end_date.is_some();
        if schedule_change && program.status == ProgramStatus::InProgress {
            errors.push("start_date", "the schedule of a running program cannot change");
        }
        program.application_opens_at = input.application_opens_at.unwrap_or(program.application_opens_at);
        program.application_deadline = input.application_deadline.unwrap_or(program.application_deadline);
        program.start_date = input.start_date.unwrap_or(program.start_date);
        program.end_date = input.end_date.unwrap_or(program.end_date);
        program.min_participants = input.min_participants.unwrap_or(program.min_participants);
        program.max_participants = input.max_participants.unwrap_or(program.max_participants);
        program.min_reviews = input.min_reviews.unwrap_or(program.min_reviews);
        let shape = ProgramShape {
            application_opens_at: program.application_opens_at,
            application_deadline: program.application_deadline,
            start_date: program.start_date,
            end_date: program.end_date,
            min_participants: program.min_participants,
            max_participants: program.max_participants,
            min_reviews: program.min_reviews,
        };
        check_program_shape(&shape, self.limits.max_program_participants, &mut errors);
        if program.max_participants < program.accepted_count {
            errors.push(
                "max_participants",
                format!("{} applications are already accepted", program.accepted_count),
            );
        }
        if let Some(sectors) = input.target_sectors {
            program.target_sectors = clean_sectors(sectors, &mut errors);
        }
        if let Some(rounds) = &input.rounds {
            let unchanged = rounds.len() == program.rounds.len()
                && rounds
                    .iter()
                    .zip(&program.rounds)
                    .all(|(new, old)| *new == RoundInput::from(old));
            // Applications in a round were reviewed by its rules: the process is fixed once any
            // application has entered it (submitted), so no decision mixes two definitions.
            if !unchanged && uow.rounds_entered(&program).await? {
                errors.push(
                    "rounds",
                    "the rounds cannot change once an application has entered them",
                );
            } else if let Some(rounds) = uow
                .checked_rounds(program.organization_id, rounds, &self.limits, &mut errors)
                .await?
            {
                program.rounds = rounds;
            }
        }
        errors.into_result()?;
        if let Some(v) = input.target_stages {
            program.target_stages = v;
        }
        if let Some(v) = input.blind_review {
            program.blind_review = v;
        }
        if let Some(v) = input.format {
            program.format = v;
        }
        let program = uow.update(program).await?;
        uow.audit(
            "program.update",
            "program",
            program.id,
            Some(program.organization_id),
            None,
            None,
        )
        .await?;
        uow.commit().await?;
        Ok(program)
    }

    /// Runs a lifecycle command (`publish`, `start`, `complete`, `cancel`). Starting activates
    /// the enrollments; completing graduates the active ones; every participant is notified.
    pub async fn program_command(
        &self,
        ctx: &Context,
        id: ProgramId,
        command: ProgramCommand,
        version: impl Into<Expect>,
    ) -> Result<Program> {
        let mut uow = self.uow(ctx).await?;
        let mut program = uow.program_for(id, Action::ManageProgram).await?;
        check_version(&program, version)?;
        let facts = ProgramFacts {
            application_opens_at: program.application_opens_at,
            application_deadline: program.application_deadline,
            start_date: program.start_date,
            end_date: program.end_date,
            accepted: program.accepted_count,
            min_participants: program.min_participants,
        };
        let from = program.status;
        let (to, event) = wf::transition(from, command, &facts, uow.now)?;
        program.status = to;
        let program = uow.update(program).await?;
        let org = Some(program.organization_id);
        uow.audit_transition(
            &format!("program.{}", command.as_str()),
            "program",
            program.id,
            org,
            from.as_str(),
            to.as_str(),
        )
        .await?;
        let enrollment_change = match event {
            ProgramEvent::Started => Some((EnrollmentStatus::Enrolled, EnrollmentCommand::Activate)),
            ProgramEvent::Completed => Some((EnrollmentStatus::Active, EnrollmentCommand::Graduate)),
            _ => None,
        };
        if let Some((status, command)) = enrollment_change {
            let enrollments = uow
                .all(&EnrollmentFilter {
                    program_id: Some(program.id),
                    status: Some(status),
                    ..Default::default()
                })
                .await?;
            for mut e in enrollments {
                let from = e.status;
                e.status = enrollment::transition(e.status, command)?;
                if e.status.is_terminal() {
                    e.ended_at = Some(uow.now);
                }
                let e = uow.update(e).await?;
                uow.audit_transition(
                    &format!("enrollment.{}", command.as_str()),
                    "enrollment",
                    e.id,
                    org,
                    from.as_str(),
                    e.status.as_str(),
                )
                .await?;
            }
        }
        let recipients = uow
            .all(&EnrollmentFilter {
                program_id: Some(program.id),
                ..Default::default()
            })
            .await?;
        if matches!(
            event,
            ProgramEvent::Started | ProgramEvent::Completed | ProgramEvent::Cancelled
        ) {
            for e in recipients
                .into_iter()
                .filter(|e| e.status != EnrollmentStatus::DroppedOut)
            {
                uow.notify_id(
                    e.entrepreneur_id,
                    Notice::new(
                        "program_status",
                        format!("{} is now {}", program.name, program.status),
                        format!("The program {} is now {}.", program.name, program.status),
                        json!({ "program_id": program.id, "status": program.status }),
                    ),
                )
                .await?;
            }
        }
        uow.commit().await?;
        Ok(program)
    }

    /// Soft-deletes a draft or cancelled program.
    pub async fn delete_program(&self, ctx: &Context, id: ProgramId, version: impl Into<Expect>) -> Result<()> {
        let mut uow = self.uow(ctx).await?;
        let mut program = uow.program_for(id, Action::ManageProgram).await?;
        check_version(&program, version)?;
        if !matches!(program.status, ProgramStatus::Draft | ProgramStatus::Cancelled) {
            return Err(Error::invalid_transition("program", program.status.as_str(), "delete"));
        }
        program.deletion.deleted_at = Some(uow.now);
        program.deletion.deleted_by = ctx.actor.user_id();
        let org = program.organization_id;
        uow.update(program).await?;
        uow.audit("program.delete", "program", id, Some(org), None, None)
            .await?;
        uow.commit().await
    }

    /// The enrollments of a program (staff and admins).
    pub async fn list_enrollments(
        &self,
        ctx: &Context,
        program: ProgramId,
        status: Option<EnrollmentStatus>,
        page: PageRequest,
    ) -> Result<Page<Enrollment>> {
        let mut uow = self.uow(ctx).await?;
        uow.program_for(program, Action::DecideApplication).await?;
        uow.list(
            &EnrollmentFilter {
                program_id: Some(program),
                status,
                ..Default::default()
            },
            page,
        )
        .await
    }

    /// One enrollment: its entrepreneur, the program's staff, admins.
    pub async fn get_enrollment(&self, ctx: &Context, id: EnrollmentId) -> Result<Enrollment> {
        let mut uow = self.uow(ctx).await?;
        let enrollment: Enrollment = uow.load(id).await?;
        if ctx.actor.user_id() != Some(enrollment.entrepreneur_id) {
            uow.program_for(enrollment.program_id, Action::DecideApplication)
                .await
                .map_err(|_| Error::not_found("enrollment", id))?;
        }
        Ok(enrollment)
    }

    /// The participant leaves (themselves, staff or admins). Before the program starts the seat
    /// goes to the best waitlisted application in the same unit of work.
    pub async fn drop_out(&self, ctx: &Context, id: EnrollmentId, reason: Option<String>) -> Result<Enrollment> {
        let reason = optional_text("reason", reason.as_deref(), 2000).map_err(ValidationErrors::from)?;
        let mut uow = self.uow(ctx).await?;
        let enrollment: Enrollment = uow.load(id).await?;
        let mut program = if ctx.actor.user_id() == Some(enrollment.entrepreneur_id) {
            uow.load_for_update(enrollment.program_id).await?
        } else {
            // Whoever may see an enrollment may also end it, so a refusal here means the caller
            // cannot see it: 404, as `get_enrollment` answers, never a 403 that confirms it exists.
            uow.program_for(enrollment.program_id, Action::DecideApplication)
                .await
                .map_err(|e| match e {
                    Error::NotFound { .. } | Error::Forbidden(_) => Error::not_found("enrollment", id),
                    other => other,
                })?
        };
        // Re-read under the program lock: the enrollment may have changed meanwhile.
        let mut enrollment: Enrollment = uow.load(id).await?;
        let from = enrollment.status;
        enrollment.status = enrollment::transition(from, EnrollmentCommand::DropOut)?;
        enrollment.ended_at = Some(uow.now);
        enrollment.drop_reason = reason;
        let enrollment = uow.update(enrollment).await?;
        let org = Some(program.organization_id);
        uow.audit_transition(
            "enrollment.drop_out",
            "enrollment",
            enrollment.id,
            org,
            from.as_str(),
            "dropped_out",
        )
        .await?;
        program.accepted_count = program.accepted_count.saturating_sub(1);
        let program = uow.update(program).await?;
        self.promote_from_waitlist(&mut uow, program).await?;
        uow.commit().await?;
        Ok(enrollment)
    }
}
