//! Authorization: one pure function over (actor, action, facts) — docs/domain.md §2.
//!
//! The service loads the facts that relate the actor to the resource (is the actor its owner,
//! which role do they hold in its organization, are they an assigned reviewer …) and asks
//! [`authorize`]. Keeping the decision pure means the whole permission table is testable
//! without a store, and every adapter (HTTP, jobs, embedders) gets the same answers.
//!
//! The platform-role columns and the organization-role columns of the table are additive: a
//! coordinator of an organization is also a user with a platform role, and either may grant.

use crate::error::Forbidden;
use crate::model::{Actor, DocumentAccess, MemberRole, Role};

/// Something an actor may try to do (the rows of docs/domain.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Manage any user: create, edit, change role or status, unlock.
    ManageUsers,
    /// Create an organization.
    CreateOrganization,
    /// See an organization.
    ViewOrganization,
    /// Edit an organization.
    EditOrganization,
    /// Add or remove an organization's members.
    ManageMembers,
    /// See a program.
    ViewProgram,
    /// Create, edit, publish, start, complete or cancel a program.
    ManageProgram,
    /// Create a project.
    CreateProject,
    /// Edit a project or its milestones.
    EditProject,
    /// See a project.
    ViewProject,
    /// Apply to a program with a project.
    ApplyToProgram,
    /// Withdraw an application.
    WithdrawApplication,
    /// See an application.
    ViewApplication,
    /// Assign reviewers to an application.
    AssignReviewers,
    /// Accept, reject, waitlist or promote an application.
    DecideApplication,
    /// Score an application.
    ReviewApplication,
    /// Ask an ally for mentorship.
    RequestMentorship,
    /// Accept/decline a mentorship and manage its sessions.
    ManageMentorship,
    /// Schedule a meeting.
    ScheduleMeeting,
    /// Read the audit log.
    ReadAudit,
    /// Propose and confirm a program's whole-cohort mentor matching (docs/domain.md §11).
    MatchCohort,
    /// See the outbox's delivery state and re-queue failed messages (dead letters, §8).
    ManageOutbox,
    /// Register, change, rotate, test and remove an organization's webhook endpoints and read
    /// their delivery log (docs/domain.md §8).
    ManageWebhooks,
    /// Read a program's analytics and export its lists (docs/domain.md §9: program staff).
    ReadProgramAnalytics,
    /// Read an organization's analytics (docs/domain.md §9: org owners).
    ReadOrganizationAnalytics,
    /// Read mentoring analytics beyond one's own (docs/domain.md §9: admins for the platform,
    /// program staff for their organization's entrepreneurs).
    ReadMentoringAnalytics,
    /// Attach a document to a project, application, milestone or session, or upload a new
    /// version of one (docs/domain.md §6: who may edit what it is attached to).
    UploadDocument,
    /// Read a document's metadata and bytes (docs/domain.md §6: by its access level).
    ReadDocument,
    /// Delete a document (its uploader, the participants of what it is attached to, admins).
    DeleteDocument,
    /// Open a conversation (docs/domain.md §7): a direct one with a user one shares a context
    /// with (`owner`: ally ⇄ mentee, applicant ⇄ staff, one organization, one cohort), a context
    /// one as a party of the context (`owner`).
    OpenConversation,
    /// Read a conversation, its messages, and mark it read: its participants (`owner`).
    ViewConversation,
    /// Send a message to a conversation: its participants (`owner`).
    SendMessage,
    /// Edit or delete a message: its sender (`owner`).
    EditMessage,
    /// Block or unblock another user from messaging oneself.
    BlockUser,
}

impl Action {
    /// Every action, for table-driven tests.
    pub const ALL: &'static [Action] = &[
        Action::ManageUsers,
        Action::CreateOrganization,
        Action::ViewOrganization,
        Action::EditOrganization,
        Action::ManageMembers,
        Action::ViewProgram,
        Action::ManageProgram,
        Action::CreateProject,
        Action::EditProject,
        Action::ViewProject,
        Action::ApplyToProgram,
        Action::WithdrawApplication,
        Action::ViewApplication,
        Action::AssignReviewers,
        Action::DecideApplication,
        Action::ReviewApplication,
        Action::RequestMentorship,
        Action::ManageMentorship,
        Action::ScheduleMeeting,
        Action::ReadAudit,
        Action::MatchCohort,
        Action::ManageOutbox,
        Action::ManageWebhooks,
        Action::ReadProgramAnalytics,
        Action::ReadOrganizationAnalytics,
        Action::ReadMentoringAnalytics,
        Action::UploadDocument,
        Action::ReadDocument,
        Action::DeleteDocument,
        Action::OpenConversation,
        Action::ViewConversation,
        Action::SendMessage,
        Action::EditMessage,
        Action::BlockUser,
    ];

    /// The stable name used in errors and audit.
    pub fn name(self) -> &'static str {
        match self {
            Action::ManageUsers => "users.manage",
            Action::CreateOrganization => "organization.create",
            Action::ViewOrganization => "organization.view",
            Action::EditOrganization => "organization.edit",
            Action::ManageMembers => "organization.manage_members",
            Action::ViewProgram => "program.view",
            Action::ManageProgram => "program.manage",
            Action::CreateProject => "project.create",
            Action::EditProject => "project.edit",
            Action::ViewProject => "project.view",
            Action::ApplyToProgram => "application.apply",
            Action::WithdrawApplication => "application.withdraw",
            Action::ViewApplication => "application.view",
            Action::AssignReviewers => "application.assign_reviewers",
            Action::DecideApplication => "application.decide",
            Action::ReviewApplication => "application.review",
            Action::RequestMentorship => "mentorship.request",
            Action::ManageMentorship => "mentorship.manage",
            Action::ScheduleMeeting => "meeting.schedule",
            Action::ReadAudit => "audit.read",
            Action::MatchCohort => "program.match_cohort",
            Action::ManageOutbox => "outbox.manage",
            Action::ManageWebhooks => "webhook.manage",
            Action::ReadProgramAnalytics => "program.analytics",
            Action::ReadOrganizationAnalytics => "organization.analytics",
            Action::ReadMentoringAnalytics => "mentoring.analytics",
            Action::UploadDocument => "document.upload",
            Action::ReadDocument => "document.read",
            Action::DeleteDocument => "document.delete",
            Action::OpenConversation => "conversation.open",
            Action::ViewConversation => "conversation.view",
            Action::SendMessage => "message.send",
            Action::EditMessage => "message.edit",
            Action::BlockUser => "user.block",
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Action::ManageUsers => "user",
            Action::CreateOrganization
            | Action::ViewOrganization
            | Action::EditOrganization
            | Action::ManageMembers => "organization",
            Action::ViewProgram | Action::ManageProgram | Action::MatchCohort => "program",
            Action::CreateProject | Action::EditProject | Action::ViewProject => "project",
            Action::ApplyToProgram
            | Action::WithdrawApplication
            | Action::ViewApplication
            | Action::AssignReviewers
            | Action::DecideApplication
            | Action::ReviewApplication => "application",
            Action::RequestMentorship | Action::ManageMentorship => "mentorship",
            Action::ScheduleMeeting => "meeting",
            Action::ReadAudit => "audit_event",
            Action::ManageOutbox => "outbox_message",
            Action::ManageWebhooks => "webhook",
            Action::ReadProgramAnalytics => "program",
            Action::ReadOrganizationAnalytics => "organization",
            Action::ReadMentoringAnalytics => "mentorship",
            Action::UploadDocument | Action::ReadDocument | Action::DeleteDocument => "document",
            Action::OpenConversation | Action::ViewConversation => "conversation",
            Action::SendMessage | Action::EditMessage => "message",
            Action::BlockUser => "user",
        }
    }
}

/// How the actor relates to the resource. The service fills in what it knows; the defaults say
/// "no relation".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The actor owns the resource (project owner, applicant, the mentorship's ally, the
    /// audit entries are the actor's own).
    pub owner: bool,
    /// The actor's role in the organization the resource belongs to.
    pub org_role: Option<MemberRole>,
    /// The actor is an assigned reviewer of the application (or of an application of the
    /// project).
    pub assigned_reviewer: bool,
    /// The actor is an ally mentoring the resource's owner in an active mentorship.
    pub mentor_of_owner: bool,
    /// The resource is public (an `is_public` project or organization, a non-draft program).
    pub is_public: bool,
    /// The project applies to a program of an organization where the actor is staff.
    pub applies_to_staff_org: bool,
    /// For documents: the document's access level (`private` when no document is concerned).
    pub document_access: DocumentAccess,
    /// For documents: the actor sees what the document is attached to without the applicant's
    /// identity (a blind program or round) and the document is not `blind_safe`.
    pub identity_withheld: bool,
}

impl Facts {
    /// No relation at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The actor owns the resource.
    pub fn owned(owner: bool) -> Self {
        Self {
            owner,
            ..Self::default()
        }
    }

    /// The actor's role in the resource's organization.
    pub fn in_org(org_role: Option<MemberRole>) -> Self {
        Self {
            org_role,
            ..Self::default()
        }
    }
}

/// Decides whether `actor` may do `action` given `facts`. The system actor may do everything
/// (jobs and automatic promotions act for the platform); anonymous callers nothing.
pub fn authorize(actor: &Actor, action: Action, facts: &Facts) -> Result<(), Forbidden> {
    if allowed(actor, action, facts) {
        Ok(())
    } else {
        Err(Forbidden {
            action: action.name(),
            resource: action.resource(),
        })
    }
}

fn allowed(actor: &Actor, action: Action, f: &Facts) -> bool {
    let role = match actor {
        Actor::System => return true,
        Actor::Anonymous => return false,
        Actor::User { role, .. } => *role,
    };
    let admin = role == Role::Admin;
    let staff = f.org_role.is_some_and(MemberRole::is_staff);
    let org_owner = f.org_role == Some(MemberRole::Owner);
    let member = f.org_role.is_some();
    match action {
        Action::ManageUsers => admin,
        Action::CreateOrganization => matches!(role, Role::Admin | Role::Ally | Role::Client),
        Action::ViewOrganization => admin || member || f.is_public,
        Action::EditOrganization | Action::ManageMembers | Action::ManageWebhooks => admin || org_owner,
        Action::ViewProgram => admin || member || f.is_public,
        Action::ManageProgram => admin || staff,
        Action::CreateProject => matches!(role, Role::Admin | Role::Entrepreneur),
        Action::EditProject => admin || (role == Role::Entrepreneur && f.owner),
        Action::ViewProject => {
            admin
                || (role == Role::Entrepreneur && f.owner)
                || (role == Role::Ally && f.mentor_of_owner)
                // An `is_public` project is readable by every signed-in user, whatever the
                // role (docs/domain.md §2 below the table).
                || f.is_public
                || f.applies_to_staff_org
                || (member && f.assigned_reviewer)
        }
        Action::ApplyToProgram | Action::WithdrawApplication => role == Role::Entrepreneur && f.owner,
        // An assignment counts only while the reviewer is still a member of the organization.
        Action::ViewApplication => admin || f.owner || staff || (member && f.assigned_reviewer),
        Action::AssignReviewers | Action::DecideApplication => admin || staff,
        Action::ReviewApplication => staff || (member && f.assigned_reviewer),
        Action::RequestMentorship => role == Role::Entrepreneur,
        Action::ManageMentorship => admin || (role == Role::Ally && f.owner),
        Action::ScheduleMeeting => true,
        Action::ReadAudit => admin || f.owner || staff,
        // Pairing a cohort with mentors is running the program.
        Action::MatchCohort => admin || staff,
        // Dead letters span every organization and carry addresses: platform operations.
        Action::ManageOutbox => admin,
        // §9: program staff for their programs (reviewers score, they do not run the program);
        // org owners for their organization; mentoring beyond one's own likewise staff-only.
        Action::ReadProgramAnalytics | Action::ReadMentoringAnalytics => admin || staff,
        Action::ReadOrganizationAnalytics => admin || org_owner,
        // §6: the participants of what a document is attached to (`owner`: the project's owner,
        // the applicant, the session's ally and entrepreneur) edit it, so they attach to it.
        Action::UploadDocument => admin || f.owner,
        // §6: a blind view never carries a document with the applicant's identity, whatever
        // the access level; otherwise `private` is for the participants (and the uploader),
        // `organization` adds whoever sees what it is attached to through a relation (staff,
        // assigned reviewers, mentors; not merely because a project is public), `public`
        // every signed-in user.
        Action::ReadDocument => {
            !f.identity_withheld
                && (admin
                    || f.owner
                    || match f.document_access {
                        DocumentAccess::Private => false,
                        DocumentAccess::Organization => {
                            staff
                                || (member && f.assigned_reviewer)
                                || (role == Role::Ally && f.mentor_of_owner)
                                || f.applies_to_staff_org
                        }
                        DocumentAccess::Public => true,
                    })
        }
        Action::DeleteDocument => admin || f.owner,
        // §7 "users who share a context … and admins; anyone else is 403".
        Action::OpenConversation => admin || f.owner,
        // Private correspondence: its participants only, admins included (an admin reads a
        // conversation by opening it, which makes them a visible participant).
        Action::ViewConversation | Action::SendMessage | Action::EditMessage => f.owner,
        Action::BlockUser => true,
    }
}
