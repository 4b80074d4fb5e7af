//! Filters of messaging (docs/domain.md §7): conversations, participants, messages and blocks.

use chrono::{DateTime, Utc};

use super::{eq, pair};
use crate::model::*;
use crate::ports::store::Entity;

/// Filter of conversations.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    /// Only these conversations (a page of one's participations).
    pub id_in: Option<Vec<ConversationId>>,
    /// The direct conversation of this pair ([`Conversation::direct_pair`]).
    pub direct_pair: Option<String>,
    /// The context conversation of this context type …
    pub context_type: Option<ConversationContextType>,
    /// … and context id.
    pub context_id: Option<uuid::Uuid>,
}

impl Entity for Conversation {
    entity_basics!(
        ConversationId,
        ConversationId::KIND,
        ConversationFilter,
        |s| s.id,
        |m| m.meta
    );
    /// One direct conversation per pair, one context conversation per context.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = Vec::new();
        if let Some(pair) = &self.direct_pair {
            keys.push(("direct_pair", pair.clone()));
        }
        if let (Some(kind), Some(id)) = (self.context_type, self.context_id) {
            keys.push(("context", Conversation::context_key(kind, id)));
        }
        keys
    }
    fn id_in(f: &Self::Filter) -> Option<&[Self::Id]> {
        f.id_in.as_deref()
    }
    fn matches(&self, f: &ConversationFilter) -> bool {
        f.id_in.as_ref().is_none_or(|ids| ids.contains(&self.id))
            && f.direct_pair
                .as_ref()
                .is_none_or(|p| self.direct_pair.as_ref() == Some(p))
            && f.context_type.is_none_or(|t| self.context_type == Some(t))
            && f.context_id.is_none_or(|id| self.context_id == Some(id))
    }
}

/// Filter of conversation participants.
#[derive(Debug, Clone, Default)]
pub struct ConversationParticipantFilter {
    /// Of this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Of any of these conversations (the participants of a page of conversations).
    pub conversation_in: Option<Vec<ConversationId>>,
    /// This user's seats.
    pub user_id: Option<UserId>,
}

impl Entity for ConversationParticipant {
    entity_basics!(
        ConversationParticipantId,
        ConversationParticipantId::KIND,
        ConversationParticipantFilter,
        |s| s.id,
        |m| m.meta
    );
    /// A user sits once in a conversation.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("conversation_user", pair(self.conversation_id, self.user_id))]
    }
    fn matches(&self, f: &ConversationParticipantFilter) -> bool {
        eq(&f.conversation_id, &self.conversation_id)
            && f.conversation_in
                .as_ref()
                .is_none_or(|ids| ids.contains(&self.conversation_id))
            && eq(&f.user_id, &self.user_id)
    }
}

/// Filter of messages.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Of this conversation.
    pub conversation_id: Option<ConversationId>,
    /// Sent by this user.
    pub sender_id: Option<UserId>,
    /// Sent strictly after this instant (the per-minute rate limit's window).
    pub created_after: Option<DateTime<Utc>>,
}

impl Entity for Message {
    entity_basics!(MessageId, MessageId::KIND, MessageFilter, |s| s.id, |m| m.meta);
    fn matches(&self, f: &MessageFilter) -> bool {
        eq(&f.conversation_id, &self.conversation_id)
            && eq(&f.sender_id, &self.sender_id)
            && f.created_after.is_none_or(|t| self.meta.created_at > t)
    }
}

/// Filter of blocks.
#[derive(Debug, Clone, Default)]
pub struct BlockFilter {
    /// Blocks made by this user.
    pub blocker_id: Option<UserId>,
    /// Blocks of this user.
    pub blocked_id: Option<UserId>,
}

impl Entity for Block {
    entity_basics!(BlockId, BlockId::KIND, BlockFilter, |s| s.id, |m| m.meta);
    /// A user blocks another once.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        vec![("blocker_blocked", pair(self.blocker_id, self.blocked_id))]
    }
    fn matches(&self, f: &BlockFilter) -> bool {
        eq(&f.blocker_id, &self.blocker_id) && eq(&f.blocked_id, &self.blocked_id)
    }
}
