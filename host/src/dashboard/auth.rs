//! Signing in and out, and the checks every page makes: a page without a live session
//! sends the browser to the sign-in page; a POST without a live session or without the
//! session's CSRF token is refused with 403 and changes nothing.

use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use minijinja::{Value, context};

use super::link::Refusal;
use super::session::{COOKIE, Session, csrf_ok, from_cookie};
use super::{Dashboard, redirect};
use crate::panel::{Surface, Who};
use crate::storage::NewLogEvent;

/// Form fields as sent.
pub(crate) type Fields = Vec<(String, String)>;

/// The first value of `name` in `fields`.
pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl Dashboard {
    /// The live session of this request, if any.
    pub(crate) fn current(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(from_cookie)?;
        self.sessions.touch(id, self.now_ms()).map(|s| (id.to_owned(), s))
    }

    /// The session, or a redirect to the sign-in page.
    pub(crate) fn require(&self, headers: &HeaderMap) -> Result<Session, Box<Response>> {
        self.current(headers).map(|(_, s)| s).ok_or_else(|| Box::new(redirect(&format!("{}/login", self.root))))
    }

    /// The session of a POST whose CSRF token is the session's; else 403.
    pub(crate) fn require_post(&self, headers: &HeaderMap, fields: &Fields) -> Result<Session, Box<Response>> {
        let Some((_, session)) = self.current(headers) else {
            return Err(Box::new(self.message(
                StatusCode::FORBIDDEN,
                "Signed out",
                "Your session ended; nothing was changed. Sign in again.",
                None,
            )));
        };
        if !csrf_ok(&session, field(fields, "csrf")) {
            tracing::warn!(target: "wharf.dashboard", by = %session.who.describe(), "a form without the session's CSRF token was refused");
            return Err(Box::new(self.message(
                StatusCode::FORBIDDEN,
                "Refused",
                "The form did not carry this session's security token; nothing was changed. Reload the page and try again.",
                Some(self.base(&session, "")),
            )));
        }
        Ok(session)
    }

    /// What every signed-in page shows: the menu, who, the CSRF token.
    pub(crate) fn base(&self, session: &Session, active: &str) -> Value {
        let plugins: Vec<String> = self.observer.console().plugins().into_iter().map(|p| p.plugin).collect();
        context! {
            root => self.root.clone(),
            csrf => session.csrf.clone(),
            who => session.who.describe(),
            active,
            nav_plugins => plugins,
        }
    }

    /// Record a `dashboard.*` event by `who`.
    pub(crate) async fn audit(&self, who: &Who, kind: &str, title: &str, fields: &[(&str, String)]) {
        let mut e = NewLogEvent::host(kind, title, "🖥").field("by", who.describe());
        for (k, v) in fields {
            e = e.field(k, v.clone());
        }
        if let Some(id) = who.user_id {
            e = e.user(id);
        }
        self.observer.record(e).await;
    }

    fn signed_in(&self, who: Who) -> Response {
        let id = self.sessions.start(who, self.now_ms());
        let mut r = redirect(&format!("{}/overview", self.root));
        let secure = if self.secure { "; Secure" } else { "" };
        let path = if self.root.is_empty() { "/" } else { &self.root };
        let cookie = format!("{COOKIE}={id}; Path={path}; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        r
    }

    fn login(&self, status: StatusCode, error: Option<&str>) -> Response {
        let ctx = context! { root => self.root.clone(), password => self.password.is_some(), error };
        self.page(status, "login.html", ctx)
    }

    fn link_refused(&self) -> Response {
        self.message(
            StatusCode::FORBIDDEN,
            "Link used or expired",
            "This sign-in link was used or expired: send /dashboard to the bot again.",
            None,
        )
    }
}

pub(crate) async fn login_page(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.current(&headers).is_some() {
        return redirect(&format!("{}/overview", d.root));
    }
    d.login(StatusCode::OK, None)
}

pub(crate) async fn password(State(d): State<Arc<Dashboard>>, Form(fields): Form<Fields>) -> Response {
    let Some(hash) = d.password.clone() else {
        return d.login(StatusCode::FORBIDDEN, Some("Password sign-in is off: send /dashboard to the bot."));
    };
    let who = Who { user_id: None, via: Surface::Web, label: "password".into() };
    if !d.sessions.may_try(d.now_ms()) {
        return d.login(StatusCode::TOO_MANY_REQUESTS, Some("Too many wrong passwords: wait a minute."));
    }
    let typed = field(&fields, "password").unwrap_or_default().to_owned();
    let ok = {
        let Ok(_one) = d.hashing.acquire().await else { return d.login(StatusCode::SERVICE_UNAVAILABLE, None) };
        tokio::task::spawn_blocking(move || {
            use argon2::password_hash::PasswordVerifier as _;
            argon2::PasswordHash::new(&hash)
                .is_ok_and(|h| argon2::Argon2::default().verify_password(typed.as_bytes(), &h).is_ok())
        })
        .await
        .unwrap_or(false)
    };
    if !ok {
        d.sessions.failed(d.now_ms());
        d.audit(&who, "dashboard.sign_in_failed", "Dashboard: wrong password", &[]).await;
        return d.login(StatusCode::FORBIDDEN, Some("Wrong password."));
    }
    d.audit(&who, "dashboard.sign_in", "Dashboard sign-in", &[("method", "password".into())]).await;
    d.signed_in(who)
}

pub(crate) async fn link_page(State(d): State<Arc<Dashboard>>, Path(token): Path<String>) -> Response {
    // Showing the page does not use the link (a link preview fetching it must not).
    match d.signer.check(&token, d.now_ms()) {
        Ok(user) if d.signer.used(d.observer.storage(), &token).await == Ok(false) => {
            d.page(StatusCode::OK, "link.html", context! { root => d.root.clone(), user })
        }
        _ => d.link_refused(),
    }
}

pub(crate) async fn link_use(State(d): State<Arc<Dashboard>>, Path(token): Path<String>) -> Response {
    let now = d.now_ms();
    match d.signer.redeem(d.observer.storage(), &token, now).await {
        Ok(user) if d.observer.is_admin(user) => {
            let who = Who::telegram(user, Surface::Web);
            d.audit(&who, "dashboard.sign_in", "Dashboard sign-in", &[("method", "link".into())]).await;
            d.signed_in(who)
        }
        Ok(user) => {
            let who = Who::telegram(user, Surface::Web);
            d.audit(&who, "dashboard.sign_in_refused", "Dashboard: link refused", &[("why", "not an admin".into())])
                .await;
            d.link_refused()
        }
        Err(why) => {
            if why != Refusal::Unknown {
                let who = Who { user_id: d.signer.check(&token, 0).ok(), via: Surface::Web, label: "link".into() };
                d.audit(&who, "dashboard.sign_in_refused", "Dashboard: link refused", &[("why", why.as_str().into())])
                    .await;
            }
            d.link_refused()
        }
    }
}

pub(crate) async fn logout(
    State(d): State<Arc<Dashboard>>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let session = match d.require_post(&headers, &fields) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Some((id, _)) = d.current(&headers) {
        d.sessions.end(&id);
    }
    d.audit(&session.who, "dashboard.sign_out", "Dashboard sign-out", &[]).await;
    let mut r = redirect(&format!("{}/login", d.root));
    let path = if d.root.is_empty() { "/" } else { &d.root };
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
