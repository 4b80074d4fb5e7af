//! Users, profiles, account tokens and refresh tokens.

use icosistem_core::model::{
    AccountToken, Deletion, MemberRole, Meta, NotificationPreferences, Profile, ProfileData, RefreshToken, User,
};
use icosistem_core::ports::store::{AccountTokenFilter, ProfileFilter, RefreshTokenFilter, UserFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder};

use crate::entity::{PgEntity, json, to_json};
use crate::mapping::{Columns, filter_eq, pg_mapping};

/// The two notification switches of a user.
impl Columns for NotificationPreferences {
    pg_mapping! {
        in_app as "notify_in_app": value,
        email as "notify_email": value,
    }
}

impl PgEntity for User {
    pg_mapping! {
        table: "users",
        id: id,
        email: text,
        password_hash: value,
        first_name: text,
        last_name: text,
        role: text,
        status: text,
        email_verified_at: value,
        failed_logins: int,
        locked_until: value,
        last_login_at: value,
        security_stamp: bigint,
        phone: opt_text,
        timezone: text,
        language: text,
        notification_preferences: nested(NotificationPreferences),
        meta: nested(Meta),
        deletion: nested(Deletion),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("users_email_key", "email")];

    fn push_filter(f: &UserFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, email: text, role: text, status: text);
        if let Some(before) = f.created_before {
            qb.push(" AND created_at < ").push_bind(before);
        }
        if let Some(ids) = &f.id_in {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|&id| uuid::Uuid::from(id)).collect();
            qb.push(" AND id = ANY(").push_bind(ids).push(")");
        }
        if let Some(org) = f.staff_of {
            let staff: Vec<&str> = MemberRole::ALL
                .iter()
                .filter(|r| r.is_staff())
                .map(|r| r.as_str())
                .collect();
            qb.push(" AND id IN (SELECT m.user_id FROM organization_members m WHERE m.organization_id = ")
                .push_bind(uuid::Uuid::from(org))
                .push(" AND m.role = ANY(")
                .push_bind(staff)
                .push("))");
        }
    }

    fn include_deleted(f: &UserFilter) -> bool {
        f.include_deleted
    }
}

/// How an ally's expertise is compared: trimmed and lower-cased exactly as
/// `ProfileFilter::specialization` compares it (Rust's `str::trim` and `str::to_lowercase`, not
/// SQL's `btrim`/`lower`, which trim and fold differently).
fn expertise_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The normalized specializations and primary expertise of an ally profile (empty otherwise):
/// the `expertise_keys` column the directory's `?specialization` looks up.
fn expertise_keys(data: &ProfileData) -> Vec<String> {
    let ProfileData::Ally(ally) = data else {
        return Vec::new();
    };
    let mut keys: Vec<String> = ally
        .specializations
        .iter()
        .map(String::as_str)
        .chain(ally.primary_expertise.as_deref())
        .map(expertise_key)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A profile's columns: the JSONB document is the profile; `role`, `available` and
/// `expertise_keys` are only its indexed copies, written and never read back.
impl Columns for ProfileData {
    const COLUMNS: &'static [&'static str] = &["role", "data", "available", "expertise_keys"];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        let available = match self {
            ProfileData::Ally(ally) => Some(ally.available),
            _ => None,
        };
        row.push_bind(self.role().as_str())
            .push_bind(to_json(self))
            .push_bind(available)
            .push_bind(expertise_keys(self));
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        json(row, "data")
    }
}

impl PgEntity for Profile {
    // `id` is the user's id: profiles are 1:1 with users and keyed by them.
    pg_mapping! {
        table: "profiles",
        user_id as "id": id,
        data: nested(ProfileData),
        meta: nested(Meta),
    }

    fn push_filter(f: &ProfileFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, role: text);
        // Both ally-only filters never match another role's profile; `role = 'ally'` is spelled
        // as a literal so the planner can use the partial ally indexes.
        if let Some(wanted) = &f.specialization {
            qb.push(" AND role = 'ally' AND expertise_keys @> ")
                .push_bind(vec![expertise_key(wanted)]);
        }
        if let Some(available) = f.available {
            qb.push(" AND role = 'ally' AND available = ").push_bind(available);
        }
    }
}

impl PgEntity for AccountToken {
    pg_mapping! {
        table: "account_tokens",
        id: id,
        user_id: id,
        purpose: text,
        token_hash: value,
        expires_at: value,
        used_at: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("account_tokens_token_hash_key", "token_hash")];

    fn push_filter(f: &AccountTokenFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, token_hash: value, user_id: id, purpose: text);
        // `AccountToken::is_usable`: unused and `now < expires_at`.
        if let Some(now) = f.usable_at {
            qb.push(" AND used_at IS NULL AND expires_at > ").push_bind(now);
        }
    }

    // Consuming a token is "find it by hash, then mark it used": holding the hash for the rest
    // of the unit of work makes concurrent consumers take turns, so the later ones find it used
    // (as on the memory store) instead of failing on its version.
    fn lock_key(f: &AccountTokenFilter) -> Option<String> {
        f.token_hash.as_ref().map(|h| format!("token_hash:{h}"))
    }
}

impl PgEntity for RefreshToken {
    pg_mapping! {
        table: "refresh_tokens",
        id: id,
        user_id: id,
        family_id: value,
        token_hash: value,
        expires_at: value,
        used_at: value,
        revoked_at: value,
        security_stamp: bigint,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("refresh_tokens_token_hash_key", "token_hash")];

    fn push_filter(f: &RefreshTokenFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, token_hash: value, user_id: id, family_id: value);
        if f.unrevoked_only {
            qb.push(" AND revoked_at IS NULL");
        }
    }

    // Rotation is "find the token by hash, then lock and mark it used": holding the hash for the
    // rest of the unit of work makes concurrent exchanges of one token take turns, so the later
    // one sees it used (a reuse), as on the memory store.
    fn lock_key(f: &RefreshTokenFilter) -> Option<String> {
        f.token_hash.as_ref().map(|h| format!("token_hash:{h}"))
    }
}
