//! The referral plugin's admin views (the `admin` export): `leaderboard` (referrers by
//! earnings, the `/top` ranking with ids and full names for admins) and `referees` (one
//! user's referees, with what each brought; the `/referrals USER` record as a table).
//! Read-only; tested on the SDK's fake host below.

use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, time};

use crate::Referral;
use crate::ledger::{self, Ledger};
use crate::model::{self, Binding, Pair, Summary};
use crate::people;

/// Referrers the leaderboard shows per page.
pub const PAGE: u32 = 50;

/// The views.
pub fn spec() -> AdminSpec {
    AdminSpec::new()
        .view("leaderboard", "Leaderboard")
        .describe("Referrers by commission earned")
        .view("referees", "Referees")
        .describe("The users a referrer invited and what each brought")
        .param(Param::user_id("user", "Referrer").required())
}

/// View `leaderboard`: a page after the leaderboard key `page`.
pub fn leaderboard(cur: &Currency, page: Option<&str>) -> Result<Output, AdminError> {
    let keys = kv::page(model::TOP_PREFIX, page, PAGE)?;
    let mut table = Output::table(["User", "Name", "Earned", "Referrals", "Commissions"]);
    for key in &keys.keys {
        let Some(user) = model::top_user(key) else { continue };
        let sum: Summary = kv::get(&model::summary_key(user))?.unwrap_or_default();
        let p = people::load(user)?;
        let cells = [
            user.to_string(),
            people::name(&p, user),
            cur.format(sum.earned),
            sum.referees.to_string(),
            sum.commissions.to_string(),
        ];
        table = table.row(user.to_string(), cells);
    }
    let mut out =
        if keys.keys.is_empty() && page.is_none() { Output::text("No referral earnings yet.") } else { Output::new() };
    out = out.and(table);
    if let Some(c) = keys.cursor {
        out = out.next_page(c);
    }
    Ok(out)
}

/// View `referees` of `user`.
pub fn referees(cur: &Currency, user: i64) -> Result<Output, AdminError> {
    let sum: Summary = kv::get(&model::summary_key(user))?.unwrap_or_default();
    let p = people::load(user)?;
    let mut table = Output::table(["Referee", "Name", "Joined", "Deposits", "Earned"]);
    for key in kv::keys(&model::referees_prefix(user))? {
        let Some(id) = key.rsplit(':').next().and_then(|t| t.parse::<i64>().ok()) else { continue };
        let pair: Pair = kv::get(&model::pair_key(user, id))?.unwrap_or_default();
        let joined = kv::get::<Binding>(&model::binding_key(id))?.map(|b| time::date(b.at_ms)).unwrap_or_default();
        let rp = people::load(id)?;
        let cells = [id.to_string(), people::name(&rp, id), joined, pair.deposits.to_string(), cur.format(pair.earned)];
        table = table.row(id.to_string(), cells);
    }
    let head = Output::key_values([
        ("Referrer", format!("{user} ({})", people::name(&p, user))),
        ("Referrals", sum.referees.to_string()),
        ("Earned", cur.format(sum.earned)),
        ("Commissions", sum.commissions.to_string()),
    ]);
    Ok(head.and(table))
}

impl Admin for Referral {
    fn spec() -> AdminSpec {
        spec()
    }

    fn view(name: &str, params: &Params, page: Option<&str>, _ctx: &Context) -> Result<Output, AdminError> {
        let cur = ledger::Wallet.currency();
        match name {
            "leaderboard" => leaderboard(&cur, page),
            "referees" => referees(&cur, params.required_user_id("user")?),
            _ => Err(wharf_sdk::admin::unknown(name)),
        }
    }

    fn act(name: &str, _params: &Params, _ctx: &Context) -> Result<Output, AdminError> {
        Err(wharf_sdk::admin::unknown(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_sdk::testing::Harness;

    fn pln() -> Currency {
        Currency::new("PLN", 2)
    }

    /// Referrer 1 with referees 2 (two deposits) and 3; referrer 4 with 5.
    fn seed() {
        for (referrer, referee, earned, deposits) in [(1, 2, 300, 2), (1, 3, 0, 0), (4, 5, 100, 1)] {
            kv::set(&model::referee_key(referrer, referee), &true).unwrap();
            kv::set(&model::binding_key(referee), &Binding { referrer, at_ms: 1_700_000_000_000 }).unwrap();
            kv::set(&model::pair_key(referrer, referee), &Pair { earned, deposits }).unwrap();
        }
        kv::set(&model::summary_key(1), &Summary { referees: 2, earned: 300, commissions: 2 }).unwrap();
        kv::set(&model::summary_key(4), &Summary { referees: 1, earned: 100, commissions: 1 }).unwrap();
        kv::set(&model::top_key(300, 1), &1).unwrap();
        kv::set(&model::top_key(100, 4), &4).unwrap();
    }

    #[test]
    fn the_leaderboard_ranks_by_earnings_and_referees_list_what_each_brought() {
        let mut h = Harness::<Referral>::new();
        h.run(seed);
        let board = h.run(|| leaderboard(&pln(), None)).unwrap();
        let users: Vec<&str> = board.rows().iter().map(|r| r.cells[0].as_str()).collect();
        assert_eq!(users, ["1", "4"]);
        assert_eq!(board.rows()[0].cells[2], "3 PLN");
        let of_1 = h.run(|| referees(&pln(), 1)).unwrap();
        assert_eq!(of_1.value("Referrals"), Some("2"));
        let rows: Vec<(&str, &str)> = of_1.rows().iter().map(|r| (r.cells[0].as_str(), r.cells[4].as_str())).collect();
        assert_eq!(rows, [("2", "3 PLN"), ("3", "0 PLN")]);
        assert_eq!(of_1.rows()[0].cells[2], "2023-11-14");
        assert!(h.run(|| referees(&pln(), 9)).unwrap().rows().is_empty());
    }
}
