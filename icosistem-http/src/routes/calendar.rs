//! Calendars (issue #12 "Calendars"): `/api/v2/users/me/calendar-feed` — the caller creates
//! (or rotates), reads and revokes their private feed — and `/api/v2/calendar/{token}.ics`,
//! the feed itself, which calendar apps (Google, Outlook, Apple) subscribe to. Calendar apps send
//! no bearer token: the token in the URL is the credential, so it is shown once, stored hashed,
//! and kept out of the logs (`middleware::loggable_path`). The iCalendar text comes from
//! `icosistem_delivery::calendar`, the code that renders the email invites.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use icosistem_core::Error;
use icosistem_core::model::CalendarFeed;
use icosistem_core::ports::{Clock, Notifier, Store};
use serde::Serialize;
use utoipa::ToSchema;

use super::kit::{Authenticated, NoId, NotFound, Unavailable, api, mount, routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::{AppState, HttpConfig};

/// Where feeds are served; a feed's URL is this, its token and `.ics`.
const FEED_PREFIX: &str = "/api/v2/calendar/";

/// A newly issued (or rotated) calendar feed. The token and the URLs holding it are shown only
/// here; whoever holds them reads the feed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IssuedCalendarFeedDto {
    /// The subscription URL to paste into a calendar app.
    #[schema(example = "https://app.example.org/api/v2/calendar/3q2-7w…Xk.ics")]
    url: String,
    /// The same URL with the `webcal:` scheme, which opens the calendar app directly.
    webcal_url: String,
    /// The URL's path (for a client that knows its own origin).
    path: String,
    /// When the feed was first created.
    created_at: DateTime<Utc>,
    /// When its token was last issued.
    updated_at: DateTime<Utc>,
}

/// Whether the caller has a calendar feed (its token is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarFeedDto {
    /// A feed exists; its URL works.
    active: bool,
    /// When it was first created.
    created_at: Option<DateTime<Utc>>,
    /// When its token was last issued.
    updated_at: Option<DateTime<Utc>>,
}

impl From<&Option<CalendarFeed>> for CalendarFeedDto {
    fn from(feed: &Option<CalendarFeed>) -> Self {
        Self {
            active: feed.is_some(),
            created_at: feed.as_ref().map(|f| f.meta.created_at),
            updated_at: feed.as_ref().map(|f| f.meta.updated_at),
        }
    }
}

/// The origin feed URLs start with: the configured public URL, else the request's `Host` (with
/// `X-Forwarded-Proto` when the proxy is trusted).
fn origin(config: &HttpConfig, headers: &HeaderMap) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = config
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()))
        .flatten()
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// Creates the caller's private calendar feed, or rotates its token when it exists: the
/// previous URL stops working at once. The answer is the only place the URL is shown.
#[utoipa::path(post, path = "/api/v2/users/me/calendar-feed", operation_id = "issue_calendar_feed",
    tag = "calendar", security(("bearer" = [])),
    responses(
        (status = 201, description = "The feed's URL, shown once", body = IssuedCalendarFeedDto),
        Authenticated))]
pub(crate) async fn issue_calendar_feed<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    auth: AuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let issued = state.eco.issue_calendar_feed(&auth.ctx).await?;
    let path = format!("{FEED_PREFIX}{}.ics", issued.token);
    let url = format!("{}{path}", origin(&state.config, &headers));
    let webcal_url = match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.clone(),
    };
    let body = IssuedCalendarFeedDto {
        url,
        webcal_url,
        path,
        created_at: issued.feed.meta.created_at,
        updated_at: issued.feed.meta.updated_at,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
mount!(issue_calendar_feed: post "/api/v2/users/me/calendar-feed");

routes! {
    tag = "calendar";
    /// Whether the caller has a calendar feed, and since when (never its URL).
    get_calendar_feed: get "/api/v2/users/me/calendar-feed", NoId, NoIfMatch, none
        => json(200, "The caller's feed", CalendarFeedDto) [],
        |eco, ctx, NoId, _, _| eco.my_calendar_feed(ctx);
    /// Revokes the caller's calendar feed: its URL answers 404 from now on.
    revoke_calendar_feed: delete "/api/v2/users/me/calendar-feed", NoId, NoIfMatch, none
        => empty(204, "Revoked") [NotFound],
        |eco, ctx, NoId, _, _| eco.revoke_calendar_feed(ctx);
}

/// A user's calendar feed (iCalendar, `METHOD:PUBLISH`): their sessions and meetings from the
/// recent past (`calendar_feed_past`) on, cancelled ones with `STATUS:CANCELLED`, times in UTC
/// and the user's time zone named (`X-WR-TIMEZONE`). No bearer token: the token in the path is
/// the credential; an unknown, rotated or revoked one is 404.
#[utoipa::path(get, path = "/api/v2/calendar/{token}.ics", operation_id = "calendar_feed", tag = "calendar",
    params(("token" = String, Path, description = "The feed's token, as issued")),
    responses(
        (status = 200, description = "The feed (iCalendar, RFC 5545)", body = String, content_type = "text/calendar"),
        NotFound, Unavailable))]
pub(crate) async fn calendar_feed<S: Store, N: Notifier, C: Clock>(
    State(state): State<AppState<S, N, C>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let token = file
        .strip_suffix(".ics")
        .ok_or_else(|| ApiError::from(Error::not_found("calendar_feed", "token")))?;
    let view = state.eco.calendar_feed(token).await?;
    let name = format!("Icosistem — {}", view.user.full_name());
    let body = icosistem_delivery::calendar::feed(&name, view.user.timezone.as_str(), &view.entries);
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"icosistem.ics\""),
    );
    Ok(response)
}

/// The feed's route: axum's router matches whole segments, so `{token}.ics` is the segment
/// `{file}` and the handler takes the `.ics` off (anything else is 404).
pub(crate) mod calendar_feed {
    use icosistem_core::ports::{Clock, Notifier, Store};

    /// Adds the route to `router`.
    pub(crate) fn mount<S: Store, N: Notifier, C: Clock>(
        router: axum::Router<crate::AppState<S, N, C>>,
    ) -> axum::Router<crate::AppState<S, N, C>> {
        router.route(
            "/api/v2/calendar/{file}",
            axum::routing::get(super::calendar_feed::<S, N, C>),
        )
    }
}

api!(
    [
        issue_calendar_feed,
        get_calendar_feed,
        revoke_calendar_feed,
        calendar_feed
    ],
    components(schemas(IssuedCalendarFeedDto, CalendarFeedDto)),
    tags((
        name = "calendar",
        description = "Private calendar feeds of sessions and meetings (iCalendar)"
    ))
);
