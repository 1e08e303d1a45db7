//! `/start ref_CODE`: a new user is bound to the code's owner, once and for good.
//!
//! Refused, with a message to the user and nothing written:
//! - an unknown or malformed code;
//! - the user's own code (self-referral);
//! - a user who is already bound (the first referrer stays);
//! - a binding that would close a cycle (the code's owner was invited, directly or
//!   through others, by this user);
//! - a user who is not new: the host saw them before this turn (any private message,
//!   button press or member update since the host recorded users:
//!   `settings::user_first_seen`), or the plugin has a record of them. So people who
//!   used the bot before the referral plugin was installed cannot be claimed either.

use wharf_sdk::{Error, User, kv, settings};

use crate::ledger::Ledger;
use crate::model::{self, Binding, Summary};
use crate::notify::{self, tell};
use crate::people;
use crate::settings::Settings;

/// How far up the chain of referrers the cycle check walks (a cycle is impossible for
/// a new user, so this only bounds the work on damaged data).
const MAX_CHAIN: usize = 256;

/// Why a binding was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No such code.
    UnknownCode,
    /// The user's own code.
    OwnCode,
    /// Already bound to someone.
    AlreadyBound,
    /// The code's owner is in the user's own referral tree.
    Cycle,
    /// The user used the bot before.
    NotNew,
}

impl Refused {
    /// What the user reads.
    pub fn text(&self) -> &'static str {
        match self {
            Self::UnknownCode => "This invitation link is not valid (the code is unknown).",
            Self::OwnCode => "That is your own invitation link: share it with friends instead.",
            Self::AlreadyBound => "You already joined with an invitation; it stays as it is.",
            Self::Cycle => "You cannot join with this link: its owner joined with your invitation.",
            Self::NotNew => "Invitation links are for new users, and you have used this bot before.",
        }
    }
}

/// Handle the payload of `/start` from `who` (in their private chat); anything but
/// `ref_…` is left alone. Returns what happened (`None`: not a referral payload).
pub fn start(
    who: &User,
    payload: &str,
    s: &Settings,
    ledger: &dyn Ledger,
    now_ms: i64,
) -> Result<Option<Result<i64, Refused>>, Error> {
    let Some(parsed) = crate::code::from_payload(payload) else { return Ok(None) };
    let outcome = match parsed {
        Err(()) => Err(Refused::UnknownCode),
        Ok(code) => check(who.id, &code)?,
    };
    match outcome {
        Ok(referrer) => bind(who, referrer, s, ledger, now_ms)?,
        Err(ref why) => tell(who.id, why.text())?,
    }
    Ok(Some(outcome))
}

/// The referrer `who` may be bound to with `code`, or why not.
fn check(who: i64, code: &str) -> Result<Result<i64, Refused>, Error> {
    let Some(referrer) = people::by_code(code)? else { return Ok(Err(Refused::UnknownCode)) };
    if referrer == who {
        return Ok(Err(Refused::OwnCode));
    }
    if kv::exists(&model::binding_key(who))? {
        return Ok(Err(Refused::AlreadyBound));
    }
    let mut up = referrer;
    for _ in 0..MAX_CHAIN {
        match kv::get::<Binding>(&model::binding_key(up))? {
            Some(b) if b.referrer == who => return Ok(Err(Refused::Cycle)),
            Some(b) => up = b.referrer,
            None => break,
        }
    }
    if settings::user_first_seen(who).is_some() || people::known(who)? {
        return Ok(Err(Refused::NotNew));
    }
    Ok(Ok(referrer))
}

/// Bind `who` to `referrer`, tell both, record it, unlock the referrer's achievements.
fn bind(who: &User, referrer: i64, s: &Settings, ledger: &dyn Ledger, now_ms: i64) -> Result<(), Error> {
    kv::set(&model::binding_key(who.id), &Binding { referrer, at_ms: now_ms })?;
    kv::set(&model::referee_key(referrer, who.id), &now_ms)?;
    let sum = kv::update(&model::summary_key(referrer), |sum: &mut Summary| sum.referees += 1)?;
    let referee = people::touch(who)?;
    let mut owner = people::load(referrer)?;
    notify::bound(referrer, who.id, &people::name(&owner, referrer), &people::name(&referee, who.id), sum.referees)?;
    let new = people::unlock(&mut owner, s, &sum, now_ms);
    if !new.is_empty() {
        people::save(referrer, &owner)?;
        notify::unlocked(referrer, &new, s, &ledger.currency(), sum.earned)?;
    }
    Ok(())
}
