//! The live stream: `GET /api/v2/notifications/stream`, Server-Sent Events of the caller's new
//! notifications (docs/domain.md §8 "Live").
//!
//! # Design
//!
//! The store stays the source of truth; the fan-out only says *who* should look again:
//!
//! 1. Every notification is written by a core use case in a unit of work
//!    (`UnitOfWork::notify` inserts a `Notification` row). [`LiveStore`] decorates the store the
//!    ecosystem runs on: its unit of work remembers the recipients of the notifications it
//!    inserts and, **after** a successful commit, publishes "user X has new notifications" on
//!    the [`LiveHub`]. Every path that writes notifications (requests, scheduled jobs, the
//!    worker) goes through the store, so none is missed, and nothing is published for a unit
//!    of work that rolled back.
//! 2. The [`LiveHub`] fans the wake-up out: a Tokio broadcast channel in process and, with
//!    `LiveHub::redis` (feature `redis`; `REDIS_URL`), a Redis pub/sub channel that every
//!    replica subscribes to and re-broadcasts locally, so a notification committed by replica B
//!    (or by the worker) wakes the streams open on replica A.
//! 3. A stream, woken up, reads the caller's notifications after the last one it sent, oldest
//!    first, from the store. A reconnect with `Last-Event-ID` is the same read from the id the
//!    client saw last: replay and live delivery are one code path, and a lost wake-up (Redis
//!    down, a lagging receiver) only delays delivery until the next heartbeat, which reads the
//!    store too.
//!
//! The hub carries a second message, "user X's row changed", for the caches of callers
//! ([`crate::auth`]): [`LiveTx`] remembers the users a unit of work updated or deleted and,
//! after its commit, [`LiveHub::caller_changed`] evicts them from this process's caches and
//! publishes them (with Redis, on the channel `<channel>:callers`) so every replica evicts
//! its own; after a lost subscription comes back, each replica empties its caches.
//!
//! Ids are UUID v7 (time-ordered), so "after id" is a range read. Two units of work notifying
//! one user at once may commit out of id order; each read therefore looks [`LOOKBACK`] back
//! behind the newest id it sent and skips the ids this connection already sent, so a late
//! commit is still delivered (after a newer one). Delivery is at least once across reconnects:
//! clients dedupe by event id.
//!
//! Events: `notification` (`id` = the notification id, `data` = a `NotificationDto`), comment
//! heartbeats every [`LiveConfig::heartbeat`], and a final event before the server closes the
//! stream: `token_expired` when the access token used to open it expires (by the ecosystem's
//! [`Clock`]; the client refreshes and reconnects with `Last-Event-ID`), or `shutdown` when the
//! server begins shutting down (the request's [`ShutdownSignal`]; the client reconnects to
//! another replica). A user may hold [`LiveConfig::max_streams_per_user`] streams per process;
//! one more answers 429 `too_many_streams`.

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use icosistem_core::Context;
use icosistem_core::error::StoreError;
use icosistem_core::model::analytics::{
    ApplicationFigures, DateRange, EnrollmentFigures, MentoringFigures, MentoringScope, MilestoneFigures, ReviewFigures,
};
use icosistem_core::model::{Notification, User, UserId};
use icosistem_core::ports::store::{AnalyticsRead, ApplicationScope, EnrollmentScope, MilestoneScope, ReviewScope};
use icosistem_core::ports::store::{Entity, Page, PageRequest, Repo, Transaction};
use icosistem_core::ports::{Clock, Notifier, Store};
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{AuthUser, CallerCache};
use crate::dto::NotificationDto;
use crate::error::{ApiError, Problem};
use crate::serve::ShutdownSignal;

/// How far behind the newest id it sent a stream reads again, for units of work that committed
/// after a newer one (a unit of work is cut by the request timeout long before this).
pub const LOOKBACK: Duration = Duration::from_secs(60);

/// Rows per store read of a stream, and reads per wake-up: a reconnect after a long absence
/// replays in bounded pages and continues at once, without one unbounded query.
const PAGE: u32 = 100;
const PAGES_PER_READ: usize = 10;

/// Wake-ups buffered per process before a slow stream lags (and then simply reads the store).
const WAKE_CAPACITY: usize = 1024;

/// A wake-up: this user (or, after a lost Redis subscription, everyone) has new notifications.
type Wake = Option<UserId>;

/// Settings of the live stream (part of [`HttpConfig`](crate::HttpConfig)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveConfig {
    /// Where streams learn of new notifications. Give the same hub to the [`LiveStore`] the
    /// ecosystem runs on; without one, streams still see new notifications, at the next heartbeat.
    pub hub: LiveHub,
    /// Interval of heartbeat comments (and of the store read that backs up lost wake-ups);
    /// default 15 s, under nginx's and most proxies' idle timeouts.
    pub heartbeat: Duration,
    /// Streams one user may hold open on one process (default 5).
    pub max_streams_per_user: usize,
    slots: Arc<Slots>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self::new(LiveHub::in_process())
    }
}

impl LiveConfig {
    /// The defaults over `hub`.
    pub fn new(hub: LiveHub) -> Self {
        Self {
            hub,
            heartbeat: Duration::from_secs(15),
            max_streams_per_user: 5,
            slots: Arc::default(),
        }
    }

    /// Replaces the heartbeat interval (at least 10 ms).
    pub fn with_heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every.max(Duration::from_millis(10));
        self
    }

    /// Replaces the per-user stream cap (at least 1).
    pub fn with_max_streams_per_user(mut self, max: usize) -> Self {
        self.max_streams_per_user = max.max(1);
        self
    }
}

/// The fan-out of "user X has new notifications": in process, or across replicas through Redis.
#[derive(Clone)]
pub struct LiveHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    local: broadcast::Sender<Wake>,
    /// The caller caches of the states over this hub (weak: a dropped state drops its cache).
    callers: CallerCaches,
    #[cfg(feature = "redis")]
    redis: Option<redis_fanout::Publisher>,
}

/// The caller caches a hub evicts changed users from.
#[derive(Default)]
struct CallerCaches(Mutex<Vec<Weak<CallerCache>>>);

impl CallerCaches {
    fn add(&self, cache: &Arc<CallerCache>) {
        let mut caches = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        caches.retain(|c| c.strong_count() > 0);
        caches.push(Arc::downgrade(cache));
    }

    fn each(&self, f: impl Fn(&CallerCache)) {
        let caches = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for cache in caches.iter().filter_map(Weak::upgrade) {
            f(&cache);
        }
    }
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        #[cfg(feature = "redis")]
        let redis = self.inner.redis.is_some();
        #[cfg(not(feature = "redis"))]
        let redis = false;
        f.debug_struct("LiveHub").field("redis", &redis).finish_non_exhaustive()
    }
}

impl LiveHub {
    /// A hub for one process (the default; enough for a single replica).
    pub fn in_process() -> Self {
        let (local, _) = broadcast::channel(WAKE_CAPACITY);
        Self {
            inner: Arc::new(HubInner {
                local,
                callers: CallerCaches::default(),
                #[cfg(feature = "redis")]
                redis: None,
            }),
        }
    }

    /// A hub shared by every replica on the Redis of `url`, on the pub/sub channel `channel`
    /// (e.g. `icosistem:live`). Connects lazily and reconnects on its own (a Redis that is
    /// down delays remote wake-ups to the next heartbeat; local ones are unaffected); a
    /// malformed URL is an error. Must run inside a Tokio runtime.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str, channel: impl Into<String>) -> Result<Self, redis::RedisError> {
        Self::redis_client(redis::Client::open(url)?, channel)
    }

    /// Like [`LiveHub::redis`], on the Redis of `client` (e.g. `rediss://` with a private CA,
    /// from [`crate::redis_conn::client`]).
    #[cfg(feature = "redis")]
    pub fn redis_client(client: redis::Client, channel: impl Into<String>) -> Result<Self, redis::RedisError> {
        let (local, _) = broadcast::channel(WAKE_CAPACITY);
        let publisher = redis_fanout::Publisher::connect_lazy(client.clone(), channel.into())?;
        let inner = Arc::new(HubInner {
            local,
            callers: CallerCaches::default(),
            redis: Some(publisher.clone()),
        });
        publisher.spawn_subscriber(client, Arc::downgrade(&inner));
        Ok(Self { inner })
    }

    /// Tells the streams of `user` (on every replica) to read the store again.
    pub fn publish(&self, user: UserId) {
        // No receiver is not an error: nobody is streaming here right now.
        let _ = self.inner.local.send(Some(user));
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.inner.redis {
            redis.publish(user);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.inner.local.subscribe()
    }

    /// Tells every replica that `user`'s row changed (status, role, security stamp …): their
    /// caches of callers forget it. This process's caches forget it before this returns; with
    /// Redis, the others when the message arrives (see [`crate::auth`] for the bound).
    /// [`LiveStore`] calls it after each commit that updated or deleted a user.
    pub fn caller_changed(&self, user: UserId) {
        self.inner.callers.each(|cache| cache.evict(user));
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.inner.redis {
            redis.publish_caller(user);
        }
    }

    /// Evicts changed users from `cache` from now on (called by `AppState::new`).
    pub(crate) fn watch_callers(&self, cache: &Arc<CallerCache>) {
        self.inner.callers.add(cache);
    }
}

#[cfg(feature = "redis")]
mod redis_fanout {
    use std::time::Duration;

    use std::sync::Weak;

    use futures::StreamExt as _;
    use icosistem_core::model::UserId;
    use redis::aio::ConnectionManager;
    use uuid::Uuid;

    use super::HubInner;

    /// The first wait before re-subscribing after a failure, doubled after each failure in a
    /// row up to `MAX_BACKOFF`: a Redis that is down is not hammered, and one that comes back
    /// is used again within `MAX_BACKOFF`.
    const MIN_BACKOFF: Duration = Duration::from_millis(250);
    const MAX_BACKOFF: Duration = Duration::from_secs(10);

    /// The channel of "this user's row changed" next to the wake-ups' `channel`.
    fn callers_channel(channel: &str) -> String {
        format!("{channel}:callers")
    }

    /// Publishes `<origin> <user id>` on the channel; `origin` lets this process ignore its own
    /// messages (it already woke its streams locally).
    #[derive(Clone)]
    pub(super) struct Publisher {
        conn: ConnectionManager,
        channel: String,
        origin: Uuid,
    }

    impl Publisher {
        pub(super) fn connect_lazy(client: redis::Client, channel: String) -> redis::RedisResult<Self> {
            // Short timeouts like the rate limiter's: a publish runs after a commit and must
            // never hold anything up.
            Ok(Self {
                conn: ConnectionManager::new_lazy_with_config(client, crate::redis_conn::manager_config())?,
                channel,
                origin: Uuid::new_v4(),
            })
        }

        /// Publishes a wake-up in the background: the commit it follows is already done.
        pub(super) fn publish(&self, user: UserId) {
            self.send(
                self.channel.clone(),
                user,
                "publishing a live wake-up to Redis failed; remote streams catch up at their next heartbeat",
            );
        }

        /// Publishes "`user`'s row changed" in the background.
        pub(super) fn publish_caller(&self, user: UserId) {
            self.send(
                callers_channel(&self.channel),
                user,
                "publishing a caller change to Redis failed; other replicas' cached callers expire by their TTL",
            );
        }

        fn send(&self, channel: String, user: UserId, failed: &'static str) {
            let mut conn = self.conn.clone();
            let payload = format!("{} {}", self.origin, user);
            tokio::spawn(async move {
                let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&payload)
                    .query_async(&mut conn)
                    .await;
                if let Err(error) = sent {
                    tracing::warn!(%error, "{failed}");
                }
            });
        }

        /// Subscribes (and re-subscribes after errors, with backoff) while the hub lives,
        /// re-broadcasting other processes' wake-ups locally and evicting the users they changed
        /// from the local caller caches. After every (re)subscription everyone is woken and the
        /// caller caches are emptied: messages published while the subscription was down are
        /// lost, the store is not.
        pub(super) fn spawn_subscriber(&self, client: redis::Client, hub: Weak<HubInner>) {
            let wakes = self.channel.clone();
            let callers = callers_channel(&self.channel);
            let origin = self.origin.to_string();
            tokio::spawn(async move {
                let mut backoff = MIN_BACKOFF;
                loop {
                    if hub.strong_count() == 0 {
                        return;
                    }
                    match client.get_async_pubsub().await {
                        Ok(mut pubsub) => match pubsub.subscribe(&[wakes.as_str(), callers.as_str()]).await {
                            Ok(()) => {
                                backoff = MIN_BACKOFF;
                                match hub.upgrade() {
                                    Some(hub) => {
                                        let _ = hub.local.send(None);
                                        hub.callers.each(|cache| cache.clear());
                                    }
                                    None => return,
                                }
                                let mut messages = pubsub.into_on_message();
                                while let Some(message) = messages.next().await {
                                    let Some(hub) = hub.upgrade() else { return };
                                    let payload: String = message.get_payload().unwrap_or_default();
                                    let Some((from, user)) = payload.split_once(' ') else {
                                        continue;
                                    };
                                    if from == origin {
                                        continue;
                                    }
                                    let Ok(user) = user.parse::<Uuid>().map(UserId::from) else {
                                        continue;
                                    };
                                    if message.get_channel_name() == callers {
                                        hub.callers.each(|cache| cache.evict(user));
                                    } else {
                                        let _ = hub.local.send(Some(user));
                                    }
                                }
                                tracing::warn!(
                                    "the live Redis subscription ended; resubscribing (cached callers expire by their TTL meanwhile)"
                                );
                            }
                            Err(error) => tracing::warn!(%error, "subscribing to the live Redis channels failed"),
                        },
                        Err(error) => tracing::warn!(
                            %error,
                            retry_in_ms = backoff.as_millis() as u64,
                            "connecting to Redis for live wake-ups and caller changes failed"
                        ),
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            });
        }
    }
}

/// A [`Store`] decorator that publishes, after each commit, the recipients of the notifications
/// the unit of work inserted (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct LiveStore<S> {
    inner: S,
    hub: LiveHub,
}

impl<S> LiveStore<S> {
    /// `inner`, publishing on `hub`.
    pub fn new(inner: S, hub: LiveHub) -> Self {
        Self { inner, hub }
    }

    /// The decorated store.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Store> Store for LiveStore<S> {
    type Tx = LiveTx<S::Tx>;

    async fn begin(&self) -> Result<Self::Tx, StoreError> {
        Ok(LiveTx {
            inner: self.inner.begin().await?,
            hub: self.hub.clone(),
            notified: Vec::new(),
            changed_users: Vec::new(),
        })
    }
}

/// The unit of work of a [`LiveStore`].
#[derive(Debug)]
pub struct LiveTx<T> {
    inner: T,
    hub: LiveHub,
    notified: Vec<UserId>,
    /// Users whose row this unit updated or deleted: cached callers to evict after commit.
    changed_users: Vec<UserId>,
}

impl<E: Entity, T: Repo<E>> Repo<E> for LiveTx<T> {
    async fn get(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        self.inner.get(id).await
    }

    async fn get_for_update(&mut self, id: E::Id) -> Result<Option<E>, StoreError> {
        self.inner.get_for_update(id).await
    }

    async fn insert(&mut self, entity: &E) -> Result<(), StoreError> {
        self.inner.insert(entity).await?;
        // One generic impl serves every entity; only notifications matter here.
        if let Some(n) = (entity as &dyn Any).downcast_ref::<Notification>() {
            self.notified.push(n.user_id);
        }
        Ok(())
    }

    async fn update(&mut self, entity: &E) -> Result<E, StoreError> {
        let updated = self.inner.update(entity).await?;
        if let Some(user) = (entity as &dyn Any).downcast_ref::<User>() {
            self.changed_users.push(user.id);
        }
        Ok(updated)
    }

    async fn delete(&mut self, id: E::Id) -> Result<(), StoreError> {
        self.inner.delete(id).await?;
        if TypeId::of::<E>() == TypeId::of::<User>()
            && let Some(user) = (&id as &dyn Any).downcast_ref::<UserId>()
        {
            self.changed_users.push(*user);
        }
        Ok(())
    }

    async fn list(&mut self, filter: &E::Filter, page: PageRequest) -> Result<Page<E>, StoreError> {
        self.inner.list(filter, page).await
    }

    async fn count(&mut self, filter: &E::Filter) -> Result<u64, StoreError> {
        self.inner.count(filter).await
    }
}

impl<T: Transaction> Transaction for LiveTx<T> {
    async fn commit(self) -> Result<(), StoreError> {
        let Self {
            inner,
            hub,
            mut notified,
            mut changed_users,
        } = self;
        inner.commit().await?;
        changed_users.sort();
        changed_users.dedup();
        for user in changed_users {
            hub.caller_changed(user);
        }
        notified.sort();
        notified.dedup();
        for user in notified {
            hub.publish(user);
        }
        Ok(())
    }
}

/// Streams open per user in this process.
#[derive(Debug, Default)]
struct Slots(Mutex<HashMap<UserId, usize>>);

/// One stream's place under the per-user cap, given back when the stream is dropped.
struct Slot {
    slots: Arc<Slots>,
    user: UserId,
}

impl Slots {
    fn take(self: &Arc<Self>, user: UserId, max: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(user).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: Arc::clone(self),
            user,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// The smallest UUID v7 of `LOOKBACK` before `id`'s timestamp (its top 48 bits, in ms).
fn lookback_floor(id: Uuid) -> Uuid {
    let ms = (id.as_u128() >> 80) as u64;
    let back = ms.saturating_sub(LOOKBACK.as_millis() as u64);
    Uuid::from_u128(u128::from(back) << 80)
}

/// Where a stream stands: the newest id it sent (or started after) and the ids it sent or
/// skipped within the lookback window.
struct Cursor {
    high: Uuid,
    seen: BTreeSet<Uuid>,
}

impl Cursor {
    /// Starts after `after`: what exists up to it counts as seen.
    async fn start<S: Store, N: Notifier, C: Clock>(
        state: &AppState<S, N, C>,
        ctx: &Context,
        after: Uuid,
    ) -> Result<Self, icosistem_core::Error> {
        let mut cursor = Self {
            high: after,
            seen: BTreeSet::new(),
        };
        let (rows, _) = cursor.fetch(state, ctx).await?;
        cursor.seen = rows.iter().map(|n| n.id.into()).filter(|id| *id <= after).collect();
        Ok(cursor)
    }

    /// Rows after the lookback floor, oldest first, at most `PAGES_PER_READ` pages; whether more
    /// may follow.
    async fn fetch<S: Store, N: Notifier, C: Clock>(
        &self,
        state: &AppState<S, N, C>,
        ctx: &Context,
    ) -> Result<(Vec<Notification>, bool), icosistem_core::Error> {
        let mut rows = Vec::new();
        let mut after = lookback_floor(self.high);
        for _ in 0..PAGES_PER_READ {
            let page = PageRequest {
                limit: PAGE,
                after: Some(after),
                ..PageRequest::first(PAGE).oldest_first()
            };
            let page = state.eco.list_notifications(ctx, None, page).await?;
            let full = page.items.len() as u32 == PAGE;
            if let Some(last) = page.items.last() {
                after = last.id.into();
            }
            rows.extend(page.items);
            if !full {
                return Ok((rows, false));
            }
        }
        Ok((rows, true))
    }

    /// The notifications not sent yet, oldest first; whether more may follow at once.
    async fn next<S: Store, N: Notifier, C: Clock>(
        &mut self,
        state: &AppState<S, N, C>,
        ctx: &Context,
    ) -> Result<(Vec<Notification>, bool), icosistem_core::Error> {
        let (rows, more) = self.fetch(state, ctx).await?;
        let fresh: Vec<Notification> = rows.into_iter().filter(|n| !self.seen.contains(&n.id.into())).collect();
        for n in &fresh {
            let id: Uuid = n.id.into();
            self.seen.insert(id);
            self.high = self.high.max(id);
        }
        // Ids below the floor are never read again; forget them.
        self.seen = self.seen.split_off(&lookback_floor(self.high));
        Ok((fresh, more))
    }
}

fn notification_event(n: &Notification) -> Event {
    let event = Event::default().event("notification").id(n.id.to_string());
    match event.json_data(NotificationDto::from(n)) {
        Ok(event) => event,
        // A DTO of strings and JSON values always serializes; an empty event beats a panic.
        Err(_) => Event::default().event("notification").id(n.id.to_string()),
    }
}

/// The final event before the server closes a stream.
fn final_event(kind: &'static str, detail: &str) -> Event {
    Event::default()
        .event(kind)
        .json_data(serde_json::json!({ "reason": kind, "detail": detail }))
        .unwrap_or_else(|_| Event::default().event(kind))
}

enum Step {
    Read,
    Heartbeat,
    Idle,
    End(Event),
    Gone,
}

/// `Last-Event-ID`: the id (UUID) of the last event received; empty is none. Documented as a
/// string, never `null`, as a header has no null.
struct LastEventId;

impl utoipa::IntoParams for LastEventId {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        vec![
            ParameterBuilder::new()
                .name("Last-Event-ID")
                .parameter_in(ParameterIn::Header)
                .required(utoipa::openapi::Required::False)
                .description(Some(
                    "The id of the last event received: replays the notifications after it",
                ))
                .schema(Some(crate::dto::schema::uuid_or_empty()))
                .build(),
        ]
    }
}

/// The caller's new notifications as Server-Sent Events. Each `notification` event's `id` is
/// the notification id; reconnecting with `Last-Event-ID` replays what came after it. Comment
/// heartbeats keep proxies from timing the stream out. The server ends the stream with a
/// `token_expired` event when the access token expires (refresh, then reconnect with
/// `Last-Event-ID`) and with a `shutdown` event when it shuts down (reconnect).
#[utoipa::path(get, path = "/api/v2/notifications/stream", tag = "notifications", operation_id = "notifications_stream", security(("bearer" = [])),
    params(LastEventId),
    responses(
        (status = 200, description = "An event stream: `notification` events (data: a NotificationDto), comment heartbeats, and a final `token_expired` or `shutdown` event", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Last-Event-ID` is not an event id", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many streams open for this user (`too_many_streams`)", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn stream<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    headers: HeaderMap,
    shutdown: Option<Extension<ShutdownSignal>>,
) -> Result<Response, ApiError> {
    let live = state.config.live.clone();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(7..))
        .map(str::trim)
        .unwrap_or_default();
    let expires_at = state.keys.verify(token, state.eco.clock().now())?.exp;
    let last_event_id = match headers.get("last-event-id").map(|v| v.to_str().map(str::trim)) {
        None | Some(Ok("")) => None,
        Some(Ok(id)) => Some(
            Uuid::try_parse(id)
                .map_err(|_| ApiError::invalid_field("Last-Event-ID", "is not an event id of this stream"))?,
        ),
        Some(Err(_)) => {
            return Err(ApiError::invalid_field(
                "Last-Event-ID",
                "is not an event id of this stream",
            ));
        }
    };
    let slot = live
        .slots
        .take(auth.user.id, live.max_streams_per_user)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                format!(
                    "at most {} notification streams may be open per user; close one first",
                    live.max_streams_per_user
                ),
            )
        })?;
    // Subscribed before the first read: a wake-up between the read and the wait is not lost.
    let wakes = live.hub.subscribe();
    let start = last_event_id.unwrap_or_else(Uuid::now_v7);
    let cursor = Cursor::start(&state, &auth.ctx, start).await?;
    let (tx, rx) = mpsc::channel::<Event>(16);
    let task = Pump {
        state,
        ctx: auth.ctx,
        user: auth.user.id,
        expires_at,
        heartbeat: live.heartbeat,
        shutdown: shutdown.map(|Extension(s)| s),
        cursor,
        wakes,
        tx,
        // Replay at once on connect.
        pending: last_event_id.is_some(),
    };
    tokio::spawn(task.run());
    let events = futures::stream::unfold((rx, slot), |(mut rx, slot)| async move {
        let event = rx.recv().await?;
        Some((Ok::<_, Infallible>(event), (rx, slot)))
    });
    // No axum keep-alive: the pump sends its own heartbeats (and reads the store with each).
    let mut response = Sse::new(events).into_response();
    // Proxies that honour it (nginx) pass the stream through without buffering.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The task behind one stream: waits for wake-ups, heartbeats, expiry or shutdown and sends
/// events until the client goes away or the stream ends.
struct Pump<S, N, C> {
    state: AppState<S, N, C>,
    ctx: Context,
    user: UserId,
    expires_at: i64,
    heartbeat: Duration,
    shutdown: Option<ShutdownSignal>,
    cursor: Cursor,
    wakes: broadcast::Receiver<Wake>,
    tx: mpsc::Sender<Event>,
    pending: bool,
}

impl<S: Store, N: Notifier, C: Clock> Pump<S, N, C> {
    fn expired(&self) -> bool {
        self.state.eco.clock().now().timestamp() >= self.expires_at
    }

    /// Real time until the token expires by the ecosystem clock (a fake clock is also checked
    /// at every heartbeat).
    fn until_expiry(&self) -> Duration {
        let left = self.expires_at - self.state.eco.clock().now().timestamp();
        Duration::from_secs(u64::try_from(left).unwrap_or(0))
    }

    async fn run(mut self) {
        let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + self.heartbeat, self.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shutdown = self.shutdown.clone();
        let shutdown = async move {
            match shutdown {
                Some(signal) => signal.triggered().await,
                None => std::future::pending().await,
            }
        };
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let step = if self.expired() {
                Step::End(final_event(
                    "token_expired",
                    "the access token expired; refresh it and reconnect with Last-Event-ID",
                ))
            } else if self.pending {
                Step::Read
            } else {
                tokio::select! {
                    biased;
                    () = self.tx.closed() => Step::Gone,
                    () = &mut shutdown => Step::End(final_event("shutdown", "the server is shutting down; reconnect with Last-Event-ID")),
                    () = tokio::time::sleep(self.until_expiry()) => Step::Idle,
                    wake = self.wakes.recv() => match wake {
                        Ok(Some(user)) if user != self.user => Step::Idle,
                        // Ours, everyone's, or some were dropped while we lagged: look.
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => Step::Read,
                        Err(broadcast::error::RecvError::Closed) => Step::Heartbeat,
                    },
                    _ = heartbeat.tick() => Step::Heartbeat,
                }
            };
            match step {
                Step::Gone => return,
                Step::Idle => {}
                Step::End(event) => {
                    let _ = self.tx.send(event).await;
                    return;
                }
                Step::Heartbeat => {
                    if self.tx.send(Event::default().comment("heartbeat")).await.is_err() {
                        return;
                    }
                    if !self.read().await {
                        return;
                    }
                }
                Step::Read => {
                    if !self.read().await {
                        return;
                    }
                }
            }
        }
    }

    /// Sends what is new; false when the client is gone.
    async fn read(&mut self) -> bool {
        self.pending = false;
        match self.cursor.next(&self.state, &self.ctx).await {
            Ok((fresh, more)) => {
                self.pending = more;
                for n in &fresh {
                    if self.tx.send(notification_event(n)).await.is_err() {
                        return false;
                    }
                }
            }
            // The next wake-up or heartbeat tries again.
            Err(error) => tracing::warn!(%error, "reading notifications for a live stream failed"),
        }
        true
    }
}

/// The live stream's operation, merged into the document by [`openapi::document`](crate::openapi::document).
#[derive(utoipa::OpenApi)]
#[openapi(paths(stream))]
pub(crate) struct LiveApi;

// Analytics only read: nothing to publish.
impl<T: AnalyticsRead> AnalyticsRead for LiveTx<T> {
    async fn application_figures(
        &mut self,
        scope: ApplicationScope,
        range: DateRange,
    ) -> Result<ApplicationFigures, StoreError> {
        self.inner.application_figures(scope, range).await
    }
    async fn review_figures(&mut self, scope: ReviewScope, range: DateRange) -> Result<ReviewFigures, StoreError> {
        self.inner.review_figures(scope, range).await
    }
    async fn enrollment_figures(
        &mut self,
        scope: EnrollmentScope,
        range: DateRange,
    ) -> Result<EnrollmentFigures, StoreError> {
        self.inner.enrollment_figures(scope, range).await
    }
    async fn milestone_figures(
        &mut self,
        scope: MilestoneScope,
        range: DateRange,
        today: chrono::NaiveDate,
    ) -> Result<MilestoneFigures, StoreError> {
        self.inner.milestone_figures(scope, range, today).await
    }
    async fn mentoring_figures(
        &mut self,
        scope: MentoringScope,
        range: DateRange,
        default_capacity: u64,
    ) -> Result<MentoringFigures, StoreError> {
        self.inner.mentoring_figures(scope, range, default_capacity).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_below_every_id_of_the_window() {
        let id = Uuid::now_v7();
        let floor = lookback_floor(id);
        assert!(floor < id);
        let ms = (id.as_u128() >> 80) as u64;
        assert_eq!((floor.as_u128() >> 80) as u64, ms - LOOKBACK.as_millis() as u64);
    }

    #[test]
    fn slots_are_capped_per_user_and_given_back() {
        let slots = Arc::new(Slots::default());
        let (a, b) = (UserId::from(Uuid::now_v7()), UserId::from(Uuid::now_v7()));
        let first = slots.take(a, 2).expect("first");
        let _second = slots.take(a, 2).expect("second");
        assert!(slots.take(a, 2).is_none());
        assert!(slots.take(b, 2).is_some());
        drop(first);
        assert!(slots.take(a, 2).is_some());
    }
}
