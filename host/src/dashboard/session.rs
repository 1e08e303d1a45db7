//! Dashboard sessions, kept in this process's memory: a random id in an HttpOnly,
//! SameSite=Strict cookie (Secure behind an `https://` public URL) maps to the admin
//! who signed in and a CSRF token of the session. A session ends after
//! `session_minutes` without a request, eight times that after sign-in at the latest,
//! at sign-out, and when the process stops (signing in again is one `/dashboard`).
//! Failed password sign-ins are counted: after [`MAX_FAILURES`] within
//! [`FAILURE_WINDOW_MS`] every attempt is refused until the window moves on.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use subtle::ConstantTimeEq as _;

use crate::panel::Who;

/// The cookie's name.
pub const COOKIE: &str = "wharf_session";
/// Failed password sign-ins allowed within [`FAILURE_WINDOW_MS`].
pub const MAX_FAILURES: usize = 5;
/// The window failures are counted in.
pub const FAILURE_WINDOW_MS: i64 = 60_000;
/// At most this many sessions at once (the oldest idle ones go first).
const MAX_SESSIONS: usize = 1000;

/// A signed-in admin.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// Who (recorded with every action).
    pub who: Who,
    /// The session's CSRF token, in every form.
    pub csrf: String,
    started_ms: i64,
    last_ms: i64,
}

/// The sessions and the failed sign-ins.
pub(crate) struct Sessions {
    idle_ms: i64,
    max_ms: i64,
    map: Mutex<HashMap<String, Session>>,
    failures: Mutex<VecDeque<i64>>,
}

fn random_hex() -> String {
    super::link::hex(&rand::random::<[u8; 32]>())
}

impl Sessions {
    pub(crate) fn new(session_minutes: u32) -> Self {
        let idle_ms = i64::from(session_minutes) * 60_000;
        Self { idle_ms, max_ms: idle_ms * 8, map: Mutex::default(), failures: Mutex::default() }
    }

    /// Start a session for `who`: its id (for the cookie).
    pub(crate) fn start(&self, who: Who, now_ms: i64) -> String {
        let id = random_hex();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, s| self.alive(s, now_ms));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.last_ms).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), Session { who, csrf: random_hex(), started_ms: now_ms, last_ms: now_ms });
        id
    }

    fn alive(&self, s: &Session, now_ms: i64) -> bool {
        now_ms - s.last_ms < self.idle_ms && now_ms - s.started_ms < self.max_ms
    }

    /// The live session `id` (its idle time starts again), if any.
    pub(crate) fn touch(&self, id: &str, now_ms: i64) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.get_mut(id)?;
        if !(now_ms - s.last_ms < self.idle_ms && now_ms - s.started_ms < self.max_ms) {
            map.remove(id);
            return None;
        }
        s.last_ms = now_ms;
        Some(s.clone())
    }

    /// End session `id`.
    pub(crate) fn end(&self, id: &str) {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Whether a password attempt may be checked now.
    pub(crate) fn may_try(&self, now_ms: i64) -> bool {
        let mut f = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        while f.front().is_some_and(|t| now_ms - t >= FAILURE_WINDOW_MS) {
            f.pop_front();
        }
        f.len() < MAX_FAILURES
    }

    /// A password attempt failed.
    pub(crate) fn failed(&self, now_ms: i64) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).push_back(now_ms);
    }
}

/// Whether a submitted CSRF token is the session's (constant time).
pub(crate) fn csrf_ok(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|t| bool::from(t.as_bytes().ct_eq(session.csrf.as_bytes())))
}

/// The session id in a `Cookie` header.
pub(crate) fn from_cookie(header: &str) -> Option<&str> {
    header.split(';').filter_map(|c| c.trim().split_once('=')).find(|(k, _)| *k == COOKIE).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::Surface;

    #[test]
    fn sessions_end_when_idle_or_old_and_csrf_must_match() {
        let s = Sessions::new(1);
        let id = s.start(Who::telegram(7, Surface::Web), 0);
        let live = s.touch(&id, 59_000).unwrap();
        assert!(csrf_ok(&live, Some(&live.csrf.clone())));
        assert!(!csrf_ok(&live, Some("x")));
        assert!(!csrf_ok(&live, None));
        // Kept alive by requests, it still ends eight minutes after sign-in.
        for m in 1..8 {
            assert!(s.touch(&id, m * 59_000).is_some());
        }
        assert!(s.touch(&id, 8 * 60_000).is_none());
        let id = s.start(Who::telegram(7, Surface::Web), 0);
        assert!(s.touch(&id, 60_000).is_none(), "idle a minute");
    }

    #[test]
    fn failures_lock_password_attempts_for_the_window() {
        let s = Sessions::new(60);
        for _ in 0..MAX_FAILURES {
            assert!(s.may_try(0));
            s.failed(0);
        }
        assert!(!s.may_try(1));
        assert!(s.may_try(FAILURE_WINDOW_MS));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(from_cookie("a=1; wharf_session=abc; b=2"), Some("abc"));
        assert_eq!(from_cookie("a=1"), None);
    }
}
