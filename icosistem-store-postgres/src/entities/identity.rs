//! Users, profiles, account tokens and refresh tokens.

use icosistem_core::model::value::{Email, Language, PersonName, Phone, TimeZoneName};
use icosistem_core::model::{
    AccountToken, Deletion, Meta, NotificationPreferences, Profile, ProfileData, RefreshToken, User,
};
use icosistem_core::ports::store::{AccountTokenFilter, ProfileFilter, RefreshTokenFilter, UserFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::entity::{PgEntity, json, parse, parse_opt, to_json, unsigned};

/// Binds the tracking columns (`created_at` … `version`) in the order of [`META_COLUMNS`].
pub(crate) fn bind_meta(meta: &Meta, row: &mut Separated<'_, Postgres, &'static str>) {
    row.push_bind(meta.created_at)
        .push_bind(meta.updated_at)
        .push_bind(meta.created_by.map(uuid::Uuid::from))
        .push_bind(meta.updated_by.map(uuid::Uuid::from))
        .push_bind(meta.version as i64);
}

/// Decodes the tracking columns.
pub(crate) fn meta(row: &PgRow) -> Result<Meta, sqlx::Error> {
    Ok(Meta {
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        created_by: row.try_get::<Option<uuid::Uuid>, _>("created_by")?.map(Into::into),
        updated_by: row.try_get::<Option<uuid::Uuid>, _>("updated_by")?.map(Into::into),
        version: unsigned(row, "version")?,
    })
}

/// Binds the soft-delete columns (`deleted_at`, `deleted_by`).
pub(crate) fn bind_deletion(deletion: &Deletion, row: &mut Separated<'_, Postgres, &'static str>) {
    row.push_bind(deletion.deleted_at)
        .push_bind(deletion.deleted_by.map(uuid::Uuid::from));
}

/// Decodes the soft-delete columns.
pub(crate) fn deletion(row: &PgRow) -> Result<Deletion, sqlx::Error> {
    Ok(Deletion {
        deleted_at: row.try_get("deleted_at")?,
        deleted_by: row.try_get::<Option<uuid::Uuid>, _>("deleted_by")?.map(Into::into),
    })
}

/// Appends `AND column = value` when the filter field is set.
macro_rules! filter_eq {
    ($qb:expr, $column:literal, $value:expr) => {
        if let Some(value) = $value {
            $qb.push(concat!(" AND ", $column, " = ")).push_bind(value);
        }
    };
}
pub(crate) use filter_eq;

impl PgEntity for User {
    const TABLE: &'static str = "users";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "email",
        "password_hash",
        "first_name",
        "last_name",
        "role",
        "status",
        "email_verified_at",
        "failed_logins",
        "locked_until",
        "last_login_at",
        "security_stamp",
        "phone",
        "timezone",
        "language",
        "notify_in_app",
        "notify_email",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
        "deleted_at",
        "deleted_by",
    ];
    const SOFT_DELETE: bool = true;
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("users_email_key", "email")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(self.email.as_str().to_owned())
            .push_bind(self.password_hash.clone())
            .push_bind(self.first_name.as_str().to_owned())
            .push_bind(self.last_name.as_str().to_owned())
            .push_bind(self.role.as_str())
            .push_bind(self.status.as_str())
            .push_bind(self.email_verified_at)
            .push_bind(self.failed_logins as i32)
            .push_bind(self.locked_until)
            .push_bind(self.last_login_at)
            .push_bind(i64::from(self.security_stamp))
            .push_bind(self.phone.as_ref().map(|p| p.as_str().to_owned()))
            .push_bind(self.timezone.as_str().to_owned())
            .push_bind(self.language.as_str().to_owned())
            .push_bind(self.notification_preferences.in_app)
            .push_bind(self.notification_preferences.email);
        bind_meta(&self.meta, row);
        bind_deletion(&self.deletion, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(User {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            email: parse::<Email>(row, "email")?,
            password_hash: row.try_get("password_hash")?,
            first_name: parse::<PersonName>(row, "first_name")?,
            last_name: parse::<PersonName>(row, "last_name")?,
            role: parse(row, "role")?,
            status: parse(row, "status")?,
            email_verified_at: row.try_get("email_verified_at")?,
            failed_logins: unsigned(row, "failed_logins")?,
            locked_until: row.try_get("locked_until")?,
            last_login_at: row.try_get("last_login_at")?,
            security_stamp: unsigned(row, "security_stamp")?,
            phone: parse_opt::<Phone>(row, "phone")?,
            timezone: parse::<TimeZoneName>(row, "timezone")?,
            language: parse::<Language>(row, "language")?,
            notification_preferences: NotificationPreferences {
                in_app: row.try_get("notify_in_app")?,
                email: row.try_get("notify_email")?,
            },
            meta: meta(row)?,
            deletion: deletion(row)?,
        })
    }

    fn push_filter(f: &UserFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "email", f.email.as_ref().map(|e| e.as_str().to_owned()));
        filter_eq!(qb, "role", f.role.map(|r| r.as_str()));
        filter_eq!(qb, "status", f.status.map(|s| s.as_str()));
        if let Some(before) = f.created_before {
            qb.push(" AND created_at < ").push_bind(before);
        }
        if let Some(ids) = &f.id_in {
            let ids: Vec<uuid::Uuid> = ids.iter().map(|&id| uuid::Uuid::from(id)).collect();
            qb.push(" AND id = ANY(").push_bind(ids).push(")");
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

impl PgEntity for Profile {
    const TABLE: &'static str = "profiles";
    // `id` is the user's id: profiles are 1:1 with users and keyed by them.
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "role",
        "data",
        "available",
        "expertise_keys",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        let available = match &self.data {
            ProfileData::Ally(ally) => Some(ally.available),
            _ => None,
        };
        row.push_bind(uuid::Uuid::from(self.user_id))
            .push_bind(self.data.role().as_str())
            .push_bind(to_json(&self.data))
            .push_bind(available)
            .push_bind(expertise_keys(&self.data));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        // The JSONB document is the profile; `role`, `available` and `expertise_keys` are only
        // its indexed copies.
        Ok(Profile {
            user_id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            data: json(row, "data")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ProfileFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "role", f.role.map(|r| r.as_str()));
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
    const TABLE: &'static str = "account_tokens";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "user_id",
        "purpose",
        "token_hash",
        "expires_at",
        "used_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("account_tokens_token_hash_key", "token_hash")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.user_id))
            .push_bind(self.purpose.as_str())
            .push_bind(self.token_hash.clone())
            .push_bind(self.expires_at)
            .push_bind(self.used_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(AccountToken {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            user_id: row.try_get::<uuid::Uuid, _>("user_id")?.into(),
            purpose: parse(row, "purpose")?,
            token_hash: row.try_get("token_hash")?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &AccountTokenFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "token_hash", f.token_hash.clone());
        filter_eq!(qb, "user_id", f.user_id.map(uuid::Uuid::from));
        filter_eq!(qb, "purpose", f.purpose.map(|p| p.as_str()));
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
    const TABLE: &'static str = "refresh_tokens";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "user_id",
        "family_id",
        "token_hash",
        "expires_at",
        "used_at",
        "revoked_at",
        "security_stamp",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("refresh_tokens_token_hash_key", "token_hash")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(uuid::Uuid::from(self.id))
            .push_bind(uuid::Uuid::from(self.user_id))
            .push_bind(self.family_id)
            .push_bind(self.token_hash.clone())
            .push_bind(self.expires_at)
            .push_bind(self.used_at)
            .push_bind(self.revoked_at)
            .push_bind(i64::from(self.security_stamp));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(RefreshToken {
            id: row.try_get::<uuid::Uuid, _>("id")?.into(),
            user_id: row.try_get::<uuid::Uuid, _>("user_id")?.into(),
            family_id: row.try_get("family_id")?,
            token_hash: row.try_get("token_hash")?,
            expires_at: row.try_get("expires_at")?,
            used_at: row.try_get("used_at")?,
            revoked_at: row.try_get("revoked_at")?,
            security_stamp: unsigned(row, "security_stamp")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &RefreshTokenFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "token_hash", f.token_hash.clone());
        filter_eq!(qb, "user_id", f.user_id.map(uuid::Uuid::from));
        filter_eq!(qb, "family_id", f.family_id);
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
