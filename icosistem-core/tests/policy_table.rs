//! The permission table of docs/domain.md §2, as data, against `policy::authorize`.
//!
//! The expected answers below were written from docs/domain.md §2 (and, for the rows §2 does not
//! list, from the tenancy rules of §2/§3 and the views of §4.2), not from `policy.rs`. Each
//! subject is a platform role (or `System`/`Anonymous`) plus one *relation* to the resource,
//! expressed as the [`Facts`] the service would hand to `authorize`.
//!
//! Reading docs/domain.md §2: a user has exactly one platform role and may also hold a role in the
//! resource's organization; the platform-role columns and the organization-role columns grant
//! independently (a coordinator who is an `ally` gets both columns). A blank cell grants nothing.
//! `System` is the platform itself (jobs, automatic promotion) and passes every check;
//! `Anonymous` has no role, so no column grants it anything.

use std::collections::HashSet;

use icosistem_core::model::{Actor, MemberRole, Role, UserId};
use icosistem_core::policy::{Action, Facts, authorize};

/// How the acting user relates to the resource. The order is the column order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// No relation at all, and the resource is private.
    None,
    /// The actor owns the resource: the project's owner, the applicant, the mentorship's ally,
    /// the author of the audited actions.
    Own,
    /// Owner of the resource's organization.
    OrgOwner,
    /// Coordinator of the resource's organization.
    OrgCoordinator,
    /// Reviewer of the resource's organization, not assigned to this application.
    OrgReviewer,
    /// Reviewer of the resource's organization, assigned to this application (or to an
    /// application of this project).
    AssignedReviewer,
    /// Still assigned, but no longer a member of the organization (removed after assignment).
    FormerReviewer,
    /// An ally mentoring the resource's owner in an active mentorship.
    MentorOfOwner,
    /// The resource is public (`is_public` project or organization, a non-draft program).
    Public,
    /// Staff of an organization one of whose programs the project applies to.
    AppliesToMyOrg,
}

/// The columns of every row string, in order.
const RELATIONS: [Relation; 10] = [
    Relation::None,
    Relation::Own,
    Relation::OrgOwner,
    Relation::OrgCoordinator,
    Relation::OrgReviewer,
    Relation::AssignedReviewer,
    Relation::FormerReviewer,
    Relation::MentorOfOwner,
    Relation::Public,
    Relation::AppliesToMyOrg,
];

fn facts(relation: Relation) -> Facts {
    let none = Facts::none();
    match relation {
        Relation::None => none,
        Relation::Own => Facts { owner: true, ..none },
        Relation::OrgOwner => Facts {
            org_role: Some(MemberRole::Owner),
            ..none
        },
        Relation::OrgCoordinator => Facts {
            org_role: Some(MemberRole::Coordinator),
            ..none
        },
        Relation::OrgReviewer => Facts {
            org_role: Some(MemberRole::Reviewer),
            ..none
        },
        Relation::AssignedReviewer => Facts {
            org_role: Some(MemberRole::Reviewer),
            assigned_reviewer: true,
            ..none
        },
        Relation::FormerReviewer => Facts {
            assigned_reviewer: true,
            ..none
        },
        Relation::MentorOfOwner => Facts {
            mentor_of_owner: true,
            ..none
        },
        Relation::Public => Facts {
            is_public: true,
            ..none
        },
        Relation::AppliesToMyOrg => Facts {
            applies_to_staff_org: true,
            ..none
        },
    }
}

/// One action: for each platform role a string with one cell per [`RELATIONS`] column
/// (`Y` allowed, `.` refused), then the answers for `System` and `Anonymous`.
struct Row {
    action: Action,
    roles: [(Role, &'static str); 4],
    system: bool,
    anonymous: bool,
}

/// A row with the cells of admin, entrepreneur, ally and client, in that order. `System` passes
/// and `Anonymous` fails every row (no column of §2 grants anything to someone without a role).
const fn row(action: Action, [admin, entrepreneur, ally, client]: [&'static str; 4]) -> Row {
    Row {
        action,
        roles: [
            (Role::Admin, admin),
            (Role::Entrepreneur, entrepreneur),
            (Role::Ally, ally),
            (Role::Client, client),
        ],
        system: true,
        anonymous: false,
    }
}

/// The expected table. The columns of every cell string follow [`RELATIONS`]:
///
/// ```text
/// n none · O own · o org owner · C org coordinator · r org reviewer · A assigned org reviewer ·
/// f former (removed) reviewer still assigned · m mentor of the owner · p public · a the project
/// applies to a program of my organization
/// ```
#[rustfmt::skip]
const TABLE: &[Row] = &[
    //                                    admin         entrepreneur  ally          client
    //                                    nOoCrAfmpa    nOoCrAfmpa    nOoCrAfmpa    nOoCrAfmpa
    // §9 "program staff for their programs … org owners for their organization, admins for all".
    row(Action::ReadProgramAnalytics,   ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    row(Action::ReadOrganizationAnalytics,
                                        ["YYYYYYYYYY", "..Y.......", "..Y.......", "..Y......."]),
    row(Action::ReadMentoringAnalytics, ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    // §2 "manage any user, change roles, (de)activate, unlock": admin only.
    row(Action::ManageUsers,            ["YYYYYYYYYY", "..........", "..........", ".........."]),
    // §2 "create organization": admin, ally, client; never an entrepreneur, whatever org role.
    row(Action::CreateOrganization,     ["YYYYYYYYYY", "..........", "YYYYYYYYYY", "YYYYYYYYYY"]),
    // Not a row of §2. §3 `is_public` = "listed in the public directory"; organizations are the
    // tenants, so their members see them; admins see everything.
    row(Action::ViewOrganization,       ["YYYYYYYYYY", "..YYYY..Y.", "..YYYY..Y.", "..YYYY..Y."]),
    // §2 "edit organization, manage members": admin; "owner only" (not coordinators).
    row(Action::EditOrganization,       ["YYYYYYYYYY", "..Y.......", "..Y.......", "..Y......."]),
    row(Action::ManageMembers,          ["YYYYYYYYYY", "..Y.......", "..Y.......", "..Y......."]),
    // §8 "an organization's owner (or an admin) registers endpoints": not coordinators.
    row(Action::ManageWebhooks,         ["YYYYYYYYYY", "..Y.......", "..Y.......", "..Y......."]),
    // Not a row of §2. Members of the organization see its programs (drafts included); everyone
    // signed in sees the published ones (§4.1: a draft is not public yet).
    row(Action::ViewProgram,            ["YYYYYYYYYY", "..YYYY..Y.", "..YYYY..Y.", "..YYYY..Y."]),
    // §2 "create/edit/publish/start/complete/cancel program": admin; owner/coordinator (own org).
    row(Action::ManageProgram,          ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    // §2 "create/edit own project, milestones": admin; entrepreneur (own).
    row(Action::CreateProject,          ["YYYYYYYYYY", "YYYYYYYYYY", "..........", ".........."]),
    row(Action::EditProject,            ["YYYYYYYYYY", ".Y........", "..........", ".........."]),
    // §2 "view project": admin all; entrepreneur own; ally mentees' projects; owner/coordinator
    // projects applying to own programs; reviewer assigned applications' projects — as an org
    // reviewer: once removed from the organization (`FormerReviewer`) the assignment grants
    // nothing, as for ViewApplication. An `is_public` project is readable by every role (§2,
    // widened below the table), not only by clients.
    row(Action::ViewProject,            ["YYYYYYYYYY", ".Y...Y..YY", ".....Y.YYY", ".....Y..YY"]),
    // §2 "apply to a program / withdraw": entrepreneur, own projects. The admin cell is blank.
    row(Action::ApplyToProgram,         ["..........", ".Y........", "..........", ".........."]),
    row(Action::WithdrawApplication,    ["..........", ".Y........", "..........", ".........."]),
    // Not a row of §2. The applicant sees their application; "org staff see and manage only their
    // own organization's … applications" (§2); a reviewer sees the applications assigned to them
    // (§4.2's reviewer-facing view) as an *org reviewer*: once removed from the organization
    // (`FormerReviewer`) they are no longer its staff. An unassigned reviewer sees nothing.
    row(Action::ViewApplication,        ["YYYYYYYYYY", ".YYY.Y....", ".YYY.Y....", ".YYY.Y...."]),
    // §2 "assign reviewers, decide applications": admin; owner/coordinator (own org).
    row(Action::AssignReviewers,        ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    row(Action::DecideApplication,      ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    // §2 "review (score) an application": owner/coordinator ✓; reviewer ✓ assigned only. The admin
    // cell is blank: an admin scores only through an organization role.
    row(Action::ReviewApplication,      ["..YY.Y....", "..YY.Y....", "..YY.Y....", "..YY.Y...."]),
    // §2 "request mentorship": entrepreneur only (the admin cell is blank).
    row(Action::RequestMentorship,      ["..........", "YYYYYYYYYY", "..........", ".........."]),
    // §2 "accept/decline mentorship, manage sessions": admin; ally (own).
    row(Action::ManageMentorship,       ["YYYYYYYYYY", "..........", ".Y........", ".........."]),
    // §2 "schedule meetings": every platform role has the cell, so every signed-in user may (the
    // blank reviewer cell adds nothing, but takes nothing away from the platform role).
    row(Action::ScheduleMeeting,        ["YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY"]),
    // §2 "read audit log": admin; entrepreneur/ally/client own actions; owner/coordinator own org.
    row(Action::ReadAudit,              ["YYYYYYYYYY", ".YYY......", ".YYY......", ".YYY......"]),
    // Not a row of §2. §11 "staff can ask for a whole-cohort mentor assignment … staff confirm
    // it": running a program, so as for ManageProgram: admin; owner/coordinator (own org).
    row(Action::MatchCohort,            ["YYYYYYYYYY", "..YY......", "..YY......", "..YY......"]),
    // Not a row of §2. §8 "failed (dead letter), visible to admins and re-queueable": admin only.
    row(Action::ManageOutbox,           ["YYYYYYYYYY", "..........", "..........", ".........."]),
    // §6 "who may edit the project / application / milestone may upload to it": the parent's
    // participants (`own`: the project's owner, the applicant, a session's two parties), admins.
    row(Action::UploadDocument,         ["YYYYYYYYYY", ".Y........", ".Y........", ".Y........"]),
    // §6 reading, at the default level `private` ("the attachment's participants"); the other
    // levels are `document_access_levels_widen_reading` below.
    row(Action::ReadDocument,           ["YYYYYYYYYY", ".Y........", ".Y........", ".Y........"]),
    // Not a row of §6: deleting is editing the parent, so as for uploading.
    row(Action::DeleteDocument,         ["YYYYYYYYYY", ".Y........", ".Y........", ".Y........"]),
    // §7 "who may open a direct conversation: users who share a context … and admins; anyone
    // else is 403". `Own` is "shares a context with the other user" (direct) or "is a party of
    // the context" (context conversation).
    row(Action::OpenConversation,       ["YYYYYYYYYY", ".Y........", ".Y........", ".Y........"]),
    // Not a row of §2. A conversation is private to its participants (`Own`), whatever the
    // role or organization: an admin reads one only by opening it (becoming a participant).
    row(Action::ViewConversation,       [".Y........", ".Y........", ".Y........", ".Y........"]),
    row(Action::SendMessage,            [".Y........", ".Y........", ".Y........", ".Y........"]),
    // §7 "soft delete by sender"; editing likewise: the sender (`Own`) only.
    row(Action::EditMessage,            [".Y........", ".Y........", ".Y........", ".Y........"]),
    // §7 "a user may block another": every signed-in user.
    row(Action::BlockUser,              ["YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY"]),
];

/// §6 `organization` = "plus the org's staff" (and whoever sees the parent through a relation:
/// assigned reviewers who are still members, the owner's mentor, staff of a program the
/// project applies to — not merely a public project); `public` = "every signed-in user". A
/// blind view withholds a document that is not `blind_safe` whatever its level.
#[test]
fn document_access_levels_widen_reading() {
    use icosistem_core::model::DocumentAccess;
    #[rustfmt::skip]
    let levels = [
        //                               admin         entrepreneur  ally          client
        (DocumentAccess::Organization, ["YYYYYYYYYY", ".YYY.Y...Y", ".YYY.Y.Y.Y", ".YYY.Y...Y"]),
        (DocumentAccess::Public,       ["YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY", "YYYYYYYYYY"]),
    ];
    for (access, cells) in levels {
        for (role, cells) in [Role::Admin, Role::Entrepreneur, Role::Ally, Role::Client]
            .into_iter()
            .zip(cells)
        {
            for (relation, cell) in RELATIONS.iter().zip(cells.chars()) {
                let facts = Facts {
                    document_access: access,
                    ..facts(*relation)
                };
                let allowed = authorize(&user(role), Action::ReadDocument, &facts).is_ok();
                assert_eq!(allowed, cell == 'Y', "{access} {role} {relation:?}");
                let withheld = Facts {
                    identity_withheld: true,
                    ..facts
                };
                assert!(
                    authorize(&user(role), Action::ReadDocument, &withheld).is_err(),
                    "withheld: {access} {role} {relation:?}"
                );
            }
        }
        assert!(
            authorize(
                &Actor::Anonymous,
                Action::ReadDocument,
                &Facts {
                    document_access: access,
                    ..Facts::none()
                }
            )
            .is_err()
        );
    }
}

fn user(role: Role) -> Actor {
    // A fixed id per role, so a failure reproduces to the byte.
    let n = Role::ALL.iter().position(|r| *r == role).expect("role is in Role::ALL") as u128 + 1;
    Actor::User {
        id: UserId::from_uuid(uuid::Uuid::from_u128(n)),
        role,
    }
}

/// Every (subject, action) the table fixes, with the expected answer.
fn expectations() -> Vec<(String, Actor, Facts, Action, bool)> {
    let mut out = Vec::new();
    for row in TABLE {
        for (role, cells) in row.roles {
            let cells: Vec<char> = cells.chars().collect();
            assert_eq!(
                cells.len(),
                RELATIONS.len(),
                "{:?}/{role}: one cell per relation column ({:?})",
                row.action,
                RELATIONS
            );
            for (relation, cell) in RELATIONS.iter().zip(cells) {
                let expected = match cell {
                    'Y' => true,
                    '.' => false,
                    other => panic!("{:?}/{role}: cell {other:?} is neither 'Y' nor '.'", row.action),
                };
                out.push((
                    format!("{role} {relation:?}"),
                    user(role),
                    facts(*relation),
                    row.action,
                    expected,
                ));
            }
        }
        for relation in RELATIONS {
            out.push((
                format!("system {relation:?}"),
                Actor::System,
                facts(relation),
                row.action,
                row.system,
            ));
            out.push((
                format!("anonymous {relation:?}"),
                Actor::Anonymous,
                facts(relation),
                row.action,
                row.anonymous,
            ));
        }
    }
    out
}

#[test]
fn authorize_matches_the_permission_table_of_domain_section_2() {
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (subject, actor, facts, action, expected) in expectations() {
        checked += 1;
        let answer = authorize(&actor, action, &facts);
        if answer.is_ok() != expected {
            mismatches.push(format!(
                "{:<22} {:<36} expected {:<5} got {answer:?}",
                action.name(),
                subject,
                if expected { "allow" } else { "deny" },
            ));
        }
        if let Err(forbidden) = answer {
            // The refusal names the action it refused, so the API can say what was refused.
            assert_eq!(forbidden.action, action.name(), "{subject}");
            assert!(!forbidden.resource.is_empty(), "{subject} {}", action.name());
        }
    }
    assert_eq!(checked, Action::ALL.len() * (Role::ALL.len() + 2) * RELATIONS.len());
    assert!(
        mismatches.is_empty(),
        "authorize disagrees with docs/domain.md §2 on {} of {checked} cells:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_table_covers_every_action_and_every_role_exactly_once() {
    let listed: Vec<Action> = TABLE.iter().map(|row| row.action).collect();
    for action in Action::ALL {
        let rows = listed.iter().filter(|a| *a == action).count();
        assert_eq!(
            rows,
            1,
            "{action:?} ({}) needs exactly one row in TABLE, has {rows}",
            action.name()
        );
    }
    for action in &listed {
        assert!(
            Action::ALL.contains(action),
            "{action:?} has a row but is not in Action::ALL"
        );
    }
    assert_eq!(listed.len(), Action::ALL.len());
    for row in TABLE {
        let roles: Vec<Role> = row.roles.iter().map(|(role, _)| *role).collect();
        assert_eq!(
            roles.len(),
            Role::ALL.len(),
            "{:?}: one entry per platform role",
            row.action
        );
        for role in Role::ALL {
            assert!(roles.contains(role), "{:?}: no entry for {role}", row.action);
        }
    }
}

#[test]
fn action_names_are_distinct() {
    let names: HashSet<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), Action::ALL.len(), "two actions share a name");
}

#[test]
fn system_passes_and_anonymous_fails_everything_whatever_the_facts() {
    let every_fact = Facts {
        owner: true,
        org_role: Some(MemberRole::Owner),
        assigned_reviewer: true,
        mentor_of_owner: true,
        is_public: true,
        applies_to_staff_org: true,
        document_access: icosistem_core::model::DocumentAccess::Public,
        identity_withheld: false,
    };
    for action in Action::ALL {
        for f in [Facts::none(), every_fact] {
            assert!(
                authorize(&Actor::System, *action, &f).is_ok(),
                "system {action:?} {f:?}"
            );
            assert!(
                authorize(&Actor::Anonymous, *action, &f).is_err(),
                "anonymous {action:?} {f:?}"
            );
        }
    }
}
