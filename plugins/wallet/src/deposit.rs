//! `/wallet`, the manual deposit dialog, and the buttons of deposit requests
//! ([`crate::decide`] has admins' decisions). A method another plugin serves is handed
//! to it on `wallet.deposit_method` (see [`crate::topics`]) and opens no dialog.
//!
//! A request is `dep:{id}` (the id is the turn that created it); people see its number
//! (`#1`, `#2`… across the bot, see [`crate::numbers`]); pending ones are also indexed
//! under `pend:{id:020}`; a dialog step waiting for the user's next message is
//! `dlg:{user}`. Approval credits with the idempotency key `wallet:deposit:{id}` and flips the
//! request's status in the same turn, so two admins pressing at once (or one pressing
//! twice) credit once: the second turn conflicts, re-runs and finds it approved.
//! Every admin gets a copy of the request; the handles of the copies are kept with it,
//! and a decision edits all copies to show it (and drops their buttons).

use serde::{Deserialize, Serialize};
use wharf_sdk::escape::html;
use wharf_sdk::log::Event as BusinessEvent;
use wharf_sdk::prelude::*;
use wharf_sdk::telegram::MessageHandle;
use wharf_sdk::{kv, settings, telegram, time};

use crate::decide;
use crate::numbers;
use crate::reply;
use crate::store::{self, KvStore, Method, Settings};
use crate::topics;

/// The kind of record deposit numbers count.
const NUMBERS: &str = "deposit";

/// Where a user is in a multi-message dialog.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Dialog {
    /// Waiting for the amount of a deposit by `method`.
    Amount {
        /// Method id.
        method: String,
    },
    /// Waiting for the payment reference.
    Reference {
        /// Method id.
        method: String,
        /// Minor units.
        amount: i64,
    },
    /// An admin is asked why they reject a deposit.
    RejectReason {
        /// Deposit id.
        deposit: i64,
    },
}

/// What happened to a deposit request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Waiting for an admin.
    Pending,
    /// Credited.
    Approved {
        /// Admin.
        by: i64,
        /// When.
        at_ms: i64,
    },
    /// Refused.
    Rejected {
        /// Admin.
        by: i64,
        /// When.
        at_ms: i64,
        /// Told to the user.
        reason: String,
    },
}

/// A manual deposit request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deposit {
    /// Request id (the turn that made it): keys, buttons and the idempotency key.
    pub id: i64,
    /// The number people see (1, 2, 3… across the bot). Requests made by an earlier
    /// version have none; they keep showing their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    /// Who pays.
    pub user: i64,
    /// Minor units.
    pub amount: i64,
    /// Method id.
    pub method: String,
    /// The user's payment reference (secret in logs).
    pub reference: String,
    /// When it was made.
    pub created_ms: i64,
    /// Its state.
    #[serde(flatten)]
    pub status: Status,
    /// The copies of the request sent to admins: (admin, message).
    #[serde(default)]
    pub copies: Vec<(i64, MessageHandle)>,
}

impl Deposit {
    /// The number shown to people: `Deposit #3`.
    pub fn no(&self) -> i64 {
        self.number.unwrap_or(self.id)
    }
}

/// `dep:{id}`.
pub fn dep_key(id: i64) -> String {
    format!("dep:{id}")
}

/// `pend:{id}`: a request waiting for a decision.
pub fn pend_key(id: i64) -> String {
    format!("pend:{id:020}")
}

/// `upend:{user}:{id}`: a user's request waiting for a decision.
pub fn user_pend_key(user: i64, id: i64) -> String {
    format!("upend:{user}:{id:020}")
}

/// Requests one user may have waiting at once (each one messages every admin).
pub const MAX_PENDING_PER_USER: usize = 3;

fn dlg_key(user: i64) -> String {
    format!("dlg:{user}")
}

/// A dialog step left unanswered this long is forgotten, so a stray message much later
/// is not taken for an amount or a reference.
pub const DIALOG_TTL_MS: i64 = 30 * 60_000;

/// A dialog step with the time it was asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    #[serde(flatten)]
    dialog: Dialog,
    at_ms: i64,
    /// The chat it was asked in: the answer must come from there.
    chat: i64,
}

fn set_dialog(chat: i64, user: i64, dialog: Dialog) -> Result<(), wharf_sdk::Error> {
    kv::set(&dlg_key(user), &Pending { dialog, at_ms: store::now_ms(), chat })
}

/// The user's open dialog step in `chat`, unless it is stale.
fn dialog(chat: i64, user: i64, now_ms: i64) -> Result<Option<Dialog>, wharf_sdk::Error> {
    let Some(p) = kv::get::<Pending>(&dlg_key(user))? else { return Ok(None) };
    if p.chat != chat {
        return Ok(None);
    }
    if now_ms - p.at_ms > DIALOG_TTL_MS {
        kv::delete(&dlg_key(user))?;
        return Ok(None);
    }
    Ok(Some(p.dialog))
}

fn method<'a>(s: &'a Settings, id: &str) -> Option<&'a Method> {
    s.methods.iter().find(|m| m.id == id)
}

/// The name of payment method `id` (the id itself if it is no longer offered).
pub fn method_name(s: &Settings, id: &str) -> String {
    method(s, id).map_or_else(|| id.to_owned(), |m| m.name.clone())
}

/// `/wallet`: balance, latest entries, a Deposit button.
pub fn show(s: &Settings, chat: i64, user: i64) -> Result<(), HandlerError> {
    let cur = s.currency();
    let book = store::book();
    let balance = book.balance(user).map_err(|e| HandlerError::Other(e.to_string()))?;
    let mut text = format!("💰 <b>Your wallet</b>\nBalance: <b>{}</b>", html(&cur.format(balance)));
    let latest = book.latest(user, s.entries_shown).map_err(|e| HandlerError::Other(e.to_string()))?;
    if latest.is_empty() {
        text.push_str("\n\nNo transactions yet.");
    } else {
        text.push_str("\n\nLatest:");
        for e in latest {
            let sign = if e.amount > 0 { "+" } else { "−" };
            text.push_str(&format!(
                "\n{sign}{} · {} · {}",
                html(&cur.format(e.amount.abs())),
                html(&store::short(&e.reason, 80)),
                time::date(e.at_ms)
            ));
        }
    }
    let mut out = Outgoing::html(text);
    if !s.methods.is_empty() {
        out = out.keyboard(Keyboard::new().button("➕ Deposit", "dep"));
    }
    telegram::send(chat, &out)?;
    Ok(())
}

/// `/cancel`: leave the current dialog.
pub fn cancel_dialog(chat: i64, user: i64) -> Result<Flow, HandlerError> {
    if kv::get::<Pending>(&dlg_key(user))?.is_none() {
        return Ok(Flow::Continue);
    }
    kv::delete(&dlg_key(user))?;
    telegram::send_text(chat, "Cancelled.")?;
    Ok(Flow::Stop)
}

/// The user chose method `m`: a manual one asks for the amount; one another plugin serves
/// is handed to it on `wallet.deposit_method` (it answers the user, the wallet does not).
fn choose(s: &Settings, chat: i64, user: i64, m: &Method) -> Result<(), HandlerError> {
    let Some(plugin) = &m.plugin else { return ask_amount(s, chat, user, m) };
    let payload = topics::DepositMethod { method: m.id.clone(), user_id: user, chat_id: chat, plugin: plugin.clone() };
    if topics::emit(topics::DEPOSIT_METHOD, &payload)? == topics::Emitted::Off {
        telegram::send_text(chat, "That payment method is not available right now.")?;
    }
    Ok(())
}

fn ask_amount(s: &Settings, chat: i64, user: i64, m: &Method) -> Result<(), HandlerError> {
    let cur = s.currency();
    set_dialog(chat, user, Dialog::Amount { method: m.id.clone() })?;
    let text = format!(
        "<b>{}</b>\n{}\n\nSend the amount in {} ({} to {}), or /cancel.",
        html(&m.name),
        html(m.instructions.as_deref().unwrap_or_default()),
        html(&cur.code),
        html(&cur.format_number(s.min_deposit)),
        html(&cur.format_number(s.max_deposit)),
    );
    telegram::send(chat, &Outgoing::html(text))?;
    Ok(())
}

/// A plain message: the next step of a dialog, if one is open.
pub fn on_text(s: &Settings, ctx: &Context, chat: i64, user: i64, text: &str) -> Result<Flow, HandlerError> {
    let Some(dialog) = dialog(chat, user, ctx.now_ms)? else { return Ok(Flow::Continue) };
    let cur = s.currency();
    match dialog {
        Dialog::Amount { method } => {
            let amount = match cur.parse(text) {
                Ok(a) if (s.min_deposit..=s.max_deposit).contains(&a) => a,
                Ok(_) => {
                    let range = format!("{} to {}", cur.format(s.min_deposit), cur.format(s.max_deposit));
                    telegram::send_text(chat, &format!("Deposits must be {range}. Send another amount, or /cancel."))?;
                    return Ok(Flow::Stop);
                }
                Err(e) => {
                    let why = reply::plain(&e);
                    telegram::send_text(chat, &format!("{why}. Send an amount like 50 or 12.50, or /cancel."))?;
                    return Ok(Flow::Stop);
                }
            };
            set_dialog(chat, user, Dialog::Reference { method, amount })?;
            telegram::send_text(
                chat,
                "Now send the payment reference (the transfer title or the BLIK confirmation), or /cancel.",
            )?;
        }
        Dialog::Reference { method, amount } => {
            let reference = text.trim();
            if reference.is_empty() || reference.chars().count() > 100 || reference.contains('\n') {
                telegram::send_text(
                    chat,
                    "The reference must be one line of at most 100 characters. Try again, or /cancel.",
                )?;
                return Ok(Flow::Stop);
            }
            kv::delete(&dlg_key(user))?;
            let dep = Deposit {
                id: ctx.turn_id,
                number: None,
                user,
                amount,
                method,
                reference: reference.to_owned(),
                created_ms: ctx.now_ms,
                status: Status::Pending,
                copies: Vec::new(),
            };
            create(s, chat, dep)?;
        }
        Dialog::RejectReason { deposit } => {
            kv::delete(&dlg_key(user))?;
            if !ctx.is_admin {
                return Ok(Flow::Stop);
            }
            decide::reject(s, ctx, chat, deposit, text.trim())?;
        }
    }
    Ok(Flow::Stop)
}

fn create(s: &Settings, chat: i64, mut dep: Deposit) -> Result<(), HandlerError> {
    let cur = s.currency();
    if kv::keys(&format!("upend:{}:", dep.user))?.len() >= MAX_PENDING_PER_USER {
        let text =
            format!("You already have {MAX_PENDING_PER_USER} deposits waiting for approval; please wait for them.");
        telegram::send_text(chat, &text)?;
        return Ok(());
    }
    dep.number = Some(numbers::assign(&mut KvStore, NUMBERS, dep.id).map_err(HandlerError::Other)?);
    for admin in settings::admins() {
        dep.copies.push((admin, telegram::send(admin, &request_message(s, &dep))?));
    }
    kv::set(&dep_key(dep.id), &dep)?;
    kv::set(&pend_key(dep.id), &dep.id)?;
    kv::set(&user_pend_key(dep.user, dep.id), &dep.id)?;
    telegram::send_text(
        chat,
        &format!(
            "Deposit request #{} for {} sent for approval. You will be told when an admin has checked it.",
            dep.no(),
            cur.format(dep.amount)
        ),
    )?;
    BusinessEvent::new("deposit.pending")
        .title("Deposit awaiting approval")
        .emoji("⏳")
        .user(dep.user)
        .field("deposit", format!("#{}", dep.no()))
        .field("amount", cur.format(dep.amount))
        .field("method", &dep.method)
        .partial("reference", &dep.reference, 4, 4)
        .record()?;
    Ok(())
}

fn request_message(s: &Settings, dep: &Deposit) -> Outgoing {
    Outgoing::html(request_text(s, dep)).keyboard(
        Keyboard::new().button("✅ Approve", format!("ap:{}", dep.id)).button("❌ Reject", format!("rj:{}", dep.id)),
    )
}

/// A request as admins see it (HTML).
pub fn request_text(s: &Settings, dep: &Deposit) -> String {
    format!(
        "🧾 <b>Deposit request #{}</b>\nUser: <code>{}</code>\nAmount: <b>{}</b>\nMethod: {}\nReference: <code>{}</code>\nMade: {}",
        dep.no(),
        dep.user,
        html(&s.currency().format(dep.amount)),
        html(&method_name(s, &dep.method)),
        html(&dep.reference),
        time::date_time(dep.created_ms),
    )
}

/// A button press.
pub fn on_button(s: &Settings, ctx: &Context, cb: &CallbackQuery) -> Result<Flow, HandlerError> {
    let chat = cb.chat.as_ref().map_or(cb.sender.id, |c| c.id);
    let user = cb.sender.id;
    let (verb, arg) = cb.data.split_once(':').unwrap_or((cb.data.as_str(), ""));
    match verb {
        "dep" => {
            telegram::answer_callback(&cb.id, None)?;
            match s.methods.as_slice() {
                [] => telegram::send_text(chat, "Deposits are not available.")?,
                [only] => choose(s, chat, user, only)?,
                many => {
                    let kb = many.iter().fold(Keyboard::new(), |kb, m| kb.button(&m.name, format!("m:{}", m.id)).row());
                    telegram::send(chat, &Outgoing::text("How do you want to pay?").keyboard(kb))?;
                }
            }
        }
        "m" => {
            telegram::answer_callback(&cb.id, None)?;
            match method(s, arg) {
                Some(m) => choose(s, chat, user, m)?,
                None => telegram::send_text(chat, "That payment method is no longer offered.")?,
            }
        }
        "ap" | "rj" => {
            if !ctx.is_admin {
                telegram::answer_callback(&cb.id, Some("Only admins can do that."))?;
                return Ok(Flow::Stop);
            }
            let Ok(id) = arg.parse::<i64>() else {
                return Err(HandlerError::InvalidInput(format!("bad data {arg:?}")));
            };
            if verb == "ap" {
                let note = decide::approve(s, ctx, chat, id)?;
                telegram::answer_callback(&cb.id, Some(&note))?;
            } else {
                telegram::answer_callback(&cb.id, None)?;
                if let Some(dep) = decide::still_pending(chat, id)? {
                    set_dialog(chat, user, Dialog::RejectReason { deposit: id })?;
                    let ask = format!("Send the reason for rejecting deposit #{}, or /cancel.", dep.no());
                    telegram::send_text(chat, &ask)?;
                }
            }
        }
        _ => return Ok(Flow::Continue),
    }
    Ok(Flow::Stop)
}

/// The deposit request people know as `#number`: numbered ones by their number, those
/// made before numbering by their id (which is what they were shown).
pub fn find(number: i64) -> Result<Option<Deposit>, HandlerError> {
    if let Some(id) = numbers::find(&KvStore, NUMBERS, number).map_err(HandlerError::Other)? {
        return Ok(kv::get::<Deposit>(&dep_key(id))?);
    }
    Ok(kv::get::<Deposit>(&dep_key(number))?.filter(|d| d.number.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stored_before_numbering_still_load_and_show_their_id() {
        let old = r#"{"id":4711,"user":7,"amount":5000,"method":"blik","reference":"R","created_ms":1,
            "status":"approved","by":1000,"at_ms":2,"copies":[[1000,55]]}"#;
        let d: Deposit = serde_json::from_str(old).unwrap();
        assert_eq!((d.number, d.no()), (None, 4711));
        assert_eq!(d.status, Status::Approved { by: 1000, at_ms: 2 });
        let oldest =
            r#"{"id":9,"user":7,"amount":5000,"method":"blik","reference":"R","created_ms":1,"status":"pending"}"#;
        let d: Deposit = serde_json::from_str(oldest).unwrap();
        assert!(d.copies.is_empty() && d.number.is_none());
        let numbered = Deposit { number: Some(1), ..d };
        let again: Deposit = serde_json::from_str(&serde_json::to_string(&numbered).unwrap()).unwrap();
        assert_eq!(again.no(), 1);
    }
}
