//! What users ask for: `/referral` (link, referrals, earnings, tier, progress, badges,
//! the choice of showing one's name on the leaderboard) and `/top`.

use wharf_sdk::escape::html;
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::{Error, User, kv, settings, telegram};

use crate::commission;
use crate::ledger::Ledger;
use crate::model::{self, Profile, Summary};
use crate::people;
use crate::settings::Settings;
use crate::tiers;

/// Rows on the leaderboard.
pub const TOP: u32 = 10;
/// Callback data of the name choice.
pub const SHOW: &str = "name:show";
/// Callback data of the name choice.
pub const HIDE: &str = "name:hide";

/// The `/referral` screen of `who` (giving them a code if they have none).
pub fn referral(who: &User, s: &Settings, ledger: &dyn Ledger, now_ms: i64) -> Result<Outgoing, Error> {
    let mut p = people::touch(who)?;
    let code = people::ensure_code(who.id, &mut p)?;
    let sum: Summary = kv::get(&model::summary_key(who.id))?.unwrap_or_default();
    let cur = ledger.currency();
    let mut text = match settings::bot() {
        Some(bot) => format!("👥 <b>Your referral link</b>\n{}\n", crate::code::link(&bot.username, &code)),
        None => format!(
            "👥 <b>Your referral code</b>: <code>{}{code}</code>\n(the link appears once the bot is connected to Telegram)\n",
            crate::code::PAYLOAD_PREFIX
        ),
    };
    text.push_str(&format!(
        "Friends who start the bot with it become your referrals, and you get {} of every deposit they make{}.\n",
        s.percent_text(),
        s.cap_per_referee.map(|c| format!(" (up to {} per referral)", cur.format(c))).unwrap_or_default()
    ));
    if !commission::qualified(who.id, s, ledger, now_ms)? {
        text.push_str(&format!(
            "You start earning once your own deposits reach {}.\n",
            cur.format(s.min_referrer_deposit)
        ));
    }
    text.push('\n');
    text.push_str(&standing(&p, &sum, s, &cur));
    let show = p.show_name.unwrap_or(s.show_usernames);
    let kb = if show {
        Keyboard::new().button("🙈 Hide my name in /top", HIDE)
    } else {
        Keyboard::new().button("👁 Show my name in /top", SHOW)
    };
    Ok(Outgoing::html(text).keyboard(kb))
}

/// Referrals, earnings, tier, progress and badges.
fn standing(p: &Profile, sum: &Summary, s: &Settings, cur: &Currency) -> String {
    let st = tiers::standing(s, sum.earned);
    let mut out = format!(
        "Referrals: {}\nEarned: {}\nTier: {} {}\n",
        sum.referees,
        cur.format(sum.earned),
        tiers::tier_emoji(st.index),
        html(&st.tier.name)
    );
    match st.next {
        Some(next) => out.push_str(&format!(
            "Progress: {} {}% · {} to {} {} ({})\n",
            tiers::bar(st.percent),
            st.percent,
            cur.format(next.threshold.saturating_sub(sum.earned)),
            tiers::tier_emoji(st.index + 1),
            html(&next.name),
            cur.format(next.threshold)
        )),
        None => out.push_str("Progress: the top tier 🏆\n"),
    }
    out.push_str(&format!("Badges: {}", badges(p, s)));
    out
}

/// The user's badges, in the order unlocked (those of one moment in the order they are
/// reached): `🤝 First referral · 💸 First commission`.
pub fn badges(p: &Profile, s: &Settings) -> String {
    let mut got: Vec<(i64, usize, &String)> =
        p.achievements.iter().map(|(id, at)| (*at, tiers::position(s, id), id)).collect();
    got.sort();
    if got.is_empty() {
        return "none yet".into();
    }
    got.iter().map(|(_, _, id)| html(&tiers::describe(s, id).badge())).collect::<Vec<_>>().join(" · ")
}

/// A press on the name choice: store it and show the screen again.
pub fn choose(cb: &CallbackQuery, show: bool, s: &Settings, ledger: &dyn Ledger, now_ms: i64) -> Result<(), Error> {
    let mut p = people::touch(&cb.sender)?;
    p.show_name = Some(show);
    people::save(cb.sender.id, &p)?;
    let said = if show { "Your name is shown in /top." } else { "Your name is masked in /top." };
    telegram::answer_callback(&cb.id, Some(said))?;
    let chat = cb.chat.as_ref().map_or(cb.sender.id, |c| c.id);
    let screen = referral(&cb.sender, s, ledger, now_ms)?;
    match cb.message_id {
        Some(id) => telegram::edit(chat, id, &screen),
        None => telegram::send(chat, &screen).map(|_| ()),
    }
}

/// The `/top` leaderboard, as `viewer` sees it.
pub fn top(viewer: i64, s: &Settings, cur: &Currency) -> Result<String, Error> {
    let page = kv::page(model::TOP_PREFIX, None, TOP)?;
    if page.keys.is_empty() {
        return Ok("🏆 No referral earnings yet. Invite friends with /referral.".into());
    }
    let mut out = String::from("🏆 <b>Top referrers</b>\n");
    let mut listed = false;
    for (i, key) in page.keys.iter().enumerate() {
        let Some(user) = model::top_user(key) else { continue };
        let sum: Summary = kv::get(&model::summary_key(user))?.unwrap_or_default();
        let p = people::load(user)?;
        let you = if user == viewer { " ← you" } else { "" };
        listed |= user == viewer;
        out.push_str(&format!(
            "{}. {} · {} · {}{you}\n",
            i + 1,
            people::shown(&p, user, s),
            cur.format(sum.earned),
            wharf_sdk::text::count(usize::try_from(sum.referees).unwrap_or(usize::MAX), "referral", "referrals"),
        ));
    }
    if !listed {
        let sum: Summary = kv::get(&model::summary_key(viewer))?.unwrap_or_default();
        out.push_str(&format!("You: {} earned", cur.format(sum.earned)));
    }
    Ok(out.trim_end().to_owned())
}
