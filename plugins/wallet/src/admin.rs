//! Admin commands: a user's balance and entries, manual credit/debit with a mandatory
//! reason (recorded with the admin's id), rejecting a deposit, reconciling the ledger.

use wharf_sdk::command::{arg, split_args};
use wharf_sdk::escape::html;
use wharf_sdk::prelude::*;
use wharf_sdk::{telegram, time};

use crate::book::{BookError, Posting};
use crate::deposit;
use crate::store::{self, Settings};

const ADMIN_COMMANDS: [&str; 6] = ["deposits", "balance", "credit", "debit", "reject", "reconcile"];

/// Handle `/name args` if it is one of the admin commands.
pub fn command(s: &Settings, ctx: &Context, chat: i64, name: &str, args: &str) -> Result<Flow, HandlerError> {
    if !ADMIN_COMMANDS.contains(&name) {
        return Ok(Flow::Continue);
    }
    if !ctx.is_admin {
        telegram::send_text(chat, "This command is for admins.")?;
        return Ok(Flow::Stop);
    }
    let args = split_args(args);
    let result = match name {
        "deposits" => deposit::list_pending(s, chat).map_err(wharf_sdk::Error::from),
        "balance" => balance(s, chat, &args),
        "credit" => manual(s, ctx, chat, &args, 1),
        "debit" => manual(s, ctx, chat, &args, -1),
        "reject" => reject(s, ctx, chat, &args),
        _ => reconcile(s, chat, &args),
    };
    match result {
        // Bad arguments are found before anything is written: answer with the usage.
        Err(wharf_sdk::Error::InvalidInput(m)) => {
            telegram::send_text(chat, &format!("⚠️ {m}\n\n{}", usage(name)))?;
        }
        // Anything else discards the turn (the host tells the admin nothing changed).
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    Ok(Flow::Stop)
}

fn usage(name: &str) -> &'static str {
    match name {
        "balance" => "Usage: /balance USER_ID",
        "credit" => "Usage: /credit USER_ID AMOUNT REASON (e.g. /credit 42 10.50 refund for order 7)",
        "debit" => "Usage: /debit USER_ID AMOUNT REASON",
        "reject" => "Usage: /reject DEPOSIT_ID REASON",
        "reconcile" => "Usage: /reconcile [USER_ID]",
        _ => "Usage: /deposits",
    }
}

fn other(e: BookError) -> wharf_sdk::Error {
    wharf_sdk::Error::Other(e.to_string())
}

fn balance(s: &Settings, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let user: i64 = arg(args, 0, "user id")?;
    let cur = s.currency();
    let book = store::book();
    let acct = book.account(user).map_err(other)?;
    let mut text = format!(
        "User <code>{user}</code>: balance <b>{}</b>, {} entries",
        html(&cur.format(acct.balance)),
        acct.entries
    );
    for e in book.latest(user, 10).map_err(other)? {
        let by = e.actor.map(|a| format!(" · by {a}")).unwrap_or_default();
        text.push_str(&format!(
            "\n#{} {}{} → {} · {} · {}{by}",
            e.seq,
            if e.amount > 0 { "+" } else { "−" },
            html(&cur.format(e.amount.abs())),
            html(&cur.format(e.balance_after)),
            html(&store::short(&e.reason, 80)),
            time::date_time(e.at_ms)
        ));
    }
    telegram::send(chat, &Outgoing::html(text)).map(drop)
}

fn manual(s: &Settings, ctx: &Context, chat: i64, args: &[String], sign: i64) -> Result<(), wharf_sdk::Error> {
    let user: i64 = arg(args, 0, "user id")?;
    if user <= 0 {
        return Err(wharf_sdk::Error::InvalidInput(format!("{user} is not a user id")));
    }
    let cur = s.currency();
    let amount = cur.parse(args.get(1).map_or("", String::as_str))?;
    let reason = args.get(2..).unwrap_or_default().join(" ");
    if reason.trim().is_empty() {
        return Err(wharf_sdk::Error::InvalidInput("a reason is required".into()));
    }
    let admin = ctx.user_id.unwrap_or(chat);
    // The turn id is stable when the turn re-runs, so a retry cannot post twice.
    let key = format!("{}admin:{}", crate::OWN_KEYS, ctx.turn_id);
    let posting = Posting { user, amount: sign * amount, reason: &reason, key: &key, actor: Some(admin) };
    let entry = match store::post(&posting) {
        Ok((entry, _)) => entry,
        Err(BookError::Insufficient { balance, .. }) => {
            let msg = format!("Cannot debit {}: user {user} has {}.", cur.format(amount), cur.format(balance));
            return telegram::send_text(chat, &msg);
        }
        Err(BookError::InvalidInput(m)) => return Err(wharf_sdk::Error::InvalidInput(m)),
        Err(e) => return Err(other(e)),
    };
    let verb = if sign > 0 { "credited" } else { "debited" };
    // From here on an error must discard the turn (the entry with it), not become a usage hint.
    let discard = |e: wharf_sdk::Error| wharf_sdk::Error::Other(e.to_string());
    telegram::send_text(
        chat,
        &format!("Done: {} {verb} to user {user}. Balance: {}.", cur.format(amount), cur.format(entry.balance_after)),
    )
    .map_err(discard)?;
    telegram::send_text(
        user,
        &format!(
            "Your wallet was {verb} {} by an admin: {reason}. Balance: {}.",
            cur.format(amount),
            cur.format(entry.balance_after)
        ),
    )
    .map_err(discard)
}

fn reject(s: &Settings, ctx: &Context, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let id: i64 = arg(args, 0, "deposit id")?;
    let reason = args.get(1..).unwrap_or_default().join(" ");
    if reason.trim().is_empty() {
        return Err(wharf_sdk::Error::InvalidInput("a reason is required".into()));
    }
    deposit::reject(s, ctx, chat, id, &reason).map_err(wharf_sdk::Error::from)
}

fn reconcile(s: &Settings, chat: i64, args: &[String]) -> Result<(), wharf_sdk::Error> {
    let book = store::book();
    let users = match args.first() {
        Some(_) => vec![arg::<i64>(args, 0, "user id")?],
        None => book.users().map_err(other)?,
    };
    let mut bad = Vec::new();
    let mut total = 0i64;
    for user in &users {
        let r = book.reconcile(*user).map_err(other)?;
        total = total.saturating_add(r.balance);
        if !r.problems.is_empty() {
            bad.push(format!("user {user}: {}", r.problems.join("; ")));
        }
    }
    let text = if bad.is_empty() {
        format!(
            "✅ Ledger reconciles: {} user(s), every balance equals the sum of its entries. Total held: {}.",
            users.len(),
            s.currency().format(total)
        )
    } else {
        let shown: Vec<String> = bad.iter().take(10).map(|b| store::short(b, 300)).collect();
        format!("❌ {} of {} user(s) do not reconcile:\n{}", bad.len(), users.len(), shown.join("\n"))
    };
    telegram::send_text(chat, &text)
}
