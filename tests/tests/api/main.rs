//! The HTTP suite, one binary: the router in-process on the memory store (every path of
//! the HTTP contract with its success and error answers), and the server over a real socket.
//!
//! - `common`: the in-process app and its request helpers, shared by the resource modules;
//! - `basics`: operations, auth, the account, middleware headers, tokens, the OpenAPI document;
//! - one module per resource group;
//! - `server`: the `icosistem-server` binary's pieces over a socket (demo data, shutdown, config);
//! - `hostile`: `icosistem_http::serve` against slow, many and half-open clients, and its config;
//! - `stream`: the live notification stream (SSE) in process and across two replicas on
//!   PostgreSQL and Redis;
//! - `caller_cache`: the cache of callers across two replicas, with Redis (a suspension is
//!   refused by the other replica within a pub/sub message) and without (within the TTL);
//! - `read_replica`: the server's read sessions over a PostgreSQL read replica (a second
//!   database): a caller's list right after their own write reads the primary;
//! - `redis_tls`: the server's Redis over `rediss://` with a private CA (a TLS-only redis-server);
//! - `rbac`: every route as every role against a table of expected answers;
//! - `calendar`: private calendar feeds (issue, rotate, revoke, the `.ics` read back with
//!   Python's `icalendar`);
//! - `documents`: uploads, downloads, versions and the hostile-upload table;
//! - `webhooks`: signed deliveries to a local receiver (checked with the reference library),
//!   retries, private targets refused, endpoints disabled after their failure window;
//! - `journey`: the whole selection journey over a socket on PostgreSQL.
//!
//! Every answer of `common::App` is checked for secrets (password hashes, stored token hashes).

mod common;

mod admin;
mod analytics;
mod applications;
mod basics;
mod calendar;
mod caller_cache;
mod documents;
mod hostile;
mod inbox;
mod journey;
mod matching;
mod meetings;
mod mentoring;
mod messaging;
mod openapi;
mod ops;
mod organizations;
mod programs;
mod projects;
mod rbac;
mod read_replica;
mod redis_tls;
mod round_trips;
mod rounds;
mod server;
mod stream;
mod tasks;
mod webhooks;
mod worker;
