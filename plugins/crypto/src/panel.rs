//! The crypto plugin's admin views (the `admin` export): `payments` (the latest payments
//! with their state, filterable by state and user) and `addresses` (issued deposit
//! addresses, masked as the event log masks them). Read-only; the logic over records is
//! unit-tested below.

use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, time};

use crate::Crypto;
use crate::model::{Assigned, Payment, State};
use crate::rates::coins;

/// Rows a view shows at most.
pub const ROWS: usize = 200;
/// States as the `state` parameter names them.
pub const STATES: [&str; 4] = ["pending", "credited", "dropped", "below_minimum"];

/// `bc1qxy•••0wlh`: an address as the event log shows it (6 first, 4 last characters).
pub fn mask(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 10 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}•••{tail}")
}

/// A state's name.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::Pending => STATES[0],
        State::Credited => STATES[1],
        State::Dropped => STATES[2],
        State::BelowMinimum => STATES[3],
    }
}

/// The views.
pub fn spec() -> AdminSpec {
    AdminSpec::new()
        .view("payments", "Payments")
        .describe("The latest payments to users' addresses and where each stands")
        .param(Param::choice("state", "State", &STATES))
        .param(Param::user_id("user", "User"))
        .view("addresses", "Addresses")
        .describe("Deposit addresses issued to users (masked)")
        .param(Param::user_id("user", "User"))
}

/// View `payments` over `all`: newest first, at most [`ROWS`].
pub fn payments(mut all: Vec<Payment>, state: Option<&str>, user: Option<i64>) -> Output {
    all.retain(|p| state.is_none_or(|s| state_name(p.state) == s) && user.is_none_or(|u| p.user == u));
    all.sort_by(|a, b| b.first_seen_ms.cmp(&a.first_seen_ms).then_with(|| a.id().cmp(&b.id())));
    let total = all.len();
    let mut table = Output::table(["Payment", "User", "Amount", "Address", "State", "Credited", "First seen"]);
    for p in all.iter().take(ROWS) {
        let credited = p.credit.as_ref().map(|c| format!("{} (entry {})", c.amount, c.seq)).unwrap_or_default();
        table = table.row(
            p.id(),
            [
                format!("{}:{}", p.txid, p.vout),
                p.user.to_string(),
                coins(p.sats, p.coin),
                mask(&p.address),
                state_name(p.state).to_owned(),
                credited,
                time::date_time(p.first_seen_ms),
            ],
        );
    }
    let shown = total.min(ROWS);
    Output::text(format!("{total} payments match; the newest {shown} are shown.")).and(table)
}

/// View `addresses` over `(coin code, user, assigned)`.
pub fn addresses(all: Vec<(String, i64, Assigned)>, user: Option<i64>) -> Output {
    let mut table = Output::table(["Coin", "User", "Address", "Index", "Issued"]);
    let mut n = 0;
    for (coin, u, a) in all.into_iter().filter(|(_, u, _)| user.is_none_or(|w| *u == w)) {
        n += 1;
        if n <= ROWS {
            let cells = [coin, u.to_string(), mask(&a.address), a.index.to_string(), time::date_time(a.issued_ms)];
            table = table.plain_row(cells);
        }
    }
    Output::text(format!("{n} addresses issued.")).and(table)
}

impl Admin for Crypto {
    fn spec() -> AdminSpec {
        spec()
    }

    fn view(name: &str, params: &Params, _page: Option<&str>, _ctx: &Context) -> Result<Output, AdminError> {
        let user = params.user_id("user");
        match name {
            "payments" => Ok(payments(kv::values::<Payment>("pay:")?, params.text("state"), user)),
            "addresses" => {
                let mut all = Vec::new();
                for key in kv::keys("addr:")? {
                    // `addr:{coin}:{user}`
                    let mut parts = key.splitn(3, ':').skip(1);
                    let (Some(coin), Some(u)) = (parts.next(), parts.next().and_then(|u| u.parse().ok())) else {
                        continue;
                    };
                    if let Some(a) = kv::get::<Assigned>(&key)? {
                        all.push((coin.to_owned(), u, a));
                    }
                }
                Ok(addresses(all, user))
            }
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
    use crate::keys::Coin;

    fn pay(txid: &str, user: i64, seen: i64, state: State) -> Payment {
        let mut p =
            Payment::seen(Coin::Btc, txid, 0, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", user, 150_000, seen);
        p.state = state;
        p
    }

    #[test]
    fn payments_come_newest_first_filtered_with_masked_addresses() {
        let all =
            vec![pay("aa", 1, 10, State::Credited), pay("bb", 2, 30, State::Pending), pay("cc", 1, 20, State::Pending)];
        let out = payments(all.clone(), None, None);
        let txids: Vec<&str> = out.rows().iter().map(|r| r.cells[0].as_str()).collect();
        assert_eq!(txids, ["bb:0", "cc:0", "aa:0"]);
        assert_eq!(out.rows()[0].cells[3], "bc1qw5•••f3t4");
        assert!(!out.rows().iter().any(|r| r.cells.iter().any(|c| c.contains("508d6q"))));
        let pending_of_1 = payments(all, Some("pending"), Some(1));
        assert_eq!(pending_of_1.rows().len(), 1);
        assert_eq!(pending_of_1.rows()[0].cells[4], "pending");
    }

    #[test]
    fn addresses_filter_by_user_and_mask() {
        let a = |addr: &str| Assigned { address: addr.into(), index: 3, key_id: "k".into(), issued_ms: 0 };
        let all = vec![("BTC".into(), 1, a("bc1qexampleexampleexample")), ("LTC".into(), 2, a("ltc1qexampleexample"))];
        let out = addresses(all, Some(2));
        assert_eq!(out.rows().len(), 1);
        assert_eq!(out.rows()[0].cells[..3], ["LTC".to_owned(), "2".to_owned(), "ltc1qe•••mple".to_owned()]);
        assert_eq!(mask("short"), "•••••");
    }
}
