//! Whether the bot can see the channels' members. Telegram shows a channel's members
//! only to its administrators; a bot that is not one gets `Bad Request: member list is
//! inaccessible` (or `chat not found` when it is not in the channel at all). The gate
//! checks when it is installed or upgraded (a lookup of the first admin) and on every
//! lookup after that; a refusal tells every admin, at most once in 6 hours per channel,
//! and records `gate.channel_inaccessible`.

use wharf_sdk::log::{Event as BusinessEvent, Level};
use wharf_sdk::{Error, kv, settings, telegram};

use crate::check::{self, Failure, clip};
use crate::settings::{Channel, Gate};

/// An alert about a channel is repeated at most this often.
const REPEAT_MS: i64 = 6 * 3600 * 1000;

/// Tell the admins that the gate cannot check `c` (once in 6 hours).
pub fn alert(gate: &Gate, c: &Channel, name: &str, error: &str, now_ms: i64) -> Result<(), Error> {
    let key = format!("alert:{}", c.spec);
    if kv::get::<i64>(&key)?.is_some_and(|at| now_ms >= at && now_ms - at < REPEAT_MS) {
        return Ok(());
    }
    kv::set(&key, &now_ms)?;
    let then = match gate.fail {
        crate::settings::Fail::Open => "Until then the gate lets everyone through (fail = \"open\").",
        crate::settings::Fail::Closed => "Until then nobody gets past the gate (fail = \"closed\").",
    };
    let text = format!(
        "⚠️ Subscription gate: I cannot check who is in {name} ({}): {}\n\nMake the bot an administrator of the \
         channel (Telegram shows members only to administrators). {then}",
        c.spec,
        clip(error, 300)
    );
    for admin in settings::admins() {
        if let Err(e) = telegram::send_text(admin, &text) {
            wharf_sdk::log::warn(&format!("cannot tell admin {admin} about {}: {e}", c.spec));
        }
    }
    BusinessEvent::new("gate.channel_inaccessible")
        .title("Gate cannot see a channel's members")
        .emoji("🚫")
        .level(Level::Error)
        .field("channel", &c.spec)
        .field("error", clip(error, 200))
        .record()
}

/// At install or upgrade: resolve every channel and look up the first admin there; a
/// refusal alerts the admins. Telegram being unreachable (e.g. not connected yet while
/// the bot starts) proves nothing: the first lookup by a user checks again.
pub fn probe(gate: &Gate, now_ms: i64) -> Result<(), Error> {
    let Some(&probe) = settings::admins().first() else { return Ok(()) };
    for c in &gate.channels {
        let r = match check::resolve(c, now_ms)? {
            Ok(r) => r,
            Err(Failure::Refused(e)) => {
                alert(gate, c, &c.spec, &e, now_ms)?;
                continue;
            }
            Err(Failure::Unavailable(_)) => continue,
        };
        let name = r.title.clone().unwrap_or_else(|| c.spec.clone());
        match telegram::chat_member(r.id, probe) {
            Err(Error::Unavailable(_) | Error::QuotaExceeded(_)) => {}
            Err(e) => alert(gate, c, &name, &e.to_string(), now_ms)?,
            Ok(_) => wharf_sdk::log::info(&format!("the members of {} are visible to the bot", c.spec)),
        }
    }
    Ok(())
}
