//! `wharf chat`'s local blockchains: every plugin whose settings list `chains = [{ coin,
//! explorer, … }]` (the crypto plugin's) watches a bundled explorer emulator per chain
//! instead of its configured explorer, and `/chain …` typed into chat acts on them:
//!
//! | typed | does |
//! |---|---|
//! | `/chain pay AMOUNT COIN [ADDRESS]` | a mempool payment of AMOUNT coins to the current user's deposit address (or ADDRESS) |
//! | `/chain mine [N] [COIN]` | mines N blocks (default 1) on COIN's chain (default: every chain) |
//! | `/chain reorg N [COIN]` | replaces the last N blocks; their transactions go back to the mempool |
//! | `/chain` | the chains, their tips and mempools |
//!
//! After each, the plugin's watcher runs at once (its `poll` timer is fired), as its next
//! tick would, so nobody waits for the poll interval.

use anyhow::Context as _;

use crate::Runtime;
use crate::config::{Config, HttpHost};
use crate::event::{Event, TimerFired};
use crate::explorer::Explorer;

/// One chain of one plugin, served by an emulator.
struct Sim {
    plugin: String,
    coin: String,
    explorer: Explorer,
}

/// The chains of the session.
#[derive(Default)]
pub(super) struct Chains {
    sims: Vec<Sim>,
}

impl Chains {
    /// Start an explorer per configured chain and point the config at them.
    pub(super) async fn start(config: &mut Config) -> anyhow::Result<Self> {
        let mut sims = Vec::new();
        for (name, plugin) in config.plugins.iter_mut() {
            let plugin = plugin.get_mut();
            let Some((_, toml::Value::Array(chains))) =
                plugin.settings.iter_mut().find(|(k, _)| k.get_ref() == "chains")
            else {
                continue;
            };
            for chain in chains.iter_mut() {
                let toml::Value::Table(t) = chain else { continue };
                if !t.contains_key("explorer") {
                    continue;
                }
                let coin = t.get("coin").and_then(|c| c.as_str()).unwrap_or("?").to_ascii_uppercase();
                let explorer =
                    Explorer::start(([127, 0, 0, 1], 0).into()).await.context("starting an explorer emulator")?;
                t.insert("explorer".into(), toml::Value::String(explorer.url()));
                let host =
                    HttpHost::parse(&format!("127.0.0.1:{}", explorer.addr().port())).map_err(anyhow::Error::msg)?;
                plugin.http.push(host);
                sims.push(Sim { plugin: name.to_string(), coin, explorer });
            }
        }
        Ok(Self { sims })
    }

    /// Whether any plugin watches a chain.
    pub(super) fn is_empty(&self) -> bool {
        self.sims.is_empty()
    }

    /// Handle `/chain ARGS` typed by `user`; returns the lines to print.
    pub(super) async fn command(&self, runtime: &Runtime, user: i64, args: &str) -> anyhow::Result<Vec<String>> {
        if self.sims.is_empty() {
            return Ok(vec!["no plugin watches a chain in this config".into()]);
        }
        let words: Vec<&str> = args.split_whitespace().collect();
        let out = match words.as_slice() {
            [] => self.status(),
            ["pay", amount, coin, rest @ ..] => match self.sim(coin) {
                None => vec![self.unknown(coin)],
                Some(sim) => self.pay(runtime, sim, user, amount, rest.first().copied()).await?,
            },
            ["mine", rest @ ..] => {
                let (n, coin) = match rest {
                    [] => (Some(1), None),
                    [n] if n.parse::<u32>().is_ok() => (n.parse().ok(), None),
                    [coin] => (Some(1), Some(*coin)),
                    [n, coin] => (n.parse().ok(), Some(*coin)),
                    _ => (None, None),
                };
                match n.filter(|n| (1..=100).contains(n)) {
                    None => vec!["/chain mine [N] [COIN]: N is 1 to 100".into()],
                    Some(n) => self.each(coin, |s| {
                        s.explorer.mine(n);
                        format!("{}: mined {n} block(s), tip at {}", s.coin, s.explorer.tip_height())
                    }),
                }
            }
            ["reorg", n, rest @ ..] => match n.parse::<u32>().ok().filter(|n| (1..=10).contains(n)) {
                None => vec!["/chain reorg N [COIN]: N is 1 to 10".into()],
                Some(n) => self.each(rest.first().copied(), |s| {
                    s.explorer.reorg(n);
                    format!("{}: the last {n} block(s) replaced; their transactions are back in the mempool", s.coin)
                }),
            },
            _ => vec![
                "/chain pay AMOUNT COIN [ADDRESS] | /chain mine [N] [COIN] | /chain reorg N [COIN] | /chain".into(),
            ],
        };
        self.run_watchers(runtime).await?;
        Ok(out)
    }

    fn sim(&self, coin: &str) -> Option<&Sim> {
        self.sims.iter().find(|s| s.coin.eq_ignore_ascii_case(coin))
    }

    fn unknown(&self, coin: &str) -> String {
        let known: Vec<&str> = self.sims.iter().map(|s| s.coin.as_str()).collect();
        format!("no chain {coin:?}; the chains are {}", known.join(", "))
    }

    fn each(&self, coin: Option<&str>, mut f: impl FnMut(&Sim) -> String) -> Vec<String> {
        match coin {
            Some(c) => self.sim(c).map_or_else(|| vec![self.unknown(c)], |s| vec![f(s)]),
            None => self.sims.iter().map(f).collect(),
        }
    }

    fn status(&self) -> Vec<String> {
        self.sims
            .iter()
            .map(|s| {
                format!("{} ({}): tip at {}, explorer {}", s.coin, s.plugin, s.explorer.tip_height(), s.explorer.url())
            })
            .collect()
    }

    async fn pay(
        &self,
        runtime: &Runtime,
        sim: &Sim,
        user: i64,
        amount: &str,
        to: Option<&str>,
    ) -> anyhow::Result<Vec<String>> {
        let Some(sats) = base_units(amount) else {
            return Ok(vec![format!("{amount:?} is not an amount of coins like 0.001 (at most 8 decimals)")]);
        };
        let address = match to {
            Some(a) => a.to_owned(),
            None => {
                let key = format!("addr:{}:{user}", sim.coin);
                let (bytes, _) = runtime.storage().kv_get(&sim.plugin, &key).await?;
                let found = bytes
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| v["address"].as_str().map(str::to_owned));
                match found {
                    Some(a) => a,
                    None => {
                        return Ok(vec![format!(
                            "user {user} has no {} deposit address yet: ask the bot for one first, or give an address",
                            sim.coin
                        )]);
                    }
                }
            }
        };
        let txid = sim.explorer.pay(&[(address.as_str(), sats)]);
        Ok(vec![format!("{}: {amount} {} to {address} is in the mempool (tx {}…)", sim.coin, sim.coin, &txid[..12])])
    }

    /// Fire each watching plugin's `poll` timer, as its next tick would.
    async fn run_watchers(&self, runtime: &Runtime) -> anyhow::Result<()> {
        let mut plugins: Vec<&str> = self.sims.iter().map(|s| s.plugin.as_str()).collect();
        plugins.dedup();
        let now = runtime.clock().now_ms();
        let events: Vec<(i64, Option<String>, Event)> = plugins
            .into_iter()
            .map(|p| {
                let fired = TimerFired { name: "poll".into(), payload: Vec::new(), due_at: now, repeating: true };
                (0, Some(p.to_owned()), Event::Timer(fired))
            })
            .collect();
        runtime.enqueue_many(&events).await
    }
}

/// `0.001` coins in base units (10^-8), exactly; `None` for anything else.
fn base_units(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 8 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: u64 = format!("{frac:0<8}").parse().ok()?;
    whole.parse::<u64>().ok()?.checked_mul(100_000_000)?.checked_add(frac).filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::base_units;

    #[test]
    fn amounts_are_exact_base_units() {
        assert_eq!(base_units("0.001"), Some(100_000));
        assert_eq!(base_units("1"), Some(100_000_000));
        assert_eq!(base_units("0.00000001"), Some(1));
        for bad in ["", "0", "0.000000001", "-1", "1e3", ".5", "abc"] {
            assert_eq!(base_units(bad), None, "{bad}");
        }
    }
}
