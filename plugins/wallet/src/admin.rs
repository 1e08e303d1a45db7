//! Admin commands: a user's balance and entries, manual credit/debit with a mandatory
//! reason (recorded with the admin's id), rejecting a deposit, reconciling the ledger.
//! A refused command is answered with the reason and its usage; nothing is written.

use wharf_sdk::command::split_args;
use wharf_sdk::escape::html;
use wharf_sdk::prelude::*;
use wharf_sdk::{telegram, time};

use crate::book::{BookError, Category, MAX_AMOUNT, MAX_REASON, Posting};
use crate::reply::{self, CommandError, Refusal, count};
use crate::store::{self, Settings};
use crate::{decide, deposit};

/// Each admin command: its name, its syntax (as README.md shows it) and what it does.
pub const SYNTAX: [(&str, &str, &str); 6] = [
    ("deposits", "/deposits", "Deposit requests waiting for a decision"),
    ("balance", "/balance USER", "A user's balance and latest entries"),
    ("credit", "/credit USER AMOUNT REASON", "Add money to a user's wallet"),
    ("debit", "/debit USER AMOUNT REASON", "Take money from a user's wallet"),
    ("reject", "/reject DEPOSIT REASON", "Reject a deposit request (its number) and tell the user why"),
    ("reconcile", "/reconcile [USER]", "Check that every balance equals the sum of its entries"),
];

/// Handle `/name args` if it is one of the admin commands.
pub fn command(s: &Settings, ctx: &Context, chat: i64, name: &str, args: &str) -> Result<Flow, HandlerError> {
    if !SYNTAX.iter().any(|(n, ..)| *n == name) {
        return Ok(Flow::Continue);
    }
    if !ctx.is_admin {
        telegram::send_text(chat, "This command is for admins.")?;
        return Ok(Flow::Stop);
    }
    let args = split_args(args);
    let result = match name {
        "deposits" => decide::list_pending(s, chat).map_err(|e| CommandError::Failed(e.into())),
        "balance" => balance(s, chat, &args),
        "credit" => manual(s, ctx, chat, &args, 1),
        "debit" => manual(s, ctx, chat, &args, -1),
        "reject" => reject(s, ctx, chat, &args),
        _ => reconcile(s, chat, &args),
    };
    match result {
        Ok(()) => {}
        // Bad arguments are found before anything is written: answer with the usage.
        Err(CommandError::Refused(why)) => {
            telegram::send_text(chat, &format!("⚠️ {}\n\n{}", capital(&why.to_string()), usage(name)))?;
        }
        // Anything else discards the turn (the host tells the admin nothing changed).
        Err(CommandError::Failed(e)) => return Err(e.into()),
    }
    Ok(Flow::Stop)
}

/// The sentence with its first letter in capitals.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// How to use admin command `name`.
pub fn usage(name: &str) -> String {
    let Some((_, syntax, _)) = SYNTAX.iter().find(|(n, ..)| *n == name) else { return String::new() };
    let example = match name {
        "credit" => "\nFor example: /credit 42 10.50 refund for order 7",
        "reject" => "\nDEPOSIT is the request's number, as in /deposits.",
        _ => "",
    };
    format!("Usage: {syntax}{example}")
}

fn other(e: BookError) -> CommandError {
    CommandError::Failed(wharf_sdk::Error::Other(e.to_string()))
}

/// Argument `index`, a Telegram user id.
fn user_arg(args: &[String], index: usize) -> Result<i64, Refusal> {
    let raw = args.get(index).ok_or(Refusal::Missing { what: "the user id" })?;
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| Refusal::Invalid { what: "a user id", got: raw.clone() })
}

fn balance(s: &Settings, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let user = user_arg(args, 0)?;
    let cur = s.currency();
    let book = store::book();
    let acct = book.account(user).map_err(other)?;
    let entries = usize::try_from(acct.entries).unwrap_or(usize::MAX);
    let mut text = format!(
        "User <code>{user}</code>: balance <b>{}</b>, {}",
        html(&cur.format(acct.balance)),
        count(entries, "entry", "entries")
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
    telegram::send(chat, &Outgoing::html(text))?;
    Ok(())
}

fn manual(s: &Settings, ctx: &Context, chat: i64, args: &[String], sign: i64) -> Result<(), CommandError> {
    let user = user_arg(args, 0)?;
    let cur = s.currency();
    let raw = args.get(1).ok_or(Refusal::Missing { what: "the amount" })?;
    let amount = reply::amount(&cur, raw)?;
    if !(1..=MAX_AMOUNT).contains(&amount) {
        let max = cur.format(MAX_AMOUNT);
        return Err(Refusal::Other(format!("the amount must be more than 0 and at most {max}")).into());
    }
    let reason = args.get(2..).unwrap_or_default().join(" ");
    if reason.trim().is_empty() {
        return Err(Refusal::Other("a reason is required".into()).into());
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Refusal::Other(format!("the reason must be at most {MAX_REASON} characters")).into());
    }
    let admin = ctx.user_id.unwrap_or(chat);
    // The turn id is stable when the turn re-runs, so a retry cannot post twice.
    let key = format!("{}admin:{}", crate::OWN_KEYS, ctx.turn_id);
    let posting = Posting {
        user,
        amount: sign * amount,
        reason: &reason,
        key: &key,
        actor: Some(admin),
        category: Category::Adjustment,
    };
    let entry = match store::post(&posting) {
        Ok((entry, _)) => entry,
        Err(BookError::Insufficient { balance, .. }) => {
            let msg = format!("Cannot debit {}: user {user} has {}.", cur.format(amount), cur.format(balance));
            telegram::send_text(chat, &msg)?;
            return Ok(());
        }
        Err(BookError::InvalidInput(m)) => return Err(Refusal::Other(m).into()),
        Err(e) => return Err(other(e)),
    };
    let verb = if sign > 0 { "credited" } else { "debited" };
    let balance = cur.format(entry.balance_after);
    let done = format!("Done: {} {verb} to user {user}. Balance: {balance}.", cur.format(amount));
    telegram::send_text(chat, &done)?;
    let told = format!("Your wallet was {verb} {} by an admin: {reason}. Balance: {balance}.", cur.format(amount));
    telegram::send_text(user, &told)?;
    Ok(())
}

fn reject(s: &Settings, ctx: &Context, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let raw = args.first().ok_or(Refusal::Missing { what: "the deposit's number" })?;
    let number = raw
        .trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| Refusal::Invalid { what: "a deposit number", got: raw.clone() })?;
    let reason = args.get(1..).unwrap_or_default().join(" ");
    if reason.trim().is_empty() {
        return Err(Refusal::Other("a reason is required".into()).into());
    }
    let dep = deposit::find(number)
        .map_err(|e| CommandError::Failed(e.into()))?
        .ok_or_else(|| Refusal::Other(format!("there is no deposit #{number}")))?;
    decide::reject(s, ctx, chat, dep.id, &reason).map_err(|e| CommandError::Failed(e.into()))
}

fn reconcile(s: &Settings, chat: i64, args: &[String]) -> Result<(), CommandError> {
    let book = store::book();
    let users = match args.first() {
        Some(_) => vec![user_arg(args, 0)?],
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
    telegram::send_text(chat, &reconcile_text(users.len(), &bad, &s.currency().format(total)))?;
    Ok(())
}

/// The answer to `/reconcile` over `users` users, `bad` of which do not reconcile.
fn reconcile_text(users: usize, bad: &[String], total: &str) -> String {
    if bad.is_empty() {
        let every = if users == 1 { "the balance equals" } else { "every balance equals" };
        return format!(
            "✅ Ledger reconciles: {}, {every} the sum of its entries. Total held: {total}.",
            count(users, "user", "users")
        );
    }
    let shown: Vec<String> = bad.iter().take(10).map(|b| store::short(b, 300)).collect();
    let verb = if bad.len() == 1 { "does" } else { "do" };
    format!("❌ {} of {} {verb} not reconcile:\n{}", bad.len(), count(users, "user", "users"), shown.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_shows_every_command_as_the_bot_takes_it() {
        let readme = include_str!("../../../README.md");
        for (_, syntax, _) in SYNTAX {
            assert!(readme.contains(&format!("`{syntax}`")), "README.md does not show `{syntax}`");
        }
    }

    #[test]
    fn answers_count_right() {
        assert_eq!(
            reconcile_text(1, &[], "5 PLN"),
            "✅ Ledger reconciles: 1 user, the balance equals the sum of its entries. Total held: 5 PLN."
        );
        assert!(reconcile_text(3, &[], "0 PLN").starts_with("✅ Ledger reconciles: 3 users, every balance equals"));
        assert_eq!(reconcile_text(3, &["user 7: x".into()], "0 PLN"), "❌ 1 of 3 users does not reconcile:\nuser 7: x");
        assert!(reconcile_text(3, &["a".into(), "b".into()], "0 PLN").starts_with("❌ 2 of 3 users do not"));
        assert_eq!(user_arg(&["bob".into()], 0).unwrap_err().to_string(), "\"bob\" is not a user id");
        assert_eq!(user_arg(&[], 0).unwrap_err().to_string(), "the user id is missing");
        assert!(usage("reject").starts_with("Usage: /reject DEPOSIT REASON\n"));
    }
}
