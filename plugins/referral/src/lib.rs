//! # referral: invite friends, earn a share of their deposits
//!
//! Every user who asks (`/referral`) gets a stable code and the link
//! `https://t.me/BOT?start=ref_CODE` (the bot's username comes from the host:
//! `settings::bot()`). A **new** user who starts the bot with it is bound to the code's
//! owner for good; from then on every deposit credited to them (the wallet's
//! `wallet.deposit` topic: manual approvals, crypto) pays the referrer a commission
//! through the wallet's ledger (grant `call:wallet`), category `bonus`, keyed by the
//! deposit, exactly once. Earnings give tiers; milestones give achievements; `/top`
//! ranks referrers.
//!
//! | module | what it does |
//! |---|---|
//! | [`settings`] | `[plugins.referral.settings]`: percent, tiers, min_referrer_deposit, cap_per_referee, show_usernames |
//! | [`code`] | codes: registration numbers scrambled into 7 base32 characters, the `ref_` payload, the link |
//! | [`model`] | records and KV keys |
//! | [`people`] | profiles, codes given, names shown or masked, achievements unlocked once |
//! | [`bind`] | `/start ref_CODE`: new users only, first referrer, never self, never a cycle |
//! | [`commission`] | `wallet.deposit` → the referrer's bonus, once per deposit |
//! | [`tiers`] | tiers, progress and achievements from a referrer's totals |
//! | [`views`] | `/referral`, the name choice, `/top` |
//! | [`admin`] | `/referrals USER` |
//! | [`notify`] | messages and the business events `referral.bound`, `referral.commission`, `referral.tier` |
//! | [`ledger`] | the wallet's ledger behind a trait (a fake in tests) |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//!
//! "New" means the host never saw the user in a private chat before this turn
//! (`settings::user_first_seen`, from the host's `users` table) and the plugin keeps no
//! record of them: users who talked to the bot before the plugin was installed are not
//! new either.

pub mod admin;
pub mod bind;
pub mod code;
pub mod commission;
pub mod ledger;
pub mod model;
pub mod notify;
pub mod panel;
pub mod people;
pub mod settings;
pub mod tiers;
pub mod views;

#[cfg(test)]
mod flows;

use wharf_sdk::prelude::*;
use wharf_sdk::{ChatKind, events, telegram};

use ledger::Ledger;
use settings::Settings;

/// The plugin.
pub struct Referral;

/// The callback namespace.
pub const PREFIX: &str = "referral";

impl Plugin for Referral {
    fn describe() -> Manifest {
        // A bad settings table stops the plugin from loading, with the reason.
        if let Err(e) = Settings::load() {
            panic!("invalid [plugins.referral.settings]: {e}");
        }
        manifest()
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        handle(event, &ctx, &ledger::Wallet)
    }
}

/// The manifest (also the test plugin's).
pub fn manifest() -> Manifest {
    Manifest::new("referral", env!("CARGO_PKG_VERSION"))
        .command("referral", "Your invitation link, referrals and earnings")
        .command("top", "Top referrers")
        .admin_command("referrals", "A user's referral record: /referrals USER")
        .callback_prefix(PREFIX)
        .topic(commission::TOPIC)
        .setting(
            "percent",
            "Commission in percent of each deposit by a referral (default 3; two decimals at most)",
            false,
        )
        .setting(
            "tiers",
            "[{ name, threshold }] by total earnings in minor units (default Bronze 0 … Diamond 500000)",
            false,
        )
        .setting(
            "min_referrer_deposit",
            "A referrer earns once their own deposits reach this, minor units (default 0)",
            false,
        )
        .setting(
            "cap_per_referee",
            "At most this much commission per referral in total, minor units (default none)",
            false,
        )
        .setting("show_usernames", "Show names in /top to users who did not choose (default false: masked)", false)
}

/// Handle one event with `ledger` as the wallet.
pub fn handle(event: Event, ctx: &Context, ledger: &dyn Ledger) -> Result<Flow, HandlerError> {
    let s = Settings::load().map_err(HandlerError::InvalidInput)?;
    match event {
        Event::Message(msg) => {
            let (Some(cmd), Some(who)) = (msg.command.as_ref(), msg.sender.as_ref()) else { return Ok(Flow::Continue) };
            let private = msg.chat.kind == ChatKind::Private;
            match cmd.name.as_str() {
                // Others (the host's greeting, other plugins) answer /start too.
                "start" if private => {
                    bind::start(who, &cmd.args, &s, ledger, ctx.now_ms)?;
                    Ok(Flow::Continue)
                }
                "referral" if private => {
                    let screen = views::referral(who, &s, ledger, ctx.now_ms)?;
                    telegram::send(msg.chat.id, &screen)?;
                    Ok(Flow::Stop)
                }
                "referral" => {
                    telegram::send_text(
                        msg.chat.id,
                        "Send /referral to me in a private chat: your link is yours alone.",
                    )?;
                    Ok(Flow::Stop)
                }
                "top" => {
                    let text = views::top(who.id, &s, &ledger.currency())?;
                    telegram::send(msg.chat.id, &Outgoing::html(text))?;
                    Ok(Flow::Stop)
                }
                "referrals" if ctx.is_admin => {
                    let text = admin::referrals(&cmd.args, &s, ledger)?;
                    telegram::send(msg.chat.id, &Outgoing::html(text))?;
                    Ok(Flow::Stop)
                }
                _ => Ok(Flow::Continue),
            }
        }
        Event::Callback(cb) => {
            match cb.data.as_str() {
                views::SHOW => views::choose(&cb, true, &s, ledger, ctx.now_ms)?,
                views::HIDE => views::choose(&cb, false, &s, ledger, ctx.now_ms)?,
                _ => telegram::answer_callback(&cb.id, None)?,
            }
            Ok(Flow::Stop)
        }
        Event::Custom(e) if e.topic == commission::TOPIC && e.source == commission::WALLET => {
            let deposit: commission::Deposit = events::decode(&e)?;
            commission::on_deposit(&deposit, &s, ledger, ctx.now_ms)?;
            Ok(Flow::Continue)
        }
        _ => Ok(Flow::Continue),
    }
}

wharf_sdk::export_plugin!(Referral);
wharf_sdk::export_admin!(Referral);
