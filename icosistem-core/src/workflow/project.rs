//! Project lifecycle status and business stage (docs/domain.md §4.3), and the derived progress of
//! §4.4.
//!
//! Status: `draft → active ⇄ paused → completed | cancelled`, `draft|active|paused → cancelled`.
//! Stage: a directed graph advanced by the owner or an admin; entering `launch` sets the launch
//! date.

use super::snake_enum;
use crate::error::Error;

snake_enum! {
    /// The project's lifecycle.
    pub enum ProjectStatus {
        /// Being set up.
        Draft => "draft",
        /// Running.
        Active => "active",
        /// On hold.
        Paused => "paused",
        /// Finished (terminal).
        Completed => "completed",
        /// Abandoned (terminal).
        Cancelled => "cancelled",
    }
}

snake_enum! {
    /// Lifecycle commands.
    pub enum ProjectCommand {
        /// `draft → active`.
        Activate => "activate",
        /// `active → paused`.
        Pause => "pause",
        /// `paused → active`.
        Resume => "resume",
        /// `active|paused → completed`.
        Complete => "complete",
        /// `draft|active|paused → cancelled`.
        Cancel => "cancel",
    }
}

snake_enum! {
    /// Business maturity.
    pub enum ProjectStage {
        /// An idea.
        Idea => "idea",
        /// A worked-out concept.
        Concept => "concept",
        /// A prototype exists.
        Prototype => "prototype",
        /// Validating with customers.
        Validation => "validation",
        /// Building the product.
        Development => "development",
        /// Piloting with real users.
        Pilot => "pilot",
        /// Testing before launch.
        Testing => "testing",
        /// Launched.
        Launch => "launch",
        /// Growing.
        Growth => "growth",
        /// Scaling.
        Scaling => "scaling",
        /// Mature business.
        Mature => "mature",
        /// Changing direction.
        Pivoting => "pivoting",
    }
}

impl ProjectStatus {
    /// Completed and cancelled projects never change status again.
    pub fn is_terminal(self) -> bool {
        matches!(self, ProjectStatus::Completed | ProjectStatus::Cancelled)
    }

    /// Statuses that count toward an entrepreneur's `max_active_projects`.
    pub fn counts_as_open(self) -> bool {
        !self.is_terminal()
    }
}

const STATUS_TABLE: &[(ProjectStatus, ProjectCommand, ProjectStatus)] = {
    use ProjectCommand as C;
    use ProjectStatus as S;
    &[
        (S::Draft, C::Activate, S::Active),
        (S::Active, C::Pause, S::Paused),
        (S::Paused, C::Resume, S::Active),
        (S::Active, C::Complete, S::Completed),
        (S::Paused, C::Complete, S::Completed),
        (S::Draft, C::Cancel, S::Cancelled),
        (S::Active, C::Cancel, S::Cancelled),
        (S::Paused, C::Cancel, S::Cancelled),
    ]
};

/// Applies a lifecycle command.
pub fn transition_status(status: ProjectStatus, command: ProjectCommand) -> Result<ProjectStatus, Error> {
    super::lookup("project", STATUS_TABLE, status, command)
}

impl ProjectStage {
    /// The stages this one may move to.
    pub fn next_stages(self) -> &'static [ProjectStage] {
        use ProjectStage::*;
        match self {
            Idea => &[Concept],
            Concept => &[Prototype, Validation],
            Prototype => &[Validation, Development, Pivoting],
            Validation => &[Development, Pilot, Pivoting],
            Development => &[Pilot, Testing],
            Pilot => &[Testing, Launch, Pivoting],
            Testing => &[Launch, Development],
            Launch => &[Growth],
            Growth => &[Scaling, Mature, Pivoting],
            Scaling => &[Mature],
            Mature => &[],
            Pivoting => &[Concept, Development],
        }
    }

    /// The base progress of §4.4 for this stage (pivoting keeps the concept's base).
    pub fn base_progress(self) -> u8 {
        use ProjectStage::*;
        match self {
            Idea => 5,
            Concept | Pivoting => 15,
            Prototype => 25,
            Validation => 35,
            Development => 50,
            Pilot => 65,
            Testing => 75,
            Launch => 85,
            Growth => 90,
            Scaling => 95,
            Mature => 100,
        }
    }
}

/// The command of a stage move, for errors and audit.
const ADVANCE_STAGE: &str = "advance_stage";

/// Moves the stage along the graph. Returns the new stage and whether it entered `launch`
/// (which sets the launch date).
pub fn advance_stage(from: ProjectStage, to: ProjectStage) -> Result<(ProjectStage, bool), Error> {
    if from.next_stages().contains(&to) {
        Ok((to, to == ProjectStage::Launch))
    } else {
        Err(Error::invalid_transition("project", from.as_str(), ADVANCE_STAGE))
    }
}

/// Project progress: stage base + 10 × completed / non-cancelled milestones, capped at 100.
pub fn progress(stage: ProjectStage, completed_milestones: u32, non_cancelled_milestones: u32) -> u8 {
    let bonus = (10 * completed_milestones.min(non_cancelled_milestones))
        .checked_div(non_cancelled_milestones)
        .unwrap_or(0);
    (u32::from(stage.base_progress()) + bonus).min(100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_graph_allowed_and_refused() {
        crate::workflow::assert_machine(
            "project",
            ProjectStatus::ALL,
            ProjectCommand::ALL,
            STATUS_TABLE,
            transition_status,
        );
    }

    #[test]
    fn stage_graph_allowed_and_refused() {
        let mut allowed = 0;
        for from in ProjectStage::ALL {
            for to in ProjectStage::ALL {
                let result = advance_stage(*from, *to);
                if from.next_stages().contains(to) {
                    allowed += 1;
                    assert_eq!(result.unwrap().0, *to);
                } else {
                    assert!(
                        matches!(
                            result,
                            Err(Error::InvalidTransition {
                                command: "advance_stage",
                                ..
                            })
                        ),
                        "{from}->{to}"
                    );
                }
            }
        }
        assert_eq!(allowed, 23, "the graph of docs/domain.md §4.3 has 23 edges");
        assert!(advance_stage(ProjectStage::Pilot, ProjectStage::Launch).unwrap().1);
        assert!(!advance_stage(ProjectStage::Idea, ProjectStage::Concept).unwrap().1);
    }

    #[test]
    fn progress_formula() {
        assert_eq!(progress(ProjectStage::Idea, 0, 0), 5);
        assert_eq!(progress(ProjectStage::Development, 1, 2), 55);
        assert_eq!(progress(ProjectStage::Development, 2, 2), 60);
        assert_eq!(progress(ProjectStage::Scaling, 3, 3), 100);
        assert_eq!(progress(ProjectStage::Mature, 1, 1), 100);
    }
}
