//! Messaging over HTTP on the memory store (docs/domain.md §7): an ally and a mentee open
//! their conversation and exchange messages, unread counts drop to zero after `read`, a new
//! message notifies in-app (what the live stream carries), a stranger gets 403, a block stops
//! messages either way, an edit is the sender's, and the per-minute limit answers 429 with
//! `Retry-After`.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::common::{App, FORBIDDEN, INVALID, NOT_FOUND, Reply, unread_of};

async fn open(app: &App, token: &str, user: &str) -> Reply {
    app.post("/api/v2/conversations", json!({ "user_id": user }), token)
        .await
}

async fn say(app: &App, token: &str, conversation: &str, body: &str) -> Reply {
    app.post(
        &format!("/api/v2/conversations/{conversation}/messages"),
        json!({ "body": body }),
        token,
    )
    .await
}

/// The `unread` of `conversation` in the caller's list.
async fn unread(app: &App, token: &str, conversation: &str) -> u64 {
    let list = app.get("/api/v2/conversations", token).await;
    unread_of(list.ok(StatusCode::OK), conversation)
        .unwrap_or_else(|| panic!("{conversation} is not listed: {}", list.raw))
}

#[tokio::test]
async fn an_ally_and_a_mentee_exchange_messages_and_read_them() {
    let app = App::new().await;
    let world = &app.world;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await.person;
    let (ally_token, mentee_token) = (app.token(&ally), app.token(&mentee));

    let opened = open(&app, &mentee_token, &ally.id().to_string()).await;
    let conversation = opened.ok(StatusCode::OK)["id"].as_str().expect("id").to_owned();
    assert_eq!(opened.body["kind"], "direct");
    // The ally opening it finds the same one.
    let again = open(&app, &ally_token, &mentee.id().to_string()).await;
    assert_eq!(again.ok(StatusCode::OK)["id"], conversation.as_str());

    for text in ["Hello!", "Shall we meet on Monday?", "I read your deck."] {
        say(&app, &ally_token, &conversation, text)
            .await
            .ok(StatusCode::CREATED);
    }
    let reply = say(&app, &mentee_token, &conversation, "Monday works.").await;
    let answer = reply.ok(StatusCode::CREATED);
    assert_eq!(answer["sender_id"], mentee.id().to_string());
    assert_eq!(answer["body"], "Monday works.");
    assert_eq!(unread(&app, &mentee_token, &conversation).await, 0, "sending reads");
    assert_eq!(unread(&app, &ally_token, &conversation).await, 1);

    let messages = app
        .get(
            &format!("/api/v2/conversations/{conversation}/messages?limit=2"),
            &mentee_token,
        )
        .await;
    let page = messages.ok(StatusCode::OK);
    let bodies: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(bodies, ["Monday works.", "I read your deck."], "newest first");
    let cursor = page["next_cursor"].as_str().expect("more follow");
    let rest = app
        .get(
            &format!("/api/v2/conversations/{conversation}/messages?limit=2&cursor={cursor}"),
            &mentee_token,
        )
        .await;
    assert_eq!(rest.ok(StatusCode::OK)["items"].as_array().expect("items").len(), 2);

    // Each of the ally's messages notified the mentee in-app (the live stream's events).
    let notices = app.get("/api/v2/notifications", &mentee_token).await;
    let notices: Vec<Value> = notices.ok(StatusCode::OK)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == "message_received")
        .cloned()
        .collect();
    assert_eq!(notices.len(), 3);
    assert_eq!(notices[0]["data"]["conversation_id"], conversation.as_str());

    let read = app
        .command(&format!("/api/v2/conversations/{conversation}/read"), &ally_token)
        .await;
    assert_eq!(read.ok(StatusCode::OK)["unread"], 0);
    assert_eq!(unread(&app, &ally_token, &conversation).await, 0);
    let one = app
        .get(&format!("/api/v2/conversations/{conversation}"), &ally_token)
        .await;
    let one = one.ok(StatusCode::OK);
    assert_eq!(one["unread"], 0);
    assert_eq!(one["participants"].as_array().expect("participants").len(), 2);

    // Only the sender edits; a deleted message keeps its place with the body "deleted".
    let first: Value = messages.body["items"][1].clone();
    let id = first["id"].as_str().expect("id");
    app.patch(
        &format!("/api/v2/messages/{id}"),
        json!({ "body": "" }),
        &ally_token,
        None,
    )
    .await
    .refused(INVALID);
    let edited = app
        .patch(
            &format!("/api/v2/messages/{id}"),
            json!({ "body": "I read your deck twice." }),
            &ally_token,
            None,
        )
        .await;
    assert!(edited.ok(StatusCode::OK)["edited_at"].is_string());
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/v2/messages/{id}"),
            None,
            Some(&ally_token),
            None,
        )
        .await;
    assert_eq!(deleted.ok(StatusCode::OK)["body"], "deleted");
    assert_eq!(deleted.body["deleted"], true);
}

#[tokio::test]
async fn strangers_blocks_and_bad_bodies_are_refused() {
    let app = App::new().await;
    let world = &app.world;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await.person;
    let stranger = world.entrepreneur().await;
    let (ally_token, mentee_token, stranger_token) = (app.token(&ally), app.token(&mentee), app.token(&stranger));

    open(&app, &stranger_token, &ally.id().to_string())
        .await
        .refused(FORBIDDEN);
    let conversation = open(&app, &ally_token, &mentee.id().to_string()).await.id();
    // A stranger does not learn the conversation exists.
    app.get_refused(
        &format!("/api/v2/conversations/{conversation}"),
        &stranger_token,
        NOT_FOUND,
    )
    .await;
    say(&app, &stranger_token, &conversation, "hi").await.refused(NOT_FOUND);
    // The mentee's edit of the ally's message is refused.
    let message = say(&app, &ally_token, &conversation, "hello").await.id();
    app.patch(
        &format!("/api/v2/messages/{message}"),
        json!({ "body": "mine now" }),
        &mentee_token,
        None,
    )
    .await
    .refused(FORBIDDEN);

    let empty = say(&app, &ally_token, &conversation, "   ").await;
    empty.refused(INVALID);
    assert_eq!(empty.fields(), ["body"]);
    let long = say(&app, &ally_token, &conversation, &"x".repeat(10_001)).await;
    long.refused(INVALID);
    assert_eq!(long.fields(), ["body"]);
    assert_eq!(
        app.post_invalid(
            "/api/v2/conversations",
            json!({ "context_type": "guild", "context_id": "nope" }),
            &ally_token,
        )
        .await,
        ["context_id", "context_type"]
    );

    // The mentee blocks the ally: no messages either way until unblocked.
    let block = format!("/api/v2/users/{}/block", ally.id());
    let blocked = app.send(Method::PUT, &block, None, Some(&mentee_token), None).await;
    assert_eq!(blocked.status, StatusCode::NO_CONTENT, "{}", blocked.raw);
    say(&app, &ally_token, &conversation, "are you there?")
        .await
        .refused(FORBIDDEN);
    say(&app, &mentee_token, &conversation, "no").await.refused(FORBIDDEN);
    let unblocked = app.send(Method::DELETE, &block, None, Some(&mentee_token), None).await;
    assert_eq!(unblocked.status, StatusCode::NO_CONTENT, "{}", unblocked.raw);
    say(&app, &ally_token, &conversation, "welcome back")
        .await
        .ok(StatusCode::CREATED);
    assert_eq!(unread(&app, &mentee_token, &conversation).await, 2);
}

#[tokio::test]
async fn sending_past_the_per_minute_limit_answers_429_with_retry_after() {
    let app = App::new().await;
    let world = &app.world;
    let ally = world.available_ally().await;
    let mentee = world.mentee(&ally).await.person;
    let ally_token = app.token(&ally);
    let conversation = open(&app, &ally_token, &mentee.id().to_string()).await.id();
    let limit = world.eco.limits().max_messages_per_minute;
    for n in 0..limit {
        say(&app, &ally_token, &conversation, &format!("message {n}"))
            .await
            .ok(StatusCode::CREATED);
    }
    let refused = say(&app, &ally_token, &conversation, "one too many").await;
    refused.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(refused.headers[header::RETRY_AFTER], "60");
    // The mentee is not limited by the ally's sending; the ally may send again a minute on.
    say(&app, &app.token(&mentee), &conversation, "slow down")
        .await
        .ok(StatusCode::CREATED);
    world.advance(chrono::Duration::seconds(60));
    say(&app, &app.token(&ally), &conversation, "sorry")
        .await
        .ok(StatusCode::CREATED);
}
