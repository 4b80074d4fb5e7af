//! Projects and their milestones.

use chrono::NaiveDate;

use super::value::{Money, Name, Percent, Slug};
use super::{
    Deletion, FundingStage, Meta, MilestoneId, MilestoneStatus, Priority, ProjectId, ProjectStage, ProjectStatus,
    ProjectType, UserId,
};

/// An entrepreneur's venture.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// The entrepreneur who owns it.
    pub owner_id: UserId,
    /// Name.
    pub name: Name,
    /// Unique among live projects.
    pub slug: Slug,
    /// One-line pitch (≤ 300).
    pub tagline: Option<String>,
    /// Description.
    pub description: String,
    /// Kind.
    pub project_type: ProjectType,
    /// Sector (free text; matched against program target sectors).
    pub category: Option<String>,
    /// Priority.
    pub priority: Priority,
    /// Business maturity.
    pub stage: ProjectStage,
    /// Lifecycle.
    pub status: ProjectStatus,
    /// Funding stage.
    pub funding_stage: FundingStage,
    /// Funding sought.
    pub funding_target: Option<Money>,
    /// Funding raised.
    pub funding_raised: Option<Money>,
    /// Team size, 1–100.
    pub team_size: u32,
    /// Visible to clients and the public directory.
    pub is_public: bool,
    /// Looking for a mentor.
    pub seeking_mentorship: bool,
    /// Derived progress (§4.4).
    pub progress: Percent,
    /// Set when the stage enters `launch`.
    pub launch_date: Option<NaiveDate>,
    /// Milestones not cancelled.
    pub milestones_total: u32,
    /// Milestones completed.
    pub milestones_completed: u32,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
    /// Soft delete.
    #[serde(flatten)]
    pub deletion: Deletion,
}

impl Project {
    /// Recomputes `progress` from the stage and milestone counters.
    pub fn recompute_progress(&mut self) {
        let value = crate::workflow::project::progress(self.stage, self.milestones_completed, self.milestones_total);
        self.progress = Percent::new(value).unwrap_or(self.progress);
    }
}

/// A dated goal of a project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Milestone {
    /// Id.
    pub id: MilestoneId,
    /// Project.
    pub project_id: ProjectId,
    /// The project's owner (denormalized for "my milestones").
    pub owner_id: UserId,
    /// Title (≤ 200).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Target date.
    pub target_date: NaiveDate,
    /// Priority.
    pub priority: Priority,
    /// Status.
    pub status: MilestoneStatus,
    /// Progress 0–100.
    pub progress: Percent,
    /// When completed.
    pub completed_on: Option<NaiveDate>,
    /// Reason of the last delay.
    pub delay_reason: Option<String>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}
