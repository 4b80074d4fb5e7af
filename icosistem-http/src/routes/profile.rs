//! `/api/v2/users/me/profile`: the caller's role profile (entrepreneur, ally or client).

use icosistem_core::Error;
use icosistem_core::model::Role;

use super::kit::{NoBody, NoId, api, routes};
use crate::dto::{ApiJson, ProfileDto, UpdateProfileRequest};

routes! {
    tag = "users";
    /// The caller's role profile (404 when they have none, e.g. admins).
    get_my_profile: get "/api/v2/users/me/profile", NoId, NoIfMatch, none
        => etag(200, "The profile", ProfileDto) [NotFound],
        |eco, ctx, NoId, _, NoBody| eco.get_my_profile(ctx);
    /// Replaces the caller's role profile. Send the fields of your role's group (see
    /// `ProfileDto`); absent ones take their defaults; fields of another role's group, a `kind`
    /// other than your role, unknown enum values, out-of-range numbers and invalid money each
    /// fail under their field name (422). An ally's rating only changes through session feedback.
    put_my_profile: put "/api/v2/users/me/profile", NoId, IfMatch, json<UpdateProfileRequest>
        => etag(200, "The profile", ProfileDto) [Conflict, BadBody],
        |eco, ctx, NoId, version, ApiJson(b)| {
            let role = ctx.actor.role().unwrap_or(Role::Admin);
            let data = b.into_data(role).map_err(Error::Validation)?;
            eco.update_my_profile(ctx, data, version)
        };
}

api!(
    [get_my_profile, put_my_profile],
    components(schemas(ProfileDto, UpdateProfileRequest))
);
