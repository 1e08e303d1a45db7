//! The web dashboard on the admin listener: server-rendered pages (minijinja templates
//! embedded in the binary, HTML autoescaped), a small CSS file and a few lines of
//! JavaScript (select all, confirmations); no build step.
//!
//! | module | what |
//! |---|---|
//! | `link` | one-time sign-in links (`/dashboard` in Telegram) |
//! | `session` | sessions, CSRF tokens, failed password sign-ins |
//! | `auth` | sign-in and sign-out pages, the session and CSRF checks every page makes |
//! | `pages` | overview, plugins, event log, dead letters |
//! | `panel` | plugins' admin views and actions as pages and forms |
//! | `svg` | charts as inline SVG |
//!
//! Every state-changing request is a POST carrying the session's CSRF token; without
//! it (or with another) the answer is 403 and nothing happens. Every change is recorded
//! in the event log with the admin's id: `dashboard.*` host events, and plugins'
//! actions as `admin.action` (through [`crate::runtime::Console::act`]).

mod auth;
mod link;
mod pages;
mod panel;
mod session;
mod svg;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};

pub use link::{LINK_TTL_MS, NS};
pub use session::{COOKIE, FAILURE_WINDOW_MS, MAX_FAILURES};

use crate::config::AdminConfig;
use crate::metrics::TurnOutcome;
use crate::runtime::Observer;

/// How many turn samples the overview's chart keeps (one per page view or
/// [`SAMPLE_EVERY`], whichever is rarer).
const SAMPLES: usize = 60;
/// The shortest time between two samples of the turn counters.
const SAMPLE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// One sample of the turn counters.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: Instant,
    turns: u64,
    failed: u64,
}

/// What the dashboard's handlers share.
pub(crate) struct Dashboard {
    observer: Observer,
    signer: Arc<link::Signer>,
    sessions: session::Sessions,
    password: Option<String>,
    secure: bool,
    /// The path part of the public URL (`/admin` behind a proxy, else empty): every
    /// link and redirect starts with it.
    root: String,
    env: Environment<'static>,
    samples: Mutex<VecDeque<Sample>>,
    /// One password check at a time (argon2 is meant to be slow).
    hashing: tokio::sync::Semaphore,
}

/// The dashboard's routes for `observer`, reached by browsers at `bound` (or
/// `config.public_url`); sign-in links from `/dashboard` work while the router lives.
pub fn router(config: &AdminConfig, observer: Observer, bound: SocketAddr) -> Router {
    let base = config.base_url(bound);
    let signer = Arc::new(link::Signer::new(base.clone()));
    link::register(observer.key(), &signer);
    let dash = Arc::new(Dashboard {
        observer,
        signer,
        sessions: session::Sessions::new(config.session_minutes),
        password: config.password().map(str::to_owned),
        secure: base.starts_with("https://"),
        root: root_of(&base),
        env: templates(),
        samples: Mutex::new(VecDeque::new()),
        hashing: tokio::sync::Semaphore::new(1),
    });
    Router::new()
        .route("/", get(|| async { redirect("/overview") }))
        .route("/login", get(auth::login_page).post(auth::password))
        .route("/login/{token}", get(auth::link_page).post(auth::link_use))
        .route("/logout", post(auth::logout))
        .route("/overview", get(pages::overview))
        .route("/plugins", get(pages::plugins))
        .route("/plugins/reload", post(pages::reload))
        .route("/plugins/{name}/{op}", post(pages::plugin_op))
        .route("/events", get(pages::events))
        .route("/dead", get(pages::dead))
        .route("/dead/{queue}", post(pages::dead_op))
        .route("/plugin/{plugin}", get(panel::index))
        .route("/plugin/{plugin}/view/{view}", get(panel::view))
        .route("/plugin/{plugin}/action/{action}", get(panel::action_form).post(panel::act))
        .route("/plugin/{plugin}/selection", post(panel::selection))
        .route(
            "/static/style.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("static/style.css")) }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("static/app.js")) }),
        )
        .with_state(dash)
}

/// The embedded templates, by name.
const TEMPLATES: [(&str, &str); 12] = [
    ("base.html", include_str!("templates/base.html")),
    ("blocks.html", include_str!("templates/blocks.html")),
    ("message.html", include_str!("templates/message.html")),
    ("login.html", include_str!("templates/login.html")),
    ("link.html", include_str!("templates/link.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("plugins.html", include_str!("templates/plugins.html")),
    ("events.html", include_str!("templates/events.html")),
    ("dead.html", include_str!("templates/dead.html")),
    ("plugin.html", include_str!("templates/plugin.html")),
    ("view.html", include_str!("templates/view.html")),
    ("action.html", include_str!("templates/action.html")),
];

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, text) in TEMPLATES {
        if let Err(e) = env.add_template(name, text) {
            tracing::error!(target: "wharf.dashboard", template = name, error = %e, "a dashboard template does not parse");
        }
    }
    env
}

/// The reply to `/dashboard` from admin `user` on the runtime `key`.
pub(crate) fn link_reply(key: usize, user: i64, now_ms: i64) -> String {
    link::reply(key, user, now_ms)
}

impl Dashboard {
    fn now_ms(&self) -> i64 {
        self.observer.clock().now_ms()
    }

    /// Render `template` with `ctx` as an HTML page with `status`.
    fn page(&self, status: StatusCode, template: &str, ctx: Value) -> Response {
        match self.env.get_template(template).and_then(|t| t.render(ctx)) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(target: "wharf.dashboard", template, error = %e, "cannot render a dashboard page");
                html_response(StatusCode::INTERNAL_SERVER_ERROR, "<!doctype html><p>The page cannot be shown.".into())
            }
        }
    }

    /// A page with a title and a message (errors, refusals).
    fn message(&self, status: StatusCode, title: &str, text: &str, base: Option<Value>) -> Response {
        let ctx = context! { title, text, status => status.as_u16(), ..base.unwrap_or_default() };
        self.page(status, "message.html", ctx)
    }

    /// Record a turn sample (at most one per [`SAMPLE_EVERY`]) and return the samples.
    fn samples(&self) -> Vec<Sample> {
        let m = self.observer.metrics();
        let now = Sample {
            at: Instant::now(),
            turns: m.turns(TurnOutcome::Committed),
            failed: m.turns(TurnOutcome::Failed) + m.turns(TurnOutcome::HostFault),
        };
        let mut s = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        if s.back().is_none_or(|last| now.at.duration_since(last.at) >= SAMPLE_EVERY) {
            s.push_back(now);
            while s.len() > SAMPLES {
                s.pop_front();
            }
        }
        let mut out: Vec<Sample> = s.iter().copied().collect();
        if out.last().is_some_and(|l| l.at != now.at) {
            out.push(now);
        }
        out
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "max-age=300")], body).into_response()
}

/// A 303 to `to` (after a POST, or to the sign-in page).
fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The path of a base URL (`https://host/admin` → `/admin`).
fn root_of(base: &str) -> String {
    let rest = base.split_once("://").map_or(base, |(_, r)| r);
    rest.find('/').map(|i| rest[i..].trim_end_matches('/').to_owned()).unwrap_or_default()
}

/// A time (Unix ms) as `YYYY-MM-DD HH:MM:SS` UTC.
fn show_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_renders_with_little_context() {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        let base = context! { root => "", csrf => "c", who => "1 via web", active => "", nav_plugins => vec!["shop"] };
        for name in
            ["message.html", "login.html", "link.html", "overview.html", "plugins.html", "events.html", "dead.html"]
        {
            let ctx = context! { title => "t", text => "a\nb", status => 403, ..base.clone() };
            let t = env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e:#}"));
            t.render(ctx).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    #[test]
    fn the_root_is_the_path_of_the_public_url() {
        assert_eq!(root_of("https://bot.example.com/admin/"), "/admin");
        assert_eq!(root_of("http://127.0.0.1:9090"), "");
    }
}
