//! Checking a user against the channels: each channel resolved once (`getChat`: its id,
//! title and link, kept a day), each answer cached per user and channel with the two
//! TTLs, lookups only where the cache does not answer. A failed lookup is reported
//! (`gate.lookup_failed`) apart from "not subscribed"; a refused one (the bot cannot see
//! the members) also alerts the admins (see [`crate::health`]).
//!
//! KV keys: `chan:SPEC` ([`Resolved`]), `m:USER:CHAT` ([`Cached`]), `alert:SPEC`.

use serde::{Deserialize, Serialize};
use wharf_sdk::log::{Event as BusinessEvent, Level};
use wharf_sdk::telegram::{self, ChatInfo};
use wharf_sdk::{Error, kv};

use crate::health;
use crate::rules::{self, Answer, Cached, Verdict};
use crate::settings::{Channel, Gate, Require};

/// A resolution is kept this long.
const RESOLVED_MS: i64 = 24 * 3600 * 1000;
/// A failed resolution of a channel given by id is retried after this long.
const UNRESOLVED_MS: i64 = 5 * 60 * 1000;

/// A channel as Telegram described it (KV `chan:SPEC`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: Option<String>,
    /// Where users join it: `https://t.me/USERNAME` or its invite link.
    pub link: Option<String>,
    /// Whether `getChat` answered (a channel given by id is usable without it).
    pub ok: bool,
    /// When it was resolved.
    pub at_ms: i64,
}

/// Why a lookup gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Telegram could not be asked (down, slow, not connected).
    Unavailable(String),
    /// Telegram refused: the bot cannot see the members, the channel does not exist.
    Refused(String),
}

impl Failure {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(m) | Error::QuotaExceeded(m) => Self::Unavailable(m),
            Error::AccessDenied(m) | Error::InvalidInput(m) | Error::Other(m) => Self::Refused(m),
            other => Self::Refused(other.to_string()),
        }
    }

    /// The reason, as Telegram or the host gave it.
    pub fn text(&self) -> &str {
        match self {
            Self::Unavailable(m) | Self::Refused(m) => m,
        }
    }
}

/// One channel's answer about the user.
#[derive(Clone, Debug)]
pub struct Look {
    /// How users see the channel: its title, `@username` or id.
    pub name: String,
    /// Where they join it.
    pub link: Option<String>,
    /// The answer.
    pub answer: Answer,
    /// The status Telegram reported, if it did (now or cached).
    pub status: Option<String>,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// Why there is no answer.
    pub failure: Option<Failure>,
}

/// The user against every channel.
#[derive(Clone, Debug)]
pub struct Checked {
    /// One per channel, in the settings' order.
    pub looks: Vec<Look>,
    /// What they add up to.
    pub verdict: Verdict,
}

impl Checked {
    /// The channels the user still has to join (for `any`: every channel not joined).
    pub fn missing(&self) -> Vec<&Look> {
        self.looks.iter().filter(|l| l.answer != Answer::In).collect()
    }

    /// Whether a lookup made now (not the cache) found the user missing.
    pub fn found_missing(&self) -> bool {
        self.looks.iter().any(|l| l.answer == Answer::Out && !l.cached)
    }
}

fn display(c: &Channel, r: Option<&Resolved>) -> String {
    match (r.and_then(|r| r.title.clone()), &c.username) {
        (Some(t), _) => t,
        (None, Some(u)) => format!("@{u}"),
        (None, None) => c.spec.clone(),
    }
}

fn resolved(c: &Channel, info: ChatInfo, now_ms: i64) -> Resolved {
    let link = info.username.as_ref().or(c.username.as_ref()).map(|u| t_me(u)).or(info.invite_link);
    Resolved { id: info.id, title: info.title, link, ok: true, at_ms: now_ms }
}

/// `c` as Telegram describes it, from KV or `getChat`. A channel given by id is usable
/// without an answer (no title or link then, tried again in 5 minutes); one given by
/// username is not.
pub fn resolve(c: &Channel, now_ms: i64) -> Result<Result<Resolved, Failure>, Error> {
    let key = format!("chan:{}", c.spec);
    if let Some(r) = kv::get::<Resolved>(&key)? {
        let ttl = if r.ok { RESOLVED_MS } else { UNRESOLVED_MS };
        if now_ms >= r.at_ms && now_ms - r.at_ms < ttl {
            return Ok(Ok(r));
        }
    }
    let r = match telegram::get_chat(&c.spec) {
        Ok(info) => resolved(c, info, now_ms),
        Err(e) => match c.id {
            Some(id) => Resolved { id, title: None, link: None, ok: false, at_ms: now_ms },
            None => return Ok(Err(Failure::from(e))),
        },
    };
    kv::set(&key, &r)?;
    Ok(Ok(r))
}

/// The cached answer for `user` in channel `chat`, if still trusted.
fn cached(gate: &Gate, user: i64, chat: i64, now_ms: i64) -> Result<Option<Cached>, Error> {
    Ok(kv::get::<Cached>(&format!("m:{user}:{chat}"))?.filter(|c| c.fresh(now_ms, gate)))
}

/// Ask Telegram whether `user` is in `chat`, and cache the answer.
fn lookup(gate: &Gate, user: i64, chat: i64, now_ms: i64) -> Result<Result<Cached, Failure>, Error> {
    let info = match telegram::chat_member(chat, user) {
        Ok(info) => info,
        Err(e) => return Ok(Err(Failure::from(e))),
    };
    let ok = rules::passes(info.status, info.is_member);
    let c = Cached { ok, status: rules::status_name(info.status).to_owned(), at_ms: now_ms };
    let key = format!("m:{user}:{chat}");
    if (ok && gate.cache_ms > 0) || (!ok && gate.negative_ms > 0) {
        kv::set(&key, &c)?;
    } else {
        kv::delete(&key)?;
    }
    Ok(Ok(c))
}

/// Check `user` against every channel: from the cache unless `fresh` (the "I've joined"
/// button, `/subscribe`), looking up only what the cache does not answer (for `any`,
/// none once one channel passes). Failures are reported as they happen.
pub fn check(gate: &Gate, user: i64, now_ms: i64, fresh: bool) -> Result<Checked, Error> {
    let mut looks = Vec::with_capacity(gate.channels.len());
    let mut ids = Vec::with_capacity(gate.channels.len());
    for c in &gate.channels {
        let r = resolve(c, now_ms)?;
        let mut look = Look {
            name: display(c, r.as_ref().ok()),
            link: r.as_ref().ok().and_then(|r| r.link.clone()).or_else(|| c.username.as_ref().map(|u| t_me(u))),
            answer: Answer::Skipped,
            status: None,
            cached: false,
            failure: None,
        };
        match &r {
            Err(f) => {
                look.answer = Answer::Failed;
                look.failure = Some(f.clone());
            }
            Ok(r) if !fresh => {
                if let Some(hit) = cached(gate, user, r.id, now_ms)? {
                    look.answer = if hit.ok { Answer::In } else { Answer::Out };
                    look.status = Some(hit.status);
                    look.cached = true;
                }
            }
            Ok(_) => {}
        }
        ids.push(r.ok().map(|r| r.id));
        looks.push(look);
    }
    for (i, id) in ids.iter().enumerate() {
        if gate.require == Require::Any && looks.iter().any(|l| l.answer == Answer::In) {
            break;
        }
        let (Some(id), Answer::Skipped) = (*id, looks[i].answer) else { continue };
        match lookup(gate, user, id, now_ms)? {
            Ok(hit) => {
                looks[i].answer = if hit.ok { Answer::In } else { Answer::Out };
                looks[i].status = Some(hit.status);
            }
            Err(f) => {
                looks[i].answer = Answer::Failed;
                looks[i].failure = Some(f);
            }
        }
    }
    for (c, look) in gate.channels.iter().zip(&looks) {
        if let Some(f) = &look.failure {
            failed(gate, c, &look.name, user, f, now_ms)?;
        }
    }
    let answers: Vec<Answer> = looks.iter().map(|l| l.answer).collect();
    Ok(Checked { verdict: rules::verdict(gate.require, &answers), looks })
}

/// Report a failed lookup: a diagnostic line, a `gate.lookup_failed` event (counted apart
/// from "not subscribed"), and for a refusal an alert to the admins.
fn failed(gate: &Gate, c: &Channel, name: &str, user: i64, f: &Failure, now_ms: i64) -> Result<(), Error> {
    let kind = match f {
        Failure::Unavailable(_) => "unavailable",
        Failure::Refused(_) => "refused",
    };
    wharf_sdk::log::warn(&format!("membership lookup in {} failed ({kind}): {}", c.spec, f.text()));
    BusinessEvent::new("gate.lookup_failed")
        .title("Subscription check failed")
        .emoji("⚠️")
        .level(Level::Warn)
        .user(user)
        .field("channel", &c.spec)
        .field("reason", kind)
        .field("error", clip(f.text(), 200))
        .field("fail", gate.fail.as_str())
        .record()?;
    if let Failure::Refused(text) = f {
        health::alert(gate, c, name, text, now_ms)?;
    }
    Ok(())
}

/// The public link of a chat with a username.
fn t_me(username: &str) -> String {
    format!("https://t.me/{username}")
}

/// At most `max` characters of `s`.
pub fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
