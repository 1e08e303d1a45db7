//! Admins' decisions on deposit requests: approve (credits exactly once), reject with a
//! reason, the list of pending requests, and every admin's copy of a request updated to
//! show the decision. Requests are shown by their number (`#3`); buttons carry the id.

use wharf_sdk::escape::html;
use wharf_sdk::log::{Event as BusinessEvent, Level};
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, telegram, time};

use crate::book::{Category, Posting};
use crate::deposit::{Deposit, Status, dep_key, method_name, pend_key, request_text, user_pend_key};
use crate::reply::count;
use crate::store::{self, Settings};

/// Show the decision on every admin's copy of the request, without its buttons. A copy
/// that cannot be edited (e.g. the message is gone) is only logged: the decision stands.
fn show_decision(s: &Settings, dep: &Deposit) {
    let decision = match &dep.status {
        Status::Pending => return,
        Status::Approved { by, at_ms } => format!("✅ Approved by {by} at {}", time::date_time(*at_ms)),
        Status::Rejected { by, at_ms, reason } => {
            format!("❌ Rejected by {by} at {}: {}", time::date_time(*at_ms), html(reason))
        }
    };
    let out = Outgoing::html(format!("{}\n\n<b>{decision}</b>", request_text(s, dep)));
    for &(admin, copy) in &dep.copies {
        if let Err(e) = telegram::edit(admin, copy, &out) {
            wharf_sdk::log::warn(&format!("cannot update deposit {}'s request for admin {admin}: {e}", dep.id));
        }
    }
}

/// Deposit `id` if it awaits a decision; else why not (it is gone, or decided).
pub fn pending(id: i64) -> Result<Result<Deposit, String>, HandlerError> {
    let Some(dep) = kv::get::<Deposit>(&dep_key(id))? else {
        return Ok(Err("This deposit request no longer exists.".into()));
    };
    Ok(match dep.status {
        Status::Pending => Ok(dep),
        Status::Approved { by, .. } => Err(format!("Deposit #{} was already approved by {by}.", dep.no())),
        Status::Rejected { by, .. } => Err(format!("Deposit #{} was already rejected by {by}.", dep.no())),
    })
}

/// Deposit `id` if it awaits a decision; tells the admin otherwise.
pub fn still_pending(chat: i64, id: i64) -> Result<Option<Deposit>, HandlerError> {
    match pending(id)? {
        Ok(dep) => Ok(Some(dep)),
        Err(why) => {
            telegram::send_text(chat, &why)?;
            Ok(None)
        }
    }
}

/// How a decision on one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Made now; what the admin is told.
    Done(String),
    /// Not made: the request was gone or decided already (why).
    Skipped(String),
}

/// Approve deposit `id`; returns a short note for the admin's button.
pub fn approve(s: &Settings, ctx: &Context, chat: i64, id: i64) -> Result<String, HandlerError> {
    let admin = ctx.user_id.unwrap_or(chat);
    Ok(match approve_as(s, ctx, admin, Some(chat), id)? {
        Decided::Done(_) => "Approved".into(),
        Decided::Skipped(_) => "Already decided".into(),
    })
}

/// Approve deposit `id` as `admin` (0: an admin without a Telegram id, e.g. the command
/// line), telling `reply` (the admin's chat, if any) how it went. Idempotent: a request
/// decided already is skipped, and the credit's idempotency key is the request's.
pub fn approve_as(
    s: &Settings,
    ctx: &Context,
    admin: i64,
    reply: Option<i64>,
    id: i64,
) -> Result<Decided, HandlerError> {
    let mut dep = match pending(id)? {
        Ok(dep) => dep,
        Err(why) => {
            if let Some(chat) = reply {
                telegram::send_text(chat, &why)?;
            }
            return Ok(Decided::Skipped(why));
        }
    };
    let no = dep.no();
    let reason = format!("Deposit #{no} ({})", method_name(s, &dep.method));
    let key = format!("{}deposit:{id}", crate::OWN_KEYS);
    let posting = Posting {
        user: dep.user,
        amount: dep.amount,
        reason: &reason,
        key: &key,
        actor: Some(admin),
        category: Category::Deposit,
    };
    // A new deposit entry is also announced on `wallet.deposit` (see `crate::topics`).
    let (entry, _) = store::post(&posting).map_err(|e| HandlerError::Other(e.to_string()))?;
    dep.status = Status::Approved { by: admin, at_ms: ctx.now_ms };
    kv::set(&dep_key(id), &dep)?;
    show_decision(s, &dep);
    kv::delete(&pend_key(id))?;
    kv::delete(&user_pend_key(dep.user, id))?;
    let cur = s.currency();
    telegram::send_text(
        dep.user,
        &format!(
            "✅ Your deposit #{no} of {} was approved. Balance: {}",
            cur.format(dep.amount),
            cur.format(entry.balance_after)
        ),
    )?;
    let done = format!("✅ Deposit #{no} approved: {} credited to {}.", cur.format(dep.amount), dep.user);
    if let Some(chat) = reply {
        telegram::send_text(chat, &done)?;
    }
    BusinessEvent::new("deposit.approved")
        .title("Deposit approved")
        .emoji("✅")
        .user(dep.user)
        .field("deposit", format!("#{no}"))
        .field("amount", cur.format(dep.amount))
        .field("method", &dep.method)
        .field("approved_by", admin)
        .partial("reference", &dep.reference, 4, 4)
        .record()?;
    Ok(Decided::Done(done))
}

/// Reject deposit `id` with `reason` (told to the user).
pub fn reject(s: &Settings, ctx: &Context, chat: i64, id: i64, reason: &str) -> Result<(), HandlerError> {
    if reason.is_empty() || reason.chars().count() > 300 {
        telegram::send_text(chat, "A rejection needs a reason of at most 300 characters.")?;
        return Ok(());
    }
    reject_as(s, ctx, ctx.user_id.unwrap_or(chat), Some(chat), id, reason)?;
    Ok(())
}

/// Reject deposit `id` as `admin` with `reason` (1-300 characters, checked by the
/// caller), telling `reply` (the admin's chat, if any). Idempotent like [`approve_as`].
pub fn reject_as(
    s: &Settings,
    ctx: &Context,
    admin: i64,
    reply: Option<i64>,
    id: i64,
    reason: &str,
) -> Result<Decided, HandlerError> {
    let mut dep = match pending(id)? {
        Ok(dep) => dep,
        Err(why) => {
            if let Some(chat) = reply {
                telegram::send_text(chat, &why)?;
            }
            return Ok(Decided::Skipped(why));
        }
    };
    let no = dep.no();
    dep.status = Status::Rejected { by: admin, at_ms: ctx.now_ms, reason: reason.to_owned() };
    kv::set(&dep_key(id), &dep)?;
    show_decision(s, &dep);
    kv::delete(&pend_key(id))?;
    kv::delete(&user_pend_key(dep.user, id))?;
    let amount = s.currency().format(dep.amount);
    telegram::send_text(dep.user, &format!("❌ Your deposit #{no} of {amount} was rejected: {reason}"))?;
    let done = format!("Deposit #{no} rejected.");
    if let Some(chat) = reply {
        telegram::send_text(chat, &done)?;
    }
    BusinessEvent::new("deposit.rejected")
        .title("Deposit rejected")
        .emoji("❌")
        .level(Level::Warn)
        .user(dep.user)
        .field("deposit", format!("#{no}"))
        .field("amount", amount)
        .field("method", &dep.method)
        .field("rejected_by", admin)
        .field("reason", reason)
        .partial("reference", &dep.reference, 4, 4)
        .record()?;
    Ok(Decided::Done(done))
}

/// `/deposits`: pending requests, each with its buttons.
pub fn list_pending(s: &Settings, chat: i64) -> Result<(), HandlerError> {
    let ids: Vec<i64> = kv::values("pend:")?;
    if ids.is_empty() {
        telegram::send_text(chat, "No pending deposits.")?;
        return Ok(());
    }
    let cur = s.currency();
    let mut text = format!("<b>{}</b>", count(ids.len(), "pending deposit", "pending deposits"));
    let mut kb = Keyboard::new();
    let mut shown = 0;
    // Stay well under Telegram's 4096 characters and 100 buttons.
    for &id in &ids {
        let Some(dep) = kv::get::<Deposit>(&dep_key(id))? else { continue };
        let no = dep.no();
        let line = format!(
            "\n#{no} · user <code>{}</code> · {} · {} · ref <code>{}</code>",
            dep.user,
            html(&cur.format(dep.amount)),
            html(&store::short(&method_name(s, &dep.method), 30)),
            html(&store::short(&dep.reference, 30))
        );
        if shown == 30 || (text.clone() + &line).encode_utf16().count() > 3_500 {
            break;
        }
        text.push_str(&line);
        kb = kb.button(format!("✅ #{no}"), format!("ap:{id}")).button(format!("❌ #{no}"), format!("rj:{id}")).row();
        shown += 1;
    }
    if ids.len() > shown {
        text.push_str(&format!("\n…and {} more: decide on these, then /deposits again", ids.len() - shown));
    }
    telegram::send(chat, &Outgoing::html(text).keyboard(kb))?;
    Ok(())
}
