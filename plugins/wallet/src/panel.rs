//! The wallet's admin views and actions (the `admin` export): view `pending` (deposit
//! requests waiting for a decision, selectable for `approve` / `reject`), `ledger` (a
//! user's balance and entries) and `reconcile` (every balance against the sum of its
//! entries); actions `approve` / `reject` (the same code path, user message and event as
//! the Telegram buttons; idempotent) and `credit` / `debit` (idempotency key from the
//! turn id, like `/credit`). Tested on the SDK's fake host (`panel/tests.rs`).

use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, telegram, time};

use crate::Wallet;
use crate::book::{BookError, Category, MAX_AMOUNT, MAX_REASON, Posting};
use crate::decide::{self, Decided};
use crate::deposit::{Deposit, dep_key, method_name};
use crate::store::{self, Settings};

#[cfg(test)]
mod tests;

/// Pending requests shown per page.
pub const PAGE: u32 = 100;
/// Entries `ledger` shows.
pub const ENTRIES: u32 = 50;

fn settings() -> Result<Settings, AdminError> {
    Settings::load().map_err(AdminError::Other)
}

fn other(e: BookError) -> AdminError {
    AdminError::Other(e.to_string())
}

/// `ABCD…WXYZ`: a payment reference as the event log shows it.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 8 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The views and actions; amounts are typed with the wallet's decimals.
pub fn spec(decimals: u8) -> AdminSpec {
    AdminSpec::new()
        .view("pending", "Pending deposits")
        .describe("Deposit requests waiting for a decision")
        .view("ledger", "User ledger")
        .describe("A user's balance and latest entries")
        .param(Param::user_id("user", "User").required())
        .view("reconcile", "Reconcile")
        .describe("Check that every balance equals the sum of its entries")
        .param(Param::user_id("user", "User").help("Empty: every user"))
        .action("approve", "Approve deposits")
        .describe("Credit the selected requests and tell their users")
        .param(Param::ids("deposits", "Deposits").required())
        .action("reject", "Reject deposits")
        .describe("Reject the selected requests and tell their users why")
        .param(Param::ids("deposits", "Deposits").required())
        .param(Param::text("reason", "Reason").required().help("Told to the user (at most 300 characters)"))
        .action("credit", "Credit")
        .describe("Add money to a user's wallet")
        .param(Param::user_id("user", "User").required())
        .param(Param::amount("amount", "Amount", decimals).required())
        .param(Param::text("reason", "Reason").required())
        .action("debit", "Debit")
        .describe("Take money from a user's wallet")
        .param(Param::user_id("user", "User").required())
        .param(Param::amount("amount", "Amount", decimals).required())
        .param(Param::text("reason", "Reason").required())
}

/// View `pending`: a page of requests after the `pend:` key `page`.
pub fn pending(s: &Settings, page: Option<&str>) -> Result<Output, AdminError> {
    let keys = kv::page("pend:", page, PAGE)?;
    let cur = s.currency();
    let mut table =
        Output::table(["Deposit", "User", "Amount", "Method", "Reference", "Requested"]).actions(["approve", "reject"]);
    for key in &keys.keys {
        let Some(id) = kv::get::<i64>(key)? else { continue };
        let Some(dep) = kv::get::<Deposit>(&dep_key(id))? else { continue };
        let cells = [
            format!("#{}", dep.no()),
            dep.user.to_string(),
            cur.format(dep.amount),
            method_name(s, &dep.method),
            mask(&dep.reference),
            time::date_time(dep.created_ms),
        ];
        table = table.row(id.to_string(), cells);
    }
    let mut out = table;
    if keys.keys.is_empty() && page.is_none() {
        out = Output::text("No pending deposits.").and(out);
    }
    if let Some(c) = keys.cursor {
        out = out.next_page(c);
    }
    Ok(out)
}

/// View `ledger` of `user`.
pub fn ledger(s: &Settings, user: i64) -> Result<Output, AdminError> {
    let cur = s.currency();
    let book = store::book();
    let acct = book.account(user).map_err(other)?;
    let mut table = Output::table(["#", "Amount", "Balance after", "Category", "Reason", "By", "At"]);
    for e in book.latest(user, ENTRIES).map_err(other)? {
        let cells = [
            e.seq.to_string(),
            cur.format(e.amount),
            cur.format(e.balance_after),
            format!("{:?}", e.category).to_lowercase(),
            e.reason.clone(),
            e.actor.map(|a| a.to_string()).unwrap_or_default(),
            time::date_time(e.at_ms),
        ];
        table = table.plain_row(cells);
    }
    let kv = [("User", user.to_string()), ("Balance", cur.format(acct.balance)), ("Entries", acct.entries.to_string())];
    Ok(Output::key_values(kv).and(table))
}

/// View `reconcile` (one user, or every user).
pub fn reconcile(s: &Settings, user: Option<i64>) -> Result<Output, AdminError> {
    let book = store::book();
    let users = match user {
        Some(u) => vec![u],
        None => book.users().map_err(other)?,
    };
    let cur = s.currency();
    let (mut total, mut sum) = (0i64, 0i64);
    let mut table = Output::table(["User", "Balance", "Sum of entries", "Problems"]);
    let mut bad = 0usize;
    for u in &users {
        let r = book.reconcile(*u).map_err(other)?;
        total = total.saturating_add(r.balance);
        sum = sum.saturating_add(r.sum);
        if !r.problems.is_empty() {
            bad += 1;
            table = table.plain_row([u.to_string(), cur.format(r.balance), cur.format(r.sum), r.problems.join("; ")]);
        }
    }
    let verdict = if bad == 0 { "✅ The ledger reconciles." } else { "❌ Some balances do not reconcile." };
    let kv = [
        ("Users", users.len().to_string()),
        ("Not reconciling", bad.to_string()),
        ("Total held", cur.format(total)),
        ("Sum of entries", cur.format(sum)),
    ];
    Ok(Output::text(verdict).and(Output::key_values(kv)).and(table))
}

fn ids(p: &Params) -> Result<Vec<i64>, AdminError> {
    p.ids("deposits")
        .iter()
        .map(|id| id.parse().map_err(|_| AdminError::InvalidInput(format!("{id:?} is not a deposit id"))))
        .collect()
}

/// Actions `approve` and `reject` (`reason` set): each selected request, through the
/// same code as the Telegram buttons; a request decided already is skipped.
pub fn decide(s: &Settings, ctx: &Context, p: &Params, reason: Option<&str>) -> Result<Output, AdminError> {
    if let Some(r) = reason
        && (r.trim().is_empty() || r.chars().count() > 300)
    {
        return Err(AdminError::InvalidInput("a rejection needs a reason of at most 300 characters".into()));
    }
    let admin = ctx.user_id.unwrap_or(0);
    let mut table = Output::table(["Deposit", "Outcome"]);
    let (mut done, mut skipped) = (0, 0);
    for id in ids(p)? {
        let outcome = match reason {
            None => decide::approve_as(s, ctx, admin, None, id)?,
            Some(r) => decide::reject_as(s, ctx, admin, None, id, r.trim())?,
        };
        let text = match outcome {
            Decided::Done(t) => {
                done += 1;
                t
            }
            Decided::Skipped(t) => {
                skipped += 1;
                t
            }
        };
        table = table.row(id.to_string(), [id.to_string(), text]);
    }
    let verb = if reason.is_some() { "Rejected" } else { "Approved" };
    Ok(Output::text(format!("{verb} {done}, skipped {skipped}.")).and(table))
}

/// Actions `credit` (`sign` 1) and `debit` (-1), as `/credit` and `/debit` do.
pub fn manual(s: &Settings, ctx: &Context, p: &Params, sign: i64) -> Result<Output, AdminError> {
    let user = p.required_user_id("user")?;
    let amount = p.required_amount("amount")?;
    let cur = s.currency();
    if !(1..=MAX_AMOUNT).contains(&amount) {
        let max = cur.format(MAX_AMOUNT);
        return Err(AdminError::InvalidInput(format!("the amount must be more than 0 and at most {max}")));
    }
    let reason = p.required_text("reason")?.trim();
    if reason.chars().count() > MAX_REASON {
        return Err(AdminError::InvalidInput(format!("the reason must be at most {MAX_REASON} characters")));
    }
    // The turn id is the action's: a retry of the same request cannot post twice.
    let key = format!("{}admin:{}", crate::OWN_KEYS, ctx.turn_id);
    let posting =
        Posting { user, amount: sign * amount, reason, key: &key, actor: ctx.user_id, category: Category::Adjustment };
    let entry = match store::post(&posting) {
        Ok((entry, _)) => entry,
        Err(BookError::Insufficient { balance, .. }) => {
            let why = format!("cannot debit {}: user {user} has {}", cur.format(amount), cur.format(balance));
            return Err(AdminError::InvalidInput(why));
        }
        Err(BookError::InvalidInput(m)) => return Err(AdminError::InvalidInput(m)),
        Err(e) => return Err(other(e)),
    };
    let verb = if sign > 0 { "credited" } else { "debited" };
    let balance = cur.format(entry.balance_after);
    let told = format!("Your wallet was {verb} {} by an admin: {reason}. Balance: {balance}.", cur.format(amount));
    telegram::send_text(user, &told)?;
    Ok(Output::text(format!("Done: {} {verb} to user {user}.", cur.format(amount)))
        .and(Output::key_values([("Balance", balance), ("Entry", entry.seq.to_string())])))
}

impl Admin for Wallet {
    fn spec() -> AdminSpec {
        spec(Settings::load().map_or(2, |s| s.decimals))
    }

    fn view(name: &str, params: &Params, page: Option<&str>, _ctx: &Context) -> Result<Output, AdminError> {
        let s = settings()?;
        match name {
            "pending" => pending(&s, page),
            "ledger" => ledger(&s, params.required_user_id("user")?),
            "reconcile" => reconcile(&s, params.user_id("user")),
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }

    fn act(name: &str, params: &Params, ctx: &Context) -> Result<Output, AdminError> {
        let s = settings()?;
        match name {
            "approve" => decide(&s, ctx, params, None),
            "reject" => decide(&s, ctx, params, Some(params.required_text("reason")?)),
            "credit" => manual(&s, ctx, params, 1),
            "debit" => manual(&s, ctx, params, -1),
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }
}
