//! Every command a caller can give, in one place. The use cases take the service-level ones
//! ([`Decision`], [`MeetingAction`], [`MilestoneAction`], [`SessionAction`]) or a state machine's
//! own command ([`ProgramCommand`], [`ProjectCommand`] …) where it needs no more data; the
//! original paths (`service::Decision`, `workflow::program::ProgramCommand` …) keep working.
//!
//! ```
//! use icosistem_core::commands::{Decision, Expect, ProgramCommand};
//!
//! // What `decide(ctx, id, Decision::Accept, None, Expect::Any)` and
//! // `program_command(ctx, id, ProgramCommand::Publish, Expect::Version(3))` take.
//! let _ = (Decision::Accept, ProgramCommand::Publish, Expect::Version(3));
//! ```

pub use crate::service::{Decision, Expect, MeetingAction, MilestoneAction, SessionAction};
pub use crate::workflow::account::AccountCommand;
pub use crate::workflow::application::ApplicationCommand;
pub use crate::workflow::enrollment::EnrollmentCommand;
pub use crate::workflow::meeting::{MeetingCommand, ParticipantResponse};
pub use crate::workflow::mentorship::MentorshipCommand;
pub use crate::workflow::milestone::MilestoneCommand;
pub use crate::workflow::program::ProgramCommand;
pub use crate::workflow::project::ProjectCommand;
pub use crate::workflow::rounds::RoundDecision;
pub use crate::workflow::session::SessionCommand;
pub use crate::workflow::task::TaskCommand;
