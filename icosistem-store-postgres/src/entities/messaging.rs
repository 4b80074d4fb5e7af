//! Conversations, their participants, messages and blocks (`0015_messaging.sql`).

use icosistem_core::model::{Block, Conversation, ConversationParticipant, Message};
use icosistem_core::ports::store::{BlockFilter, ConversationFilter, ConversationParticipantFilter, MessageFilter};
use sqlx::postgres::PgRow;
use sqlx::query_builder::Separated;
use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::identity::{bind_meta, filter_eq, meta};
use crate::entity::{PgEntity, parse, parse_opt, sql_int, unsigned};

impl PgEntity for Conversation {
    const TABLE: &'static str = "conversations";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "kind",
        "context_type",
        "context_id",
        "direct_pair",
        "title",
        "last_message_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("conversations_direct_pair_key", "direct_pair"),
        ("conversations_context_key", "context"),
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(self.kind.as_str())
            .push_bind(self.context_type.map(|t| t.as_str()))
            .push_bind(self.context_id)
            .push_bind(self.direct_pair.clone())
            .push_bind(self.title.clone())
            .push_bind(self.last_message_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Conversation {
            id: row.try_get::<Uuid, _>("id")?.into(),
            kind: parse(row, "kind")?,
            context_type: parse_opt(row, "context_type")?,
            context_id: row.try_get("context_id")?,
            direct_pair: row.try_get("direct_pair")?,
            title: row.try_get("title")?,
            last_message_at: row.try_get("last_message_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ConversationFilter, qb: &mut QueryBuilder<Postgres>) {
        if let Some(ids) = &f.id_in {
            let ids: Vec<Uuid> = ids.iter().map(|&id| Uuid::from(id)).collect();
            qb.push(" AND id = ANY(").push_bind(ids).push(")");
        }
        filter_eq!(qb, "direct_pair", f.direct_pair.clone());
        filter_eq!(qb, "context_type", f.context_type.map(|t| t.as_str()));
        filter_eq!(qb, "context_id", f.context_id);
    }

    // Opening is "find the pair's (or context's) conversation, else insert it": holding its key
    // for the rest of the unit of work makes concurrent opens take turns, so the later ones
    // find the first one's row instead of failing on the unique index.
    fn lock_key(f: &ConversationFilter) -> Option<String> {
        if let Some(pair) = &f.direct_pair {
            return Some(format!("direct_pair:{pair}"));
        }
        match (f.context_type, f.context_id) {
            (Some(kind), Some(id)) => Some(format!("context:{}", Conversation::context_key(kind, id))),
            _ => None,
        }
    }
}

impl PgEntity for ConversationParticipant {
    const TABLE: &'static str = "conversation_participants";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "conversation_id",
        "user_id",
        "joined_at",
        "last_read_at",
        "unread_count",
        "last_emailed_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("conversation_participants_conversation_user_key", "conversation_user")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.conversation_id))
            .push_bind(Uuid::from(self.user_id))
            .push_bind(self.joined_at)
            .push_bind(self.last_read_at)
            .push_bind(sql_int(self.unread_count))
            .push_bind(self.last_emailed_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(ConversationParticipant {
            id: row.try_get::<Uuid, _>("id")?.into(),
            conversation_id: row.try_get::<Uuid, _>("conversation_id")?.into(),
            user_id: row.try_get::<Uuid, _>("user_id")?.into(),
            joined_at: row.try_get("joined_at")?,
            last_read_at: row.try_get("last_read_at")?,
            unread_count: unsigned(row, "unread_count")?,
            last_emailed_at: row.try_get("last_emailed_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &ConversationParticipantFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "conversation_id", f.conversation_id.map(Uuid::from));
        if let Some(ids) = &f.conversation_in {
            let ids: Vec<Uuid> = ids.iter().map(|&id| Uuid::from(id)).collect();
            qb.push(" AND conversation_id = ANY(").push_bind(ids).push(")");
        }
        filter_eq!(qb, "user_id", f.user_id.map(Uuid::from));
    }
}

impl PgEntity for Message {
    const TABLE: &'static str = "messages";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "conversation_id",
        "sender_id",
        "body",
        "edited_at",
        "deleted_at",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.conversation_id))
            .push_bind(Uuid::from(self.sender_id))
            .push_bind(self.body.clone())
            .push_bind(self.edited_at)
            .push_bind(self.deleted_at);
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Message {
            id: row.try_get::<Uuid, _>("id")?.into(),
            conversation_id: row.try_get::<Uuid, _>("conversation_id")?.into(),
            sender_id: row.try_get::<Uuid, _>("sender_id")?.into(),
            body: row.try_get("body")?,
            edited_at: row.try_get("edited_at")?,
            deleted_at: row.try_get("deleted_at")?,
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &MessageFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "conversation_id", f.conversation_id.map(Uuid::from));
        filter_eq!(qb, "sender_id", f.sender_id.map(Uuid::from));
        if let Some(at) = f.created_after {
            qb.push(" AND created_at > ").push_bind(at);
        }
    }
}

impl PgEntity for Block {
    const TABLE: &'static str = "blocks";
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "blocker_id",
        "blocked_id",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "version",
    ];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("blocks_blocker_blocked_key", "blocker_blocked")];

    fn bind_row(&self, row: &mut Separated<'_, Postgres, &'static str>) {
        row.push_bind(Uuid::from(self.id))
            .push_bind(Uuid::from(self.blocker_id))
            .push_bind(Uuid::from(self.blocked_id));
        bind_meta(&self.meta, row);
    }

    fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Block {
            id: row.try_get::<Uuid, _>("id")?.into(),
            blocker_id: row.try_get::<Uuid, _>("blocker_id")?.into(),
            blocked_id: row.try_get::<Uuid, _>("blocked_id")?.into(),
            meta: meta(row)?,
        })
    }

    fn push_filter(f: &BlockFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, "blocker_id", f.blocker_id.map(Uuid::from));
        filter_eq!(qb, "blocked_id", f.blocked_id.map(Uuid::from));
    }
}
