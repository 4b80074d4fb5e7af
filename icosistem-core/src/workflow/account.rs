//! User account status (docs/domain.md §3): `pending_verification → active ⇄ suspended`,
//! `active → inactive` (and back by an admin). The lock after failed logins is orthogonal
//! (`locked_until`), not a status.

use super::snake_enum;
use crate::error::Error;

snake_enum! {
    /// The account's status.
    pub enum UserStatus {
        /// Registered, email not verified yet.
        PendingVerification => "pending_verification",
        /// May log in.
        Active => "active",
        /// Blocked by an admin.
        Suspended => "suspended",
        /// Deactivated (by an admin, or unverified for too long).
        Inactive => "inactive",
    }
}

snake_enum! {
    /// What can happen to an account's status.
    pub enum AccountCommand {
        /// The email was verified.
        Verify => "verify",
        /// An admin suspends it.
        Suspend => "suspend",
        /// An admin (re)activates it.
        Activate => "activate",
        /// Deactivated by an admin or a cleanup job.
        Deactivate => "deactivate",
    }
}

const TABLE: &[(UserStatus, AccountCommand, UserStatus)] = {
    use AccountCommand as C;
    use UserStatus as S;
    &[
        (S::PendingVerification, C::Verify, S::Active),
        (S::Active, C::Suspend, S::Suspended),
        (S::Suspended, C::Activate, S::Active),
        (S::Active, C::Deactivate, S::Inactive),
        (S::Inactive, C::Activate, S::Active),
        (S::PendingVerification, C::Deactivate, S::Inactive),
        // An admin may activate an account whose owner never verified the email.
        (S::PendingVerification, C::Activate, S::Active),
    ]
};

/// Applies an account command.
pub fn transition(status: UserStatus, command: AccountCommand) -> Result<UserStatus, Error> {
    super::lookup("user", TABLE, status, command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_edges_allowed_and_everything_else_refused() {
        crate::workflow::assert_machine("user", UserStatus::ALL, AccountCommand::ALL, TABLE, transition);
    }
}
