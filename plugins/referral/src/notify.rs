//! What users are told and what the event log records: `referral.bound`,
//! `referral.commission`, `referral.tier`.

use wharf_sdk::escape::html;
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::{Error, log, telegram};

use crate::settings::Settings;
use crate::tiers::{self, Achievement};

/// Send `text` (HTML) to the private chat of `user`.
pub fn tell(user: i64, text: &str) -> Result<(), Error> {
    telegram::send(user, &Outgoing::html(text)).map(|_| ())
}

/// A referee was bound: both are told, the event recorded.
pub fn bound(referrer: i64, referee: i64, referrer_name: &str, referee_name: &str, referees: u64) -> Result<(), Error> {
    tell(
        referrer,
        &format!(
            "🎉 <b>New referral!</b> {referee_name} joined with your link.\nYour referrals: {referees}. You earn a share of every deposit they make."
        ),
    )?;
    tell(referee, &format!("🎉 <b>New referral!</b> You joined with an invitation from {referrer_name}. Welcome!"))?;
    log::Event::new("referral.bound")
        .title("New referral")
        .emoji("🤝")
        .user(referee)
        .field("referrer", referrer)
        .field("referee", referee)
        .field("referees", referees)
        .record()
}

/// What a commission was for, for the message and the event.
#[derive(Debug, Clone)]
pub struct Paid<'a> {
    /// Who earned it.
    pub referrer: i64,
    /// Whose deposit it was.
    pub referee: i64,
    /// The referee as the referrer reads their name.
    pub referee_name: &'a str,
    /// The deposit's amount.
    pub deposit: i64,
    /// The commission.
    pub amount: i64,
    /// The referrer's earnings with it.
    pub earned: i64,
    /// The ledger key of the bonus.
    pub key: &'a str,
    /// Whether `cap_per_referee` cut it.
    pub capped: bool,
}

/// A commission was credited: the referrer is told, the event recorded.
pub fn commission(p: &Paid<'_>, s: &Settings, cur: &Currency) -> Result<(), Error> {
    let cap = if p.capped { " (the most one referral can bring)" } else { "" };
    tell(
        p.referrer,
        &format!(
            "💸 <b>Referral bonus: +{}</b>{cap}\n{} of a {} deposit by {}.\nEarned so far: {}",
            cur.format(p.amount),
            s.percent_text(),
            cur.format(p.deposit),
            p.referee_name,
            cur.format(p.earned),
        ),
    )?;
    log::Event::new("referral.commission")
        .title("Referral commission")
        .emoji("💸")
        .user(p.referrer)
        .field("referee", p.referee)
        .field("deposit", cur.format(p.deposit))
        .field("commission", cur.format(p.amount))
        .field("earned", cur.format(p.earned))
        .field("key", p.key)
        .record()
}

/// Achievements were unlocked: one message each; a tier's also records `referral.tier`.
pub fn unlocked(user: i64, new: &[Achievement], s: &Settings, cur: &Currency, earned: i64) -> Result<(), Error> {
    for a in new {
        match a.tier {
            Some(i) => {
                let next = match s.tiers.get(i + 1) {
                    Some(n) => format!("Next: {} at {}.", html(&n.name), cur.format(n.threshold)),
                    None => "That is the top tier.".into(),
                };
                tell(
                    user,
                    &format!(
                        "{} <b>New tier: {}!</b> You have earned {} with referrals. {next}",
                        tiers::tier_emoji(i),
                        html(&s.tiers[i].name),
                        cur.format(earned)
                    ),
                )?;
                log::Event::new("referral.tier")
                    .title("Referral tier reached")
                    .emoji(tiers::tier_emoji(i))
                    .user(user)
                    .field("tier", &s.tiers[i].name)
                    .field("earned", cur.format(earned))
                    .record()?;
            }
            None => tell(user, &format!("🏅 <b>Achievement unlocked:</b> {}", html(&a.badge())))?,
        }
    }
    Ok(())
}
