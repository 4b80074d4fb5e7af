//! Messaging (docs/domain.md §7): conversations, their participants, messages and blocks.
//!
//! Unread counts are kept on each participant's row rather than counted from messages: a send
//! already locks the conversation and touches every recipient's row (to notify them), so the
//! count costs nothing there, and listing one's conversations reads it with the rows it pages —
//! no count per conversation on any store.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{BlockId, ConversationId, ConversationParticipantId, MessageId, Meta, UserId};
use crate::workflow::snake_enum;

/// What a soft-deleted message's body reads: the text itself is gone from the store.
pub const DELETED_BODY: &str = "deleted";

/// Most characters of a message body (docs/domain.md §7).
pub const MESSAGE_BODY_MAX_CHARS: usize = 10_000;

snake_enum! {
    /// Direct between two users, or attached to a context.
    pub enum ConversationKind {
        /// Exactly two users; at most one per pair, reused.
        Direct => "direct",
        /// Attached to a mentorship, an application or a program cohort; its participants
        /// follow the context.
        Context => "context",
    }
}

snake_enum! {
    /// What a context conversation is attached to.
    pub enum ConversationContextType {
        /// A mentorship: its ally and entrepreneur.
        Mentorship => "mentorship",
        /// An application: its applicant and the program's staff.
        Application => "application",
        /// A program's cohort (the context id is the program's): its enrolled entrepreneurs
        /// and the program's staff.
        Cohort => "cohort",
    }
}

/// A conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// Direct or context.
    pub kind: ConversationKind,
    /// A context conversation's context type.
    pub context_type: Option<ConversationContextType>,
    /// A context conversation's context id (the mentorship, application or program).
    pub context_id: Option<Uuid>,
    /// A direct conversation's pair, `"<smaller user id>:<larger user id>"`: the unique key
    /// that makes a second open of one pair find the first one's row, even when both race.
    #[serde(skip)]
    pub direct_pair: Option<String>,
    /// Optional title.
    pub title: Option<String>,
    /// When the last message was sent.
    pub last_message_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

impl Conversation {
    /// The unique key of a direct conversation between `a` and `b`, whichever opens it.
    pub fn direct_pair(a: UserId, b: UserId) -> String {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        format!("{low}:{high}")
    }

    /// The unique key of a context conversation.
    pub fn context_key(context_type: ConversationContextType, context_id: Uuid) -> String {
        format!("{context_type}:{context_id}")
    }
}

/// One user's seat in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConversationParticipant {
    /// Id.
    pub id: ConversationParticipantId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user.
    pub user_id: UserId,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// When they last read the conversation (or sent to it).
    pub last_read_at: Option<DateTime<Utc>>,
    /// Messages of others since `last_read_at` (kept by send and mark-read, see the module docs).
    pub unread_count: u32,
    /// When they were last emailed about this conversation: at most one email per
    /// `Limits::message_email_digest_minutes`.
    pub last_emailed_at: Option<DateTime<Utc>>,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// Id.
    pub id: MessageId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The sender.
    pub sender_id: UserId,
    /// Plain text, 1–10 000 characters ([`DELETED_BODY`] once deleted).
    pub body: String,
    /// When the sender last edited it.
    pub edited_at: Option<DateTime<Utc>>,
    /// When the sender deleted it (it stays in the conversation, its body replaced).
    pub deleted_at: Option<DateTime<Utc>>,
    /// Tracking and version (`created_at` is when it was sent).
    #[serde(flatten)]
    pub meta: Meta,
}

/// One user blocking another: no new messages either way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Block {
    /// Id.
    pub id: BlockId,
    /// Who blocks.
    pub blocker_id: UserId,
    /// Who is blocked.
    pub blocked_id: UserId,
    /// Tracking and version.
    #[serde(flatten)]
    pub meta: Meta,
}
