//! `/api/v2/conversations`, `/api/v2/messages/{id}` and `/api/v2/users/{id}/block`: messaging
//! between the people of the ecosystem (docs/domain.md §7). Direct conversations are opened
//! with `{user_id}` (one per pair, reused), context ones with `{context_type, context_id}`;
//! the list of one's conversations carries each one's `unread` count. A new message notifies
//! the other participants in-app, so it reaches their live stream
//! (`/api/v2/notifications/stream`) as a `message_received` notification naming the
//! conversation and the message. Over `max_messages_per_minute` a send answers 429
//! `rate_limited` with `Retry-After`.
//!
//! Message attachments (`document_ids` of API.md) are not accepted yet: documents are built
//! separately.

use chrono::{DateTime, Utc};
use icosistem_core::error::ValidationErrors;
use icosistem_core::model::{ConversationContextType, ConversationId, Message, MessageId, UserId};
use icosistem_core::service::{ConversationView, OpenConversation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PageQuery;
use super::kit::{EntityId, NoId, PathId, api, input, lists, routes};
use crate::dto::parse::{optional_id, required_enum, required_id, required_text};
use crate::dto::{ApiJson, PageDto};

impl EntityId for ConversationId {
    const KIND: &'static str = ConversationId::KIND;
}

impl EntityId for MessageId {
    const KIND: &'static str = MessageId::KIND;
}

/// A conversation as the caller, one of its participants, sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ConversationDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    id: String,
    /// `direct` or `context`.
    #[schema(example = "direct")]
    kind: String,
    /// A context conversation's context: `mentorship`, `application` or `cohort`.
    context_type: Option<String>,
    /// A context conversation's context id (the mentorship, application or program).
    #[schema(value_type = Option<String>, format = Uuid)]
    context_id: Option<String>,
    /// Optional title.
    title: Option<String>,
    /// When the last message was sent.
    last_message_at: Option<DateTime<Utc>>,
    /// The participants' user ids, the caller included.
    #[schema(value_type = Vec<String>)]
    participants: Vec<String>,
    /// Messages of others the caller has not read.
    unread: u32,
    /// When the caller last read the conversation (or sent to it).
    last_read_at: Option<DateTime<Utc>>,
    /// When it was opened.
    created_at: DateTime<Utc>,
}

impl From<&ConversationView> for ConversationDto {
    fn from(view: &ConversationView) -> Self {
        let c = &view.conversation;
        Self {
            id: c.id.to_string(),
            kind: c.kind.as_str().to_owned(),
            context_type: c.context_type.map(|t| t.as_str().to_owned()),
            context_id: c.context_id.map(|id| id.to_string()),
            title: c.title.clone(),
            last_message_at: c.last_message_at,
            participants: view.participants.iter().map(ToString::to_string).collect(),
            unread: view.unread(),
            last_read_at: view.me.last_read_at,
            created_at: c.meta.created_at,
        }
    }
}

/// A message. The body is plain text: clients render it escaped.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct MessageDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    id: String,
    /// The conversation.
    #[schema(value_type = String, format = Uuid)]
    conversation_id: String,
    /// The sender's user id.
    #[schema(value_type = String, format = Uuid)]
    sender_id: String,
    /// Plain text (`deleted` once its sender deleted it).
    body: String,
    /// When its sender last edited it.
    edited_at: Option<DateTime<Utc>>,
    /// Whether its sender deleted it.
    deleted: bool,
    /// When it was sent.
    created_at: DateTime<Utc>,
    /// Version.
    version: u64,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            sender_id: m.sender_id.to_string(),
            body: m.body.clone(),
            edited_at: m.edited_at,
            deleted: m.deleted_at.is_some(),
            created_at: m.meta.created_at,
            version: m.meta.version,
        }
    }
}

/// `POST /api/v2/conversations`: `user_id` for the direct conversation with that user, or
/// `context_type` and `context_id` for a context's conversation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(crate) struct CreateConversationRequest {
    /// The other user of a direct conversation (UUID).
    #[schema(value_type = Option<String>, format = Uuid)]
    user_id: Option<String>,
    /// `mentorship`, `application` or `cohort` (with `context_id`).
    #[schema(value_type = Option<String>, example = "mentorship")]
    context_type: Option<String>,
    /// The mentorship, application or program (UUID, with `context_type`).
    #[schema(value_type = Option<String>, format = Uuid)]
    context_id: Option<String>,
}

impl TryFrom<CreateConversationRequest> for OpenConversation {
    type Error = ValidationErrors;

    fn try_from(body: CreateConversationRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if body.user_id.is_some() {
            let user = optional_id::<UserId>(&mut errors, "user_id", body.user_id.as_deref());
            if body.context_type.is_some() || body.context_id.is_some() {
                errors.push("user_id", "give either user_id or context_type and context_id");
            }
            return match user {
                Some(user) if errors.is_empty() => Ok(Self::Direct(user)),
                None if errors.is_empty() => Err(ValidationErrors::single("user_id", "must be a UUID")),
                _ => Err(errors),
            };
        }
        let kind = required_enum::<ConversationContextType>(&mut errors, "context_type", body.context_type.as_deref());
        let id = required_id::<uuid::Uuid>(&mut errors, "context_id", body.context_id.as_deref());
        match (kind, id) {
            (Some(kind), Some(id)) if errors.is_empty() => Ok(Self::Context(kind, id)),
            _ => Err(errors),
        }
    }
}

/// `POST /api/v2/conversations/{id}/messages` and `PATCH /api/v2/messages/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub(crate) struct MessageRequest {
    /// Plain text, 1–10 000 characters, required.
    #[schema(value_type = String, min_length = 1, max_length = 10000, required = true, nullable = false)]
    body: Option<String>,
}

impl TryFrom<MessageRequest> for String {
    type Error = ValidationErrors;

    fn try_from(request: MessageRequest) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        required_text(&mut errors, "body", request.body).ok_or(errors)
    }
}

routes! {
    tag = "conversations";
    /// Opens the direct conversation with `user_id` (users sharing a context — ally and mentee,
    /// applicant and the program's staff, one organization, one cohort — and admins; 403 for
    /// anyone else), or the conversation of a context (its parties). Opening it again answers
    /// the same conversation.
    open_conversation: post "/api/v2/conversations", NoId, NoIfMatch, json<CreateConversationRequest>
        => json(200, "The conversation (the existing one when it was open already)", ConversationDto)
            [Forbidden, NotFound, BadBody],
        |eco, ctx, NoId, _, ApiJson(b)| eco.open_conversation(ctx, input(b)?);
    /// One conversation of the caller's, with their unread count.
    get_conversation: get "/api/v2/conversations/{id}", PathId<ConversationId>, NoIfMatch, none
        => json(200, "The conversation", ConversationDto) [NotFound],
        |eco, ctx, PathId(id), _, _| eco.get_conversation(ctx, id);
    /// Sends a message (participants; 403 when blocks leave nobody to reach; 429 past the
    /// per-minute limit).
    send_message: post "/api/v2/conversations/{id}/messages", PathId<ConversationId>, NoIfMatch, json<MessageRequest>
        => json(201, "The message sent", MessageDto) [Forbidden, NotFound, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.send_message(ctx, id, &input::<_, String>(b)?);
    /// Marks the conversation read by the caller: their unread count drops to zero.
    mark_conversation_read: post "/api/v2/conversations/{id}/read", PathId<ConversationId>, NoIfMatch, none
        => json(200, "The conversation, read", ConversationDto) [NotFound],
        |eco, ctx, PathId(id), _, _| eco.mark_conversation_read(ctx, id);
    /// Edits a message: its sender, within `message_edit_window_minutes` of sending it (409
    /// `invalid_transition` after).
    edit_message: patch "/api/v2/messages/{id}", PathId<MessageId>, NoIfMatch, json<MessageRequest>
        => json(200, "The message, edited", MessageDto) [Forbidden, NotFound, Conflict, BadBody],
        |eco, ctx, PathId(id), _, ApiJson(b)| eco.edit_message(ctx, id, &input::<_, String>(b)?);
    /// Deletes a message (its sender): it stays in the conversation with the body `deleted`.
    delete_message: delete "/api/v2/messages/{id}", PathId<MessageId>, NoIfMatch, none
        => json(200, "The message, deleted", MessageDto) [Forbidden, NotFound, Conflict],
        |eco, ctx, PathId(id), _, _| eco.delete_message(ctx, id);
    /// Blocks a user: no new messages between the caller and them, either way. Idempotent.
    block_user: put "/api/v2/users/{id}/block", PathId<UserId>, NoIfMatch, none
        => empty(204, "Blocked") [NotFound, BadInput],
        |eco, ctx, PathId(id), _, _| eco.block_user(ctx, id);
    /// Lifts the caller's block of a user. Idempotent.
    unblock_user: delete "/api/v2/users/{id}/block", PathId<UserId>, NoIfMatch, none
        => empty(204, "Not blocked") [NotFound],
        |eco, ctx, PathId(id), _, _| eco.unblock_user(ctx, id);
}

lists! {
    tag = "conversations";
    /// The caller's conversations, most recently joined first, each with its `unread` count.
    list_conversations: "/api/v2/conversations", NoId, PageQuery => ConversationDto, [],
        |eco, ctx, NoId, _filter, page| eco.my_conversations(ctx, page);
    /// A conversation's messages, newest first (participants).
    list_messages: "/api/v2/conversations/{id}/messages", PathId<ConversationId>, PageQuery => MessageDto, [NotFound],
        |eco, ctx, PathId(id), _filter, page| eco.conversation_messages(ctx, id, page);
}

api!(
    [
        open_conversation,
        list_conversations,
        get_conversation,
        list_messages,
        send_message,
        mark_conversation_read,
        edit_message,
        delete_message,
        block_user,
        unblock_user,
    ],
    components(schemas(
        ConversationDto,
        MessageDto,
        CreateConversationRequest,
        MessageRequest
    )),
    tags((
        name = "conversations",
        description = "Direct and context conversations, messages, unread counts and blocks"
    ))
);
