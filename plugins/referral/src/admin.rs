//! `/referrals USER` (admins): one user's referral record, with the totals checked
//! against the commission records they sum up.

use wharf_sdk::escape::html;
use wharf_sdk::{Error, kv, time};

use crate::ledger::Ledger;
use crate::model::{self, Binding, Commission, Pair, Summary, UserRef};
use crate::people;
use crate::settings::Settings;
use crate::tiers;
use crate::views;

/// How the command is used.
pub const USAGE: &str = "Usage: /referrals USER (a user id or @username)";
/// Referees listed at most.
const LISTED: usize = 30;

/// The answer to `/referrals ARGS`.
pub fn referrals(args: &str, s: &Settings, ledger: &dyn Ledger) -> Result<String, Error> {
    let Some(who) = UserRef::parse(args) else {
        return Ok(if args.trim().is_empty() {
            USAGE.into()
        } else {
            format!("{} is not a user id or @username.\n{USAGE}", html(&wharf_sdk::text::quote(args.trim())))
        });
    };
    let user = match who {
        UserRef::Id(id) => id,
        UserRef::Name(name) => match kv::get::<i64>(&model::username_key(&name))? {
            Some(id) => id,
            None => return Ok(format!("No user @{} is known to the referral plugin.", html(&name))),
        },
    };
    let cur = ledger.currency();
    let p = people::load(user)?;
    let binding: Option<Binding> = kv::get(&model::binding_key(user))?;
    let sum: Summary = kv::get(&model::summary_key(user))?.unwrap_or_default();
    if p == model::Profile::default() && binding.is_none() && sum == Summary::default() {
        return Ok(format!("User {user} has no referral record."));
    }
    let mut out = format!("👤 <b>Referrals of user {user}</b> ({}", people::name(&p, user));
    if let Some(u) = &p.username {
        out.push_str(&format!(", @{}", html(u)));
    }
    out.push_str(")\n");
    let code = p.code.as_deref().map_or("none yet".to_owned(), |c| format!("{}{c}", crate::code::PAYLOAD_PREFIX));
    out.push_str(&format!("Code: {code}\n"));
    match binding {
        Some(b) => {
            let by = people::load(b.referrer)?;
            out.push_str(&format!(
                "Invited by: {} ({}), {}\n",
                b.referrer,
                people::name(&by, b.referrer),
                time::date(b.at_ms)
            ));
        }
        None => out.push_str("Invited by: nobody\n"),
    }
    let referees = kv::keys(&model::referees_prefix(user))?;
    out.push_str(&format!("Referrals: {}\n", referees.len()));
    for key in referees.iter().take(LISTED) {
        let Some(id) = key.rsplit(':').next().and_then(|t| t.parse::<i64>().ok()) else { continue };
        let pair: Pair = kv::get(&model::pair_key(user, id))?.unwrap_or_default();
        let rp = people::load(id)?;
        out.push_str(&format!(
            " · {id} ({}): {}\n",
            people::name(&rp, id),
            if pair.deposits == 0 {
                "no commission yet".to_owned()
            } else {
                format!(
                    "{} from {}",
                    cur.format(pair.earned),
                    wharf_sdk::text::count(usize::try_from(pair.deposits).unwrap_or(0), "deposit", "deposits")
                )
            }
        ));
    }
    if referees.len() > LISTED {
        out.push_str(&format!(" · …and {} more\n", referees.len() - LISTED));
    }
    // The totals against the records they sum up.
    let records: Vec<Commission> = kv::values(&model::commissions_prefix(user))?;
    let total: i64 = records.iter().map(|c| c.amount).sum();
    out.push_str(&format!(
        "Earned: {} in {}\n",
        cur.format(sum.earned),
        wharf_sdk::text::count(usize::try_from(sum.commissions).unwrap_or(0), "commission", "commissions")
    ));
    let count_ok = u64::try_from(records.len()).is_ok_and(|n| n == sum.commissions);
    let referees_ok = u64::try_from(referees.len()).is_ok_and(|n| n == sum.referees);
    if total == sum.earned && count_ok && referees_ok {
        out.push_str(&format!("Records: {} commission records, {} ✓\n", records.len(), cur.format(total)));
    } else {
        out.push_str(&format!(
            "⚠️ Records: {} commission records, {}, {} referees; the totals say {}, {}, {}\n",
            records.len(),
            cur.format(total),
            referees.len(),
            sum.commissions,
            cur.format(sum.earned),
            sum.referees
        ));
    }
    let st = tiers::standing(s, sum.earned);
    out.push_str(&format!("Tier: {} {}\n", tiers::tier_emoji(st.index), html(&st.tier.name)));
    out.push_str(&format!("Badges: {}", views::badges(&p, s)));
    Ok(out)
}
