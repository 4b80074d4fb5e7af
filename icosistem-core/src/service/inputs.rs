//! Constructors for the command inputs: `new` takes what a command cannot do without, and a
//! `with_*` method sets each optional field, so an embedder writes
//!
//! ```
//! use icosistem_core::prelude::*;
//!
//! let input = CreateOrganization::new("Aceleradora Andina", OrganizationType::Accelerator)
//!     .with_website("andina.example.org")
//!     .with_is_public(false);
//! assert_eq!(input.website.as_deref(), Some("andina.example.org"));
//! assert_eq!(input.description, None);
//! ```
//!
//! instead of spelling out every `None`. The fields stay public: a struct literal still works,
//! and the validation (with every failing field named) happens in the use case either way.

use std::ops::{Range, RangeInclusive};

use chrono::{DateTime, NaiveDate, Utc};

use super::AdminUpdateUser;
use super::{
    AdminCreateUser, BookSession, CreateMilestone, CreateOrganization, CreateProgram, CreateProject, CreateTask,
    CreateWebhook, Expect, Register, RequestMentorship, RoundInput, ScheduleMeeting, SubmitReview, UpdateMe,
    UpdateMilestone, UpdateOrganization, UpdateProgram, UpdateProject, UpdateTask, UpdateWebhook,
};
use crate::model::secret::SecretString;
use crate::model::value::Money;
use crate::model::{
    FundingStage, OrganizationId, OrganizationType, Priority, ProgramFormat, ProgramType, ProjectId, ProjectStage,
    ProjectType, Role, TaskId, UserId,
};

/// `Some(value)` of the field's type (a generic conversion, so a setter taking the field's own
/// type needs no special case).
fn some<T>(value: impl Into<T>) -> Option<T> {
    Some(value.into())
}

/// `with_*` setters of optional fields: each sets `Some(value)`.
macro_rules! setters {
    ($ty:ident { $($method:ident => $field:ident: $arg:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                #[must_use]
                pub fn $method(mut self, value: $arg) -> Self {
                    self.$field = some(value);
                    self
                }
            )*
        }
    };
}

/// `expecting` on the update inputs: the version the caller read.
macro_rules! expecting {
    ($($ty:ident),* $(,)?) => {
        $(
            impl $ty {
                /// Sets the version the caller read ([`Expect::Any`] for none); a stale one is
                /// refused with `Conflict { field: "version" }`.
                #[must_use]
                pub fn expecting(mut self, version: impl Into<Expect>) -> Self {
                    self.version = version.into().version();
                    self
                }
            }
        )*
    };
}

expecting!(
    UpdateOrganization,
    UpdateProgram,
    UpdateProject,
    UpdateMilestone,
    UpdateTask,
    UpdateWebhook,
    UpdateMe,
    AdminUpdateUser
);

impl CreateOrganization {
    /// An organization named `name` of kind `organization_type`; everything else defaulted.
    pub fn new(name: impl Into<String>, organization_type: OrganizationType) -> Self {
        Self {
            name: name.into(),
            organization_type,
            is_public: None,
            allow_applications: None,
            email: None,
            website: None,
            tax_id: None,
            description: None,
        }
    }
}

setters!(CreateOrganization {
    with_is_public => is_public: bool,
    with_allow_applications => allow_applications: bool,
    with_email => email: impl Into<String>,
    with_website => website: impl Into<String>,
    with_tax_id => tax_id: impl Into<String>,
    with_description => description: impl Into<String>,
});

impl CreateProgram {
    /// A program of `organization_id` taking applications during `applications` (opens at its
    /// start, closes at its end) and running on the days of `dates`, for at most
    /// `max_participants`; everything else defaulted (one implicit review round).
    pub fn new(
        organization_id: OrganizationId,
        name: impl Into<String>,
        program_type: ProgramType,
        applications: Range<DateTime<Utc>>,
        dates: RangeInclusive<NaiveDate>,
        max_participants: u32,
    ) -> Self {
        let (start_date, end_date) = dates.into_inner();
        Self {
            organization_id,
            name: name.into(),
            program_type,
            description: None,
            application_opens_at: applications.start,
            application_deadline: applications.end,
            start_date,
            end_date,
            min_participants: None,
            max_participants,
            min_reviews: None,
            blind_review: None,
            target_sectors: Vec::new(),
            target_stages: Vec::new(),
            format: None,
            rounds: None,
        }
    }

    /// Sets the eligible sectors.
    #[must_use]
    pub fn with_target_sectors(mut self, sectors: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.target_sectors = sectors.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the eligible stages.
    #[must_use]
    pub fn with_target_stages(mut self, stages: impl IntoIterator<Item = ProjectStage>) -> Self {
        self.target_stages = stages.into_iter().collect();
        self
    }
}

setters!(CreateProgram {
    with_description => description: impl Into<String>,
    with_min_participants => min_participants: u32,
    with_min_reviews => min_reviews: u32,
    with_blind_review => blind_review: bool,
    with_format => format: ProgramFormat,
    with_rounds => rounds: Vec<RoundInput>,
});

impl CreateProject {
    /// A project named `name` with its `description` (10–10 000 characters); everything else
    /// defaulted.
    pub fn new(name: impl Into<String>, description: impl Into<String>, project_type: ProjectType) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            project_type,
            tagline: None,
            category: None,
            priority: None,
            stage: None,
            funding_stage: None,
            funding_target: None,
            team_size: None,
            is_public: None,
            seeking_mentorship: None,
        }
    }
}

setters!(CreateProject {
    with_tagline => tagline: impl Into<String>,
    with_category => category: impl Into<String>,
    with_priority => priority: Priority,
    with_stage => stage: ProjectStage,
    with_funding_stage => funding_stage: FundingStage,
    with_funding_target => funding_target: Money,
    with_team_size => team_size: u32,
    with_is_public => is_public: bool,
    with_seeking_mentorship => seeking_mentorship: bool,
});

impl CreateMilestone {
    /// A milestone `title` due on `target_date` (after today).
    pub fn new(title: impl Into<String>, target_date: NaiveDate) -> Self {
        Self {
            title: title.into(),
            description: None,
            target_date,
            priority: None,
        }
    }
}

setters!(CreateMilestone {
    with_description => description: impl Into<String>,
    with_priority => priority: Priority,
});

impl CreateTask {
    /// A task `title` for the caller; everything else defaulted.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }
}

setters!(CreateTask {
    with_description => description: impl Into<String>,
    with_assignee => assignee_id: UserId,
    with_project => project_id: ProjectId,
    with_parent => parent_id: TaskId,
    with_priority => priority: Priority,
    with_due_date => due_date: NaiveDate,
});

impl CreateWebhook {
    /// An endpoint at `url` receiving `events`.
    pub fn new(url: impl Into<String>, events: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            url: url.into(),
            events: events.into_iter().map(Into::into).collect(),
            description: None,
        }
    }
}

setters!(CreateWebhook {
    with_description => description: impl Into<String>,
});

impl Register {
    /// A self-registration of `email` with `password` (checked against the policy) as `role`
    /// (`entrepreneur`, `ally` or `client`).
    pub fn new(
        email: impl Into<String>,
        password: impl Into<SecretString>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        role: Role,
    ) -> Self {
        Self {
            email: email.into(),
            password: password.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            role,
        }
    }
}

impl AdminCreateUser {
    /// A user an admin creates: any role, verified and active from the start.
    pub fn new(
        email: impl Into<String>,
        password: impl Into<SecretString>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        role: Role,
    ) -> Self {
        Self {
            email: email.into(),
            password: password.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            role,
        }
    }
}

impl ScheduleMeeting {
    /// A meeting `title` from `starts_at` to `ends_at`, nobody invited yet.
    pub fn new(title: impl Into<String>, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Self {
        Self {
            title: title.into(),
            description: None,
            location: None,
            starts_at,
            ends_at,
            participant_ids: Vec::new(),
        }
    }

    /// Sets who is invited.
    #[must_use]
    pub fn with_participants(mut self, participants: impl IntoIterator<Item = UserId>) -> Self {
        self.participant_ids = participants.into_iter().collect();
        self
    }
}

setters!(ScheduleMeeting {
    with_description => description: impl Into<String>,
    with_location => location: impl Into<String>,
});

impl BookSession {
    /// A session starting at `starts_at`, of the default length, without an agenda.
    pub fn new(starts_at: DateTime<Utc>) -> Self {
        Self {
            starts_at,
            duration_minutes: None,
            agenda: None,
        }
    }
}

setters!(BookSession {
    with_duration_minutes => duration_minutes: u16,
    with_agenda => agenda: impl Into<String>,
});

impl RequestMentorship {
    /// A request to the ally `ally_id`, with no message, areas or project.
    pub fn new(ally_id: UserId) -> Self {
        Self {
            ally_id,
            message: None,
            areas: Vec::new(),
            project_id: None,
            duration_months: None,
        }
    }

    /// Sets the areas the entrepreneur wants help with.
    #[must_use]
    pub fn with_areas(mut self, areas: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.areas = areas.into_iter().map(Into::into).collect();
        self
    }
}

setters!(RequestMentorship {
    with_message => message: impl Into<String>,
    with_project => project_id: ProjectId,
    with_duration_months => duration_months: u8,
});

impl SubmitReview {
    /// A review scoring `score` (0–100), without comment or declared conflict.
    pub fn new(score: i64) -> Self {
        Self {
            score,
            comment: None,
            conflict_declared: false,
        }
    }

    /// Declares a conflict of interest: the review is recorded but does not count.
    #[must_use]
    pub fn with_conflict_declared(mut self) -> Self {
        self.conflict_declared = true;
        self
    }
}

setters!(SubmitReview {
    with_comment => comment: impl Into<String>,
});

impl RoundInput {
    /// A round `name` decided by `min_reviews` reviews with a mean score of at least
    /// `threshold`, open to any reviewer of the organization, not blind.
    pub fn new(name: impl Into<String>, min_reviews: i64, threshold: i64) -> Self {
        Self {
            name: name.into(),
            reviewer_ids: Vec::new(),
            min_reviews,
            threshold,
            blind: false,
        }
    }

    /// Sets who may review in the round.
    #[must_use]
    pub fn with_reviewers(mut self, reviewers: impl IntoIterator<Item = UserId>) -> Self {
        self.reviewer_ids = reviewers.into_iter().collect();
        self
    }

    /// Makes the round blind: its reviewers do not see who applied.
    #[must_use]
    pub fn blind(mut self) -> Self {
        self.blind = true;
        self
    }
}
