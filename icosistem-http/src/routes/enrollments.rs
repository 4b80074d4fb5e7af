//! `/api/v2/enrollments/{id}`: one enrollment in a program, and the participant leaving it.
//! (A program's list of enrollments lives with the programs.)

use icosistem_core::model::EnrollmentId;

use super::kit::{PathId, api, reads, routes};
use crate::dto::{DropOutRequest, EnrollmentDto, OptionalJson};

reads! {
    tag = "enrollments";
/// One enrollment: its entrepreneur, the program's staff and admins (404 for everyone else).
    get_enrollment: "/api/v2/enrollments/{id}", EnrollmentId => EnrollmentDto, |eco, ctx, id| eco.get_enrollment(ctx, id);
}

routes! {
    tag = "enrollments";
    /// The participant leaves the program (themselves, the program's staff, admins). Before the
    /// program starts the seat goes to the best waitlisted application. The core takes no version
    /// for this command: `If-Match` is not read.
    drop_out_enrollment: post "/api/v2/enrollments/{id}/drop-out", PathId<EnrollmentId>, NoIfMatch, optional<DropOutRequest, "Optional: why">
        => etag(200, "The enrollment, dropped out", EnrollmentDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, OptionalJson(b)| eco.drop_out(ctx, id, b.reason);
}

api!(
    [get_enrollment, drop_out_enrollment],
    components(schemas(DropOutRequest)),
    tags((name = "enrollments", description = "Enrollments in programs"))
);
