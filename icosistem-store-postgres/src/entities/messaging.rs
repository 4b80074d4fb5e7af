//! Conversations, their participants, messages and blocks (`0015_messaging.sql`).

use icosistem_core::model::{Block, Conversation, ConversationParticipant, Message, Meta};
use icosistem_core::ports::store::{BlockFilter, ConversationFilter, ConversationParticipantFilter, MessageFilter};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::entity::PgEntity;
use crate::mapping::{filter_eq, pg_mapping};

impl PgEntity for Conversation {
    pg_mapping! {
        table: "conversations",
        id: id,
        kind: text,
        context_type: opt_text,
        context_id: value,
        direct_pair: value,
        title: value,
        last_message_at: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[
        ("conversations_direct_pair_key", "direct_pair"),
        ("conversations_context_key", "context"),
    ];

    fn push_filter(f: &ConversationFilter, qb: &mut QueryBuilder<Postgres>) {
        if let Some(ids) = &f.id_in {
            let ids: Vec<Uuid> = ids.iter().map(|&id| Uuid::from(id)).collect();
            qb.push(" AND id = ANY(").push_bind(ids).push(")");
        }
        filter_eq!(qb, f, direct_pair: value, context_type: text, context_id: value);
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
    pg_mapping! {
        table: "conversation_participants",
        id: id,
        conversation_id: id,
        user_id: id,
        joined_at: value,
        last_read_at: value,
        unread_count: int,
        last_emailed_at: value,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] =
        &[("conversation_participants_conversation_user_key", "conversation_user")];

    fn push_filter(f: &ConversationParticipantFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, conversation_id: id, user_id: id);
        if let Some(ids) = &f.conversation_in {
            let ids: Vec<Uuid> = ids.iter().map(|&id| Uuid::from(id)).collect();
            qb.push(" AND conversation_id = ANY(").push_bind(ids).push(")");
        }
    }
}

impl PgEntity for Message {
    // `deleted_at` is the message's own tombstone, not soft deletion: deleted messages stay
    // in the conversation, their body replaced.
    pg_mapping! {
        table: "messages",
        id: id,
        conversation_id: id,
        sender_id: id,
        body: value,
        edited_at: value,
        deleted_at: value,
        meta: nested(Meta),
    }

    fn push_filter(f: &MessageFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, conversation_id: id, sender_id: id);
        if let Some(at) = f.created_after {
            qb.push(" AND created_at > ").push_bind(at);
        }
    }
}

impl PgEntity for Block {
    pg_mapping! {
        table: "blocks",
        id: id,
        blocker_id: id,
        blocked_id: id,
        meta: nested(Meta),
    }
    const UNIQUE: &'static [(&'static str, &'static str)] = &[("blocks_blocker_blocked_key", "blocker_blocked")];

    fn push_filter(f: &BlockFilter, qb: &mut QueryBuilder<Postgres>) {
        filter_eq!(qb, f, blocker_id: id, blocked_id: id);
    }
}
