//! The web dashboard over real HTTP: a sign-in link from `/dashboard` works once and
//! for 10 minutes (manual clock), admins only; forms without the session's CSRF token
//! change nothing; sessions end when idle; password sign-in with argon2 and a lock after
//! repeated failures; dead letters of both queues retried and discarded; every page
//! renders, escapes what plugins and users wrote, and sends the signed-out to sign in.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use wharf::admin::{AdminServer, router};
use wharf::config::AdminConfig;
use wharf::storage::{EventPage, NewInbox, NewLogEvent};

use crate::common::*;

/// A browser-less client: no redirects followed, the session cookie kept by hand.
pub struct Web {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

impl Web {
    pub fn new(addr: SocketAddr) -> Self {
        let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        Self { base: format!("http://{addr}"), http, cookie: None }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String, Option<String>) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            r = r.header("cookie", c);
        }
        let resp = r.send().await.unwrap();
        let loc = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (resp.status(), resp.text().await.unwrap(), loc)
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let mut r = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(c) = &self.cookie {
            r = r.header("cookie", c);
        }
        let resp = r.send().await.unwrap();
        if let Some(set) = resp.headers().get("set-cookie") {
            let set = set.to_str().unwrap();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        let loc = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (resp.status(), resp.text().await.unwrap(), loc)
    }

    /// The CSRF token on a signed-in page.
    pub async fn csrf(&self) -> String {
        let (status, body, _) = self.get("/overview").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        body[at..at + 64].to_owned()
    }
}

/// The link in the last message the bot queued for `user` (after `/dashboard`).
pub async fn link_for(h: &Harness, user: i64) -> String {
    h.say(user, "/dashboard").await;
    h.idle().await;
    let sent = h.sent(user).await;
    let last = sent.last().expect("an answer to /dashboard");
    let at = last.find("http://").unwrap_or_else(|| panic!("no link in {last:?}"));
    last[at..].trim().to_owned()
}

pub async fn serve(h: &Harness, config: AdminConfig) -> AdminServer {
    AdminServer::start(&config, router(h.rt.observer())).await.unwrap()
}

async fn events(h: &Harness, kind: &str) -> Vec<wharf::storage::EventLogRow> {
    let page = EventPage { kind: Some(kind.to_owned().try_into().unwrap()), ..EventPage::default() };
    h.rt.storage().event_page(&page, 100).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_works_once_for_ten_minutes_and_only_for_admins() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    let mut web = Web::new(server.local_addr());

    let (status, _, loc) = web.get("/overview").await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));

    let link = link_for(&h, 1000).await;
    assert!(link.starts_with(&format!("{}/login/", web.base)), "{link}");
    let path = link.strip_prefix(&web.base).unwrap().to_owned();
    // Looking at the link (a preview) does not use it.
    let (status, body, _) = web.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("admin <strong>1000</strong>"), "{body}");
    let (status, _, loc) = web.post(&path, &[]).await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/overview")));
    let (status, body, _) = web.get("/overview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("1000 via web"), "{body}");

    // Used: refused, also in a fresh browser.
    let mut other = Web::new(server.local_addr());
    assert_eq!(other.get(&path).await.0, StatusCode::FORBIDDEN);
    let (status, body, _) = other.post(&path, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("used or expired") && body.contains("dashboard to the bot again"), "{body}");
    assert!(other.cookie.is_none());

    // Expired: the manual clock passes 10 minutes.
    let link = link_for(&h, 1000).await;
    let path = link.strip_prefix(&web.base).unwrap().to_owned();
    h.rt.clock().advance(Duration::from_secs(10 * 60));
    let (status, body, _) = other.get(&path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = other.post(&path, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(other.cookie.is_none());

    // A forged or unknown token.
    let (status, _, _) = other.post("/login/AAAA", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Not an admin, or not a private chat: no link.
    h.say(5, "/dashboard").await;
    h.idle().await;
    let sent = h.sent(5).await;
    assert_eq!(sent.last().map(String::as_str), Some("This command is for admins."));
    let mut group = wharf::event::text(1000, "/dashboard");
    if let wharf::event::Event::Message(m) = &mut group {
        m.chat = wharf::event::Chat { id: -100_123, kind: wharf::event::ChatKind::Group, title: None };
    }
    h.rt.enqueue(-100_123, &group).await.unwrap();
    h.idle().await;
    assert!(h.sent(-100_123).await.iter().all(|t| !t.contains("/login/")));

    let ins = events(&h, "dashboard.sign_in").await;
    assert_eq!(ins.len(), 1);
    assert_eq!(ins[0].user_id, Some(1000));
    assert_eq!(ins[0].fields.get("method").map(String::as_str), Some("link"));
    let refused = events(&h, "dashboard.sign_in_refused").await;
    let why: Vec<&str> = refused.iter().filter_map(|e| e.fields.get("why").map(String::as_str)).collect();
    assert!(why.contains(&"used") && why.contains(&"expired"), "{why:?}");
    // The token is never written to the event log.
    let token = path.rsplit('/').next().unwrap();
    let all = h.rt.storage().event_page(&EventPage::default(), 1000).await.unwrap();
    assert!(all.iter().all(|e| e.fields.values().all(|v| !v.contains(token))));
    server.stop().await;
}

pub async fn signed_in(h: &Harness, server: &AdminServer) -> Web {
    let mut web = Web::new(server.local_addr());
    let link = link_for(h, 1000).await;
    let path = link.strip_prefix(&web.base).unwrap().to_owned();
    let (status, _, _) = web.post(&path, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    web
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    let mut web = signed_in(&h, &server).await;
    let disabled = |h: &Harness| h.rt.observer().plugins().iter().any(|p| p.name == "probe" && p.disabled);

    for form in [vec![], vec![("csrf", "0".repeat(64))], vec![("csrf", String::new())]] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body, _) = web.post("/plugins/probe/disable", &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("nothing was changed"), "{body}");
        assert!(!disabled(&h));
    }
    // Another session's token is not this session's.
    let other = signed_in(&h, &server).await;
    let theirs = other.csrf().await;
    let (status, _, _) = web.post("/plugins/probe/disable", &[("csrf", &theirs)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!disabled(&h));
    // Sign-out without the token does not sign out.
    let (status, _, _) = web.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(web.get("/plugins").await.0, StatusCode::OK);

    let csrf = web.csrf().await;
    let (status, _, loc) = web.post("/plugins/probe/disable", &[("csrf", &csrf)]).await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/plugins")));
    assert!(disabled(&h));
    let (_, page, _) = web.get("/plugins").await;
    assert!(page.contains("/plugins/probe/enable"), "{page}");
    let (status, _, _) = web.post("/plugins/probe/enable", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!disabled(&h));
    assert_eq!(h.rt.storage().disabled_plugins().await.unwrap().len(), 0);

    let audit = events(&h, "dashboard.plugin_*").await;
    let kinds: Vec<&str> = audit.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["dashboard.plugin_enabled", "dashboard.plugin_disabled"]);
    assert!(audit.iter().all(|e| e.user_id == Some(1000) && e.fields["plugin"] == "probe"));

    let (status, _, loc) = web.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert_eq!(web.get("/overview").await.0, StatusCode::SEE_OTHER);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_after_its_idle_minutes() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let mut config = AdminConfig::loopback(0);
    config.session_minutes = 5;
    let server = serve(&h, config).await;
    let web = signed_in(&h, &server).await;
    h.rt.clock().advance(Duration::from_secs(4 * 60));
    assert_eq!(web.get("/overview").await.0, StatusCode::OK, "4 minutes idle");
    h.rt.clock().advance(Duration::from_secs(4 * 60));
    assert_eq!(web.get("/overview").await.0, StatusCode::OK, "4 more after a request");
    h.rt.clock().advance(Duration::from_secs(5 * 60));
    let (status, _, loc) = web.get("/overview").await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sign_in_checks_the_argon2_hash_and_locks_after_failures() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let hash = AdminConfig::hash_password("correct horse").unwrap();
    let server = serve(&h, AdminConfig::loopback(0).with_password_hash(&hash)).await;
    let mut web = Web::new(server.local_addr());
    let (_, page, _) = web.get("/login").await;
    assert!(page.contains("type=\"password\""), "{page}");
    let (status, body, _) = web.post("/login", &[("password", "wrong")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Wrong password") && web.cookie.is_none());
    let (status, _, loc) = web.post("/login", &[("password", "correct horse")]).await;
    assert_eq!((status, loc.as_deref()), (StatusCode::SEE_OTHER, Some("/overview")));
    let (_, body, _) = web.get("/overview").await;
    assert!(body.contains("password via web"), "{body}");

    let mut other = Web::new(server.local_addr());
    for _ in 1..wharf::dashboard::MAX_FAILURES {
        assert_eq!(other.post("/login", &[("password", "guess")]).await.0, StatusCode::FORBIDDEN);
    }
    // Locked: even the right password waits for the window to move on.
    let (status, _, _) = other.post("/login", &[("password", "correct horse")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(other.cookie.is_none());
    h.rt.clock().advance(Duration::from_millis(wharf::dashboard::FAILURE_WINDOW_MS as u64));
    assert_eq!(other.post("/login", &[("password", "correct horse")]).await.0, StatusCode::SEE_OTHER);
    assert_eq!(events(&h, "dashboard.sign_in_failed").await.len(), wharf::dashboard::MAX_FAILURES);

    // Without a hash, the form is not offered and a password is refused.
    let plain = serve(&h, AdminConfig::loopback(0)).await;
    let mut web = Web::new(plain.local_addr());
    assert!(!web.get("/login").await.1.contains("type=\"password\""));
    assert_eq!(web.post("/login", &[("password", "correct horse")]).await.0, StatusCode::FORBIDDEN);
    plain.stop().await;
    server.stop().await;
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_of_both_queues_are_retried_and_discarded() {
    for db in databases() {
        let h = start_on(&db, &plugin("probe", "probe", ALL), "").await;
        let server = serve(&h, AdminConfig::loopback(0)).await;
        let mut web = signed_in(&h, &server).await;
        let csrf = web.csrf().await;
        let storage = h.rt.storage().clone();

        // An inbox entry this version cannot read dies; retried, it goes through the inbox again.
        let bad = NewInbox { lane: 77, target: None, payload: "{\"v\":99}".into(), dedupe: None };
        storage.push_inbox(&[bad], T0).await.unwrap();
        h.rt.observer().wake_inbox();
        until("the entry is dead", || async { storage.inbox_dead().await.unwrap().len() == 1 }).await;
        let first = storage.dead_list(wharf::storage::DeadQueue::Inbox, 10).await.unwrap()[0].id;
        let (_, page, _) = web.get("/dead").await;
        assert!(page.contains(&format!("name=\"id\" value=\"{first}\"")), "{page}");
        let id = first.to_string();
        assert_eq!(web.post("/dead/inbox", &[("id", &id), ("op", "retry")]).await.0, StatusCode::FORBIDDEN);
        let (status, _, _) = web.post("/dead/inbox", &[("csrf", &csrf), ("id", &id), ("op", "retry")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        until("it died again under a new id", || async {
            storage.dead_list(wharf::storage::DeadQueue::Inbox, 10).await.unwrap().iter().any(|d| d.id > first)
        })
        .await;
        let again = storage.dead_list(wharf::storage::DeadQueue::Inbox, 10).await.unwrap();
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(again[0].chat, 77);
        let id = again[0].id.to_string();
        let (status, _, _) = web.post("/dead/inbox", &[("csrf", &csrf), ("id", &id), ("op", "discard")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(storage.inbox_dead().await.unwrap().is_empty());

        // Outbox: two messages refused for good; one retried (queued again), one discarded.
        h.say(42, "/whoami").await;
        h.say(43, "/whoami").await;
        h.idle().await;
        let rows = storage.outbox(None).await.unwrap();
        let mine: Vec<_> = rows.iter().filter(|r| r.chat_id == 42 || r.chat_id == 43).cloned().collect();
        assert_eq!(mine.len(), 2, "{rows:?}");
        for r in &mine {
            storage.outbox_dead(r, "Forbidden: bot was blocked", None, T0).await.unwrap();
        }
        assert!(h.sent(42).await.is_empty());
        let (_, page, _) = web.get("/dead").await;
        assert!(page.contains("Forbidden: bot was blocked"), "{page}");
        let (a, b) = (mine[0].id.to_string(), mine[1].id.to_string());
        web.post("/dead/outbox", &[("csrf", &csrf), ("id", &a), ("op", "retry")]).await;
        web.post("/dead/outbox", &[("csrf", &csrf), ("id", &b), ("op", "discard")]).await;
        // Twice is once: the letter is gone after the first retry.
        web.post("/dead/outbox", &[("csrf", &csrf), ("id", &a), ("op", "retry")]).await;
        assert_eq!(h.sent(mine[0].chat_id).await.len(), 1);
        assert!(h.sent(mine[1].chat_id).await.is_empty());
        assert!(storage.dead_list(wharf::storage::DeadQueue::Outbox, 10).await.unwrap().is_empty());

        let kinds: Vec<String> = events(&h, "dashboard.dead_*").await.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "dashboard.dead_retry").count(), 3, "{kinds:?}");
        assert_eq!(kinds.iter().filter(|k| *k == "dashboard.dead_discard").count(), 2, "{kinds:?}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_and_escapes_what_it_shows() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    let web = signed_in(&h, &server).await;
    h.rt.observer()
        .record(
            NewLogEvent::host("test.xss", "<script>alert(1)</script>", "x")
                .field("note", "<img src=x onerror=alert(1)>"),
        )
        .await;
    h.rt.observer().record(NewLogEvent::host("test.host", "host only", "x")).await;
    let (_, overview, _) = web.get("/overview").await;
    assert!(!overview.contains("test.host"), "the host's events are not business events: {overview}");
    for (path, want) in [
        ("/overview", "turns/s"),
        ("/overview", "<svg"),
        ("/plugins", "probe"),
        ("/events", "dashboard.sign_in"),
        ("/events?kind=test.*", "&lt;script&gt;alert(1)"),
        ("/events?level=warn", "No events match"),
        ("/dead", "Dead letters"),
    ] {
        let (status, body, _) = web.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains(want), "{path} lacks {want}: {body}");
        assert!(!body.contains("<script>alert") && !body.contains("<img src=x"), "{path} did not escape: {body}");
    }
    let (_, body, _) = web.get("/events?kind=test.*").await;
    assert!(!body.contains("dashboard.sign_in"), "{body}");
    let (_, body, _) = web.get("/events?kind=%5B").await;
    assert!(body.contains("kind:"), "a bad glob is reported: {body}");
    // Paging: 60 events, a page of 50 and a link to the older ten.
    for i in 0..60 {
        h.rt.observer().record(NewLogEvent::host("test.page", "page", "x").field("i", i.to_string())).await;
    }
    let (_, body, _) = web.get("/events?kind=test.page").await;
    assert_eq!(body.matches("<td>test.page</td>").count(), 50);
    let at = body.find("id=\"older\" href=\"").unwrap() + 17;
    let href = body[at..].split('"').next().unwrap().replace("&amp;", "&");
    let (_, older, _) = web.get(&format!("/events{href}")).await;
    assert_eq!(older.matches("<td>test.page</td>").count(), 10, "{href}");
    assert!(older.contains("i=0") && !older.contains("i=59"));
    // A plugin without admin views is not a page.
    assert_eq!(web.get("/plugin/probe").await.0, StatusCode::NOT_FOUND);
    server.stop().await;
}

/// The value of the hidden field `name` on a page.
fn hidden(page: &str, name: &str) -> String {
    let at = page.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {page}"));
    page[at + name.len() + 15..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_plugins_view_and_action_are_pages_and_forms() {
    let plugins = plugin("console", "console", r#"grants = ["kv"]"#) + &crate::market::plugins(&wasm("shop"), "");
    let h = start(&plugins).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    let mut web = signed_in(&h, &server).await;
    let csrf = web.csrf().await;

    let (status, page, _) = web.get("/plugin/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/plugin/console/view/notes") && page.contains("/plugin/console/action/add_note"), "{page}");

    // The action: its form carries a request id; a double submit runs once.
    let (_, form, _) = web.get("/plugin/console/action/add_note").await;
    let request = hidden(&form, "_request");
    let post = [("csrf", csrf.as_str()), ("_request", request.as_str()), ("text", "buy <milk>")];
    let (status, done, _) = web.post("/plugin/console/action/add_note", &post).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("id=\"done\"") && done.contains("Note 1 added"), "{done}");
    let (_, again, _) = web.post("/plugin/console/action/add_note", &post).await;
    assert!(again.contains("Note 1 added"), "{again}");
    assert_eq!(h.kv::<i64>("console", "count").await, Some(1));
    // Without the token: refused before the plugin runs.
    let (status, _, _) = web.post("/plugin/console/action/add_note", &[("_request", "r-x"), ("text", "sneaky")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(h.kv::<i64>("console", "count").await, Some(1));
    // A missing parameter is shown next to its field.
    let (status, bad, _) =
        web.post("/plugin/console/action/add_note", &[("csrf", &csrf), ("_request", "r-empty")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("data-param=\"text\""), "{bad}");
    // The plugin's own failure is shown, and nothing is kept.
    let (status, failed, _) =
        web.post("/plugin/console/action/add_note", &[("csrf", &csrf), ("_request", "r-fail"), ("text", "fail")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{failed}");
    assert!(failed.contains("asked to fail"), "{failed}");
    assert_eq!(h.kv::<i64>("console", "count").await, Some(1));
    let acts = events(&h, "admin.action").await;
    assert!(acts.iter().all(|e| e.user_id == Some(1000) && e.fields["by"] == "1000 via web"), "{acts:?}");

    // The view, paged by the plugin's cursor.
    let console = h.rt.console();
    let cli = wharf::panel::Who { user_id: None, via: wharf::panel::Surface::Cli, label: "t".into() };
    for i in 2..=25 {
        let raw = vec![("text".to_owned(), format!("note {i}"))];
        console.act("console", "add_note", &raw, &cli, &format!("fill-{i}")).await.unwrap();
    }
    let (status, view, _) = web.get("/plugin/console/view/notes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(view.contains("buy &lt;milk&gt;") && view.contains("<dd>yes</dd>"), "{view}");
    assert_eq!(view.matches("<tr><td>").count(), 20, "{view}");
    let marker = "id=\"next-page\" href=\"";
    let at = view.find(marker).expect("a next page") + marker.len();
    let next = view[at..].split('"').next().unwrap().replace("&amp;", "&");
    let (_, second, _) = web.get(&format!("/plugin/console/view/notes{next}")).await;
    assert_eq!(second.matches("<tr><td>").count(), 5, "{second}");
    assert!(second.contains("note 25") && !second.contains("buy &lt;milk&gt;"));

    // A bad parameter of a view is shown next to its field.
    let (status, sales, _) = web.get("/plugin/shop/view/sales?from=yesterday&run=1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(sales.contains("data-param=\"from\""), "{sales}");
    // Unknown views and actions, and plugins without admin views, are not found.
    assert_eq!(web.get("/plugin/console/view/nope").await.0, StatusCode::NOT_FOUND);
    assert_eq!(web.get("/plugin/nope").await.0, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_used_by_two_requests_at_once_signs_in_one() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    for _ in 0..5 {
        let link = link_for(&h, 1000).await;
        let path = link.strip_prefix(&format!("http://{}", server.local_addr())).unwrap().to_owned();
        let tries = (0..4).map(|_| {
            let path = path.clone();
            let addr = server.local_addr();
            tokio::spawn(async move { Web::new(addr).post(&path, &[]).await.0 })
        });
        let mut codes = Vec::new();
        for t in tries {
            codes.push(t.await.unwrap());
        }
        assert_eq!(codes.iter().filter(|c| **c == StatusCode::SEE_OTHER).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == StatusCode::FORBIDDEN).count(), 3, "{codes:?}");
    }
    server.stop().await;
}
