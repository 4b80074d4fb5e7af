//! `http_loader`: the companion of `benches/http/run.sh`, the HTTP load harness.
//!
//! - `seed` loads a realistic dataset into a running `icosistem-server` through its public API
//!   only: the admin of `ICOSISTEM_ADMIN_EMAIL`/`ICOSISTEM_ADMIN_PASSWORD` creates organizations;
//!   a staff ally (coordinator of the first) creates and publishes the programs; a reviewer ally
//!   reviews some applications; N entrepreneurs register, log in, create their projects and
//!   submit an application to the main program; then the draft applications the submit
//!   benchmark consumes are created. It writes `targets.env` (paths, tokens and the login body
//!   for `oha`) and `drafts.txt` (`<application id> <owner's token>` per line) to `--out`.
//! - `submit` measures `POST /api/v2/applications/{id}/submit`, which `oha` cannot: a draft can
//!   be submitted once (a second submit is a 409), and oha picks URLs from a file at random,
//!   with repeats. Here C workers on keep-alive connections take the drafts in order, each once,
//!   until `--duration` has passed or the drafts run out. It prints the same JSON fields
//!   `run.sh` reads from oha's `--output-format json` (`metrics.requests_per_sec`,
//!   `metrics.latency_ms.p50/p99`, `statusCodeDistribution`).
//!
//! It uses hyper directly (already in the workspace) so the harness adds no dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
type Result<T> = std::result::Result<T, BoxError>;

/// The password of every account the loader registers (12+ characters, not common).
const PASSWORD: &str = "Load-Harness-Passphrase-2027";

#[derive(Debug, Parser)]
#[command(
    name = "http_loader",
    about = "Seeds and measures icosistem-server for benches/http/run.sh"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the dataset through the HTTP API and write targets.env and drafts.txt to --out.
    Seed {
        /// The server, e.g. http://127.0.0.1:18080.
        #[arg(long)]
        base: String,
        /// Where to write targets.env and drafts.txt.
        #[arg(long)]
        out: PathBuf,
        /// Entrepreneurs to register, each with five projects, each submitted to the main program.
        #[arg(long, default_value_t = 200)]
        entrepreneurs: usize,
        /// Organizations the admin creates (the first is the staff's).
        #[arg(long, default_value_t = 5)]
        organizations: usize,
        /// Draft applications to prepare for the submit benchmark.
        #[arg(long, default_value_t = 8000)]
        drafts: usize,
        /// Requests in flight while seeding.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// The admin's email.
        #[arg(long, env = "ICOSISTEM_ADMIN_EMAIL")]
        admin_email: String,
        /// The admin's password.
        #[arg(long, env = "ICOSISTEM_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
    },
    /// Submit each draft of --drafts once with --concurrency workers; print oha-shaped JSON.
    Submit {
        /// The server, e.g. http://127.0.0.1:18080.
        #[arg(long)]
        base: String,
        /// A file of `<application id> <token>` lines.
        #[arg(long)]
        drafts: PathBuf,
        /// Requests in flight.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Stop taking new drafts after this long (`10s`, `500ms`, `1m`).
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        duration: Duration,
    },
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{text:?}: the unit must be ms, s or m")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let outcome = match Cli::parse().command {
        Command::Seed {
            base,
            out,
            entrepreneurs,
            organizations,
            drafts,
            concurrency,
            admin_email,
            admin_password,
        } => {
            let plan = Plan {
                entrepreneurs: entrepreneurs.max(1),
                organizations: organizations.max(1),
                drafts,
                concurrency: concurrency.max(1),
            };
            seed(Api::new(base), out, plan, (admin_email, admin_password)).await
        }
        Command::Submit {
            base,
            drafts,
            concurrency,
            duration,
        } => submit(Api::new(base), drafts, concurrency.max(1), duration).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_loader: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A keep-alive HTTP/1 client of one server.
#[derive(Clone)]
struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    base: Arc<str>,
}

impl Api {
    fn new(base: String) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            base: base.trim_end_matches('/').into(),
        }
    }

    /// One request; the status and the JSON body (`Null` when empty or not JSON).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<(StatusCode, Value)> {
        let mut builder = Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body.to_string())))?,
            None => builder.body(Full::new(Bytes::new()))?,
        };
        let response = self.client.request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// A request that must answer `expected`; its body.
    async fn expect(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Result<Value> {
        let (status, reply) = self.call(method.clone(), path, body, token).await?;
        if status != expected {
            return Err(format!("{method} {path}: expected {expected}, got {status}: {reply}").into());
        }
        Ok(reply)
    }

    async fn post(&self, path: &str, body: &Value, token: &str) -> Result<Value> {
        self.expect(StatusCode::CREATED, Method::POST, path, Some(body), Some(token))
            .await
    }

    async fn command(&self, path: &str, token: &str) -> Result<Value> {
        self.expect(StatusCode::OK, Method::POST, path, None, Some(token)).await
    }

    /// Logs in; (access token, user id).
    async fn login(&self, email: &str, password: &str) -> Result<(String, String)> {
        let body = json!({ "email": email, "password": password });
        let reply = self
            .expect(StatusCode::OK, Method::POST, "/api/v2/auth/login", Some(&body), None)
            .await?;
        Ok((text(&reply["access_token"])?, text(&reply["user"]["id"])?))
    }

    /// Registers an account of `role` and logs it in (the server runs with
    /// `ICOSISTEM_REQUIRE_VERIFIED_EMAIL=false`); (access token, user id).
    async fn account(&self, email: &str, role: &str, first_name: &str) -> Result<(String, String)> {
        let body = json!({
            "email": email, "password": PASSWORD, "first_name": first_name,
            "last_name": "Loadtest", "role": role,
        });
        self.expect(
            StatusCode::CREATED,
            Method::POST,
            "/api/v2/auth/register",
            Some(&body),
            None,
        )
        .await?;
        self.login(email, PASSWORD).await
    }
}

fn text(value: &Value) -> Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a string, got {value}").into())
}

fn id(value: &Value) -> Result<String> {
    text(&value["id"])
}

/// Runs `job(0..count)` with at most `concurrency` in flight; the results in index order.
async fn parallel<T, F, Fut>(count: usize, concurrency: usize, job: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(count) {
        let (next, job) = (Arc::clone(&next), Arc::clone(&job));
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, BoxError>(done);
                }
                done.push((i, job(i).await?));
            }
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(worker) = workers.join_next().await {
        all.extend(worker??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

/// How much to load.
struct Plan {
    entrepreneurs: usize,
    organizations: usize,
    drafts: usize,
    concurrency: usize,
}

/// An entrepreneur: access token, and the ids of their projects (the first applies to the
/// main program).
struct Entrepreneur {
    token: String,
    projects: Vec<String>,
}

/// Projects per entrepreneur: the domain's `max_active_projects` (a new project counts).
const PROJECTS_EACH: usize = 5;

fn program_body(organization_id: &str, name: &str) -> Value {
    let now = Utc::now();
    json!({
        "organization_id": organization_id,
        "name": name,
        "program_type": "acceleration",
        "description": "A cohort created by the HTTP load harness.",
        "application_opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
        "application_deadline": (now + chrono::Duration::days(30)).to_rfc3339(),
        "start_date": (now + chrono::Duration::days(40)).date_naive().to_string(),
        "end_date": (now + chrono::Duration::days(130)).date_naive().to_string(),
        "max_participants": 1000,
    })
}

async fn seed(api: Api, out: PathBuf, plan: Plan, admin: (String, String)) -> Result<()> {
    let started = Instant::now();
    let stamp = Utc::now().timestamp_millis();
    let (admin_token, _) = api.login(&admin.0, &admin.1).await?;

    // Organizations (admin), the staff coordinator and the reviewer of the first.
    let organizations = {
        let (api, admin_token) = (api.clone(), admin_token.clone());
        parallel(plan.organizations, plan.concurrency, move |i| {
            let (api, token) = (api.clone(), admin_token.clone());
            async move {
                let body = json!({ "name": format!("Load Hub {stamp}-{i}"), "organization_type": "incubator" });
                id(&api.post("/api/v2/organizations", &body, &token).await?)
            }
        })
        .await?
    };
    let hub = &organizations[0];
    let (staff_token, staff_id) = api
        .account(&format!("staff-{stamp}@example.org"), "ally", "Staff")
        .await?;
    let (reviewer_token, reviewer_id) = api
        .account(&format!("reviewer-{stamp}@example.org"), "ally", "Reviewer")
        .await?;
    for (user, role) in [(&staff_id, "coordinator"), (&reviewer_id, "reviewer")] {
        let body = json!({ "user_id": user, "role": role });
        api.post(&format!("/api/v2/organizations/{hub}/members"), &body, &admin_token)
            .await?;
    }

    // Programs: the main one, one per other organization (by the admin), and enough in the hub
    // for every draft to be a distinct (program, project) pair.
    let projects_total = plan.entrepreneurs * PROJECTS_EACH;
    let draft_programs = plan.drafts.div_ceil(projects_total);
    let mut programs = Vec::new();
    for (n, (org, token)) in std::iter::once((hub, &staff_token))
        .chain(organizations[1..].iter().map(|o| (o, &admin_token)))
        .chain(std::iter::repeat_n((hub, &staff_token), draft_programs))
        .enumerate()
    {
        let program = id(&api
            .post(
                "/api/v2/programs",
                &program_body(org, &format!("Cohort {stamp}-{n}")),
                token,
            )
            .await?)?;
        api.command(&format!("/api/v2/programs/{program}/publish"), token)
            .await?;
        programs.push(program);
    }
    let main_program = programs[0].clone();
    let draft_programs: Vec<String> = programs[organizations.len()..].to_vec();
    eprintln!(
        "seed: {} organizations, {} programs ({:.1}s)",
        organizations.len(),
        programs.len(),
        started.elapsed().as_secs_f64()
    );

    // Entrepreneurs: register + login (argon2id twice: the slow part), five projects each, every
    // one submitted to the main program (the staff list pages through 5 × entrepreneurs).
    let entrepreneurs = {
        let (api, main_program) = (api.clone(), main_program.clone());
        parallel(plan.entrepreneurs, plan.concurrency, move |i| {
            let (api, program) = (api.clone(), main_program.clone());
            async move {
                let (token, _) = api
                    .account(&format!("founder-{stamp}-{i}@example.org"), "entrepreneur", "Founder")
                    .await?;
                let mut projects = Vec::with_capacity(PROJECTS_EACH);
                for p in 0..PROJECTS_EACH {
                    let body = json!({
                        "name": format!("Venture {i}-{p}"),
                        "description": "A venture seeded by the HTTP load harness to measure the API.",
                        "project_type": "startup",
                        "tagline": "Measured, not guessed",
                    });
                    projects.push(id(&api.post("/api/v2/projects", &body, &token).await?)?);
                }
                for project in &projects {
                    let body = json!({ "program_id": program, "project_id": project, "answers": { "why": "growth" } });
                    let application = id(&api.post("/api/v2/applications", &body, &token).await?)?;
                    api.command(&format!("/api/v2/applications/{application}/submit"), &token)
                        .await?;
                }
                Ok(Entrepreneur { token, projects })
            }
        })
        .await?
    };
    eprintln!(
        "seed: {} entrepreneurs with {} projects and submitted applications ({:.1}s)",
        entrepreneurs.len(),
        entrepreneurs.len() * PROJECTS_EACH,
        started.elapsed().as_secs_f64()
    );

    // The reviewer on the first 20 submitted applications of the main program, each scored.
    let listed = api
        .expect(
            StatusCode::OK,
            Method::GET,
            &format!("/api/v2/applications?program_id={main_program}&limit=20"),
            None,
            Some(&staff_token),
        )
        .await?;
    let reviewed = listed["items"].as_array().cloned().unwrap_or_default();
    for application in &reviewed {
        let application = id(application)?;
        let body = json!({ "reviewer_id": reviewer_id });
        api.post(
            &format!("/api/v2/applications/{application}/reviewers"),
            &body,
            &staff_token,
        )
        .await?;
        let body = json!({ "score": 70, "comment": "Solid team, early traction." });
        api.post(
            &format!("/api/v2/applications/{application}/reviews"),
            &body,
            &reviewer_token,
        )
        .await?;
    }

    // Drafts for the submit benchmark: (program, project) pairs, each unique.
    let pairs: Arc<Vec<(String, usize, usize)>> = Arc::new(
        draft_programs
            .iter()
            .flat_map(|program| {
                (0..entrepreneurs.len()).flat_map(move |e| (0..PROJECTS_EACH).map(move |p| (program.clone(), e, p)))
            })
            .take(plan.drafts)
            .collect(),
    );
    let entrepreneurs = Arc::new(entrepreneurs);
    let drafts = {
        let (api, pairs, entrepreneurs) = (api.clone(), Arc::clone(&pairs), Arc::clone(&entrepreneurs));
        parallel(pairs.len(), plan.concurrency, move |i| {
            let (api, pairs, entrepreneurs) = (api.clone(), Arc::clone(&pairs), Arc::clone(&entrepreneurs));
            async move {
                let (program, e, p) = &pairs[i];
                let owner = &entrepreneurs[*e];
                let body =
                    json!({ "program_id": program, "project_id": owner.projects[*p], "answers": { "why": "scale" } });
                let draft = id(&api.post("/api/v2/applications", &body, &owner.token).await?)?;
                Ok(format!("{draft} {}\n", owner.token))
            }
        })
        .await?
    };

    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("drafts.txt"), drafts.concat())?;
    let first = &entrepreneurs[0];
    let login = json!({ "email": format!("founder-{stamp}-0@example.org"), "password": PASSWORD });
    let mut env = String::new();
    writeln!(env, "PROJECT_PATH='/api/v2/projects/{}'", first.projects[0])?;
    writeln!(env, "PROJECT_TOKEN='{}'", first.token)?;
    writeln!(
        env,
        "LIST_PATH='/api/v2/applications?program_id={main_program}&limit=20'"
    )?;
    writeln!(env, "STAFF_TOKEN='{staff_token}'")?;
    writeln!(env, "LOGIN_BODY='{login}'")?;
    std::fs::write(out.join("targets.env"), env)?;
    eprintln!(
        "seed: {} reviews, {} drafts; done in {:.1}s",
        reviewed.len(),
        drafts.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What one submit worker saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, usize>,
    errors: BTreeMap<String, usize>,
}

async fn submit(api: Api, drafts: PathBuf, concurrency: usize, duration: Duration) -> Result<()> {
    let drafts: Arc<Vec<(String, String)>> = Arc::new(
        std::fs::read_to_string(&drafts)?
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(id, token)| (id.to_owned(), token.trim().to_owned()))
            .collect(),
    );
    if drafts.is_empty() {
        return Err("no drafts to submit".into());
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (api, drafts, next) = (api.clone(), Arc::clone(&drafts), Arc::clone(&next));
        workers.spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((draft, token)) = drafts.get(i) else { break };
                let sent = Instant::now();
                match api
                    .call(
                        Method::POST,
                        &format!("/api/v2/applications/{draft}/submit"),
                        None,
                        Some(token),
                    )
                    .await
                {
                    Ok((status, _)) => {
                        tally.latencies.push(sent.elapsed());
                        *tally.statuses.entry(status.as_u16().to_string()).or_default() += 1;
                    }
                    Err(e) => *tally.errors.entry(e.to_string()).or_default() += 1,
                }
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(worker) = workers.join_next().await {
        let tally = worker?;
        all.latencies.extend(tally.latencies);
        for (k, v) in tally.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
        for (k, v) in tally.errors {
            *all.errors.entry(k).or_default() += v;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let used = next.load(Ordering::Relaxed).min(drafts.len());
    if used == drafts.len() && elapsed < duration.as_secs_f64() {
        eprintln!(
            "submit: all {used} drafts used after {elapsed:.1}s (before the {}s asked): rates are over that time",
            duration.as_secs_f64()
        );
    }
    all.latencies.sort_unstable();
    let ms = |q: f64| -> f64 {
        if all.latencies.is_empty() {
            return 0.0;
        }
        let rank = ((q * all.latencies.len() as f64).ceil() as usize).clamp(1, all.latencies.len());
        all.latencies[rank - 1].as_secs_f64() * 1000.0
    };
    let report = json!({
        "summary": { "total": elapsed, "requests": all.latencies.len() },
        "metrics": {
            "requests_per_sec": all.latencies.len() as f64 / elapsed,
            "latency_ms": { "p50": ms(0.50), "p95": ms(0.95), "p99": ms(0.99), "max": ms(1.0) },
        },
        "statusCodeDistribution": all.statuses,
        "errorDistribution": all.errors,
    });
    println!("{report:#}");
    Ok(())
}
