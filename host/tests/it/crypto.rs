//! Crypto deposits end to end, through both emulators: the Bot API emulator for the
//! users and the explorer emulator for the chain. The wallet and the crypto plugin run
//! as shipped; time moves on the manual clock, one watcher run per 30 s tick.

use std::sync::Arc;
use std::time::Duration;

use wharf::config::{Config, TelegramConfig};
use wharf::explorer::{Explorer, Fault};
use wharf::metrics::HttpOutcome;
use wharf::telegram::Telegram;
use wharf::telegram::emulator::Emulator;
use wharf::telegram::limits::RateLimits;
use wharf::{Runtime, RuntimeOptions};

use crate::common::*;
use crate::market::{ADMIN, WAIT, buttons, until};

/// BIP84's published account key ("abandon … about", m/84'/0'/0').
pub const BTC_KEY: &str =
    "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
/// Its first receive address.
pub const BTC_FIRST: &str = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
/// The same mnemonic's Litecoin account key (m/84'/2'/0').
pub const LTC_KEY: &str =
    "zpub6rPo5mF47z5coVm5rvWv7fv181awb7Vckn5Cf3xQXBVKu18kuBHDhNi1Jrb4br6vVD3ZbrnXemEsWJoR18mZwkUdzwD8TQnHDUCGxqZ6swA";
/// Its first receive address (computed with bip-utils; also in EdgeApp's fixtures).
pub const LTC_FIRST: &str = "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh";
const TOKEN: &str = "123456:CRYPTO-TOKEN-secret";
/// The watcher's interval in these tests.
const POLL: Duration = Duration::from_secs(30);

/// A bot with the wallet and the crypto plugin, both emulators, restartable.
pub struct Deposits {
    pub emu: Emulator,
    pub btc: Explorer,
    pub ltc: Explorer,
    dir: tempfile::TempDir,
    text: String,
    pub rt: Runtime,
    tg: Telegram,
}

/// The plugin tables: the wallet (with Bitcoin and Litecoin among its methods) and the
/// crypto plugin watching `btc` and `ltc`; `extra` goes under `[plugins.crypto.settings]`.
pub fn tables(btc: &Explorer, ltc: &Explorer, extra: &str) -> String {
    tables_with(btc, ltc, extra, "source = \"fixed\"\nfixed = { BTC = \"400000.00\", LTC = \"350.00\" }")
}

/// [`tables`] with `rates` as the body of `[plugins.crypto.settings.rates]`.
pub fn tables_with(btc: &Explorer, ltc: &Explorer, extra: &str, rates: &str) -> String {
    let port = |e: &Explorer| e.addr().port();
    format!(
        r#"{wallet}[plugins.wallet.settings]
min_deposit = 100
methods = [
    {{ id = "blik", name = "BLIK", instructions = "BLIK to +48 500 000 000" }},
    {{ id = "btc", name = "Bitcoin", plugin = "crypto" }},
    {{ id = "ltc", name = "Litecoin", plugin = "crypto" }},
]
{crypto}[plugins.crypto.settings]
poll_seconds = 30
alert_after_minutes = 5
{extra}
[[plugins.crypto.settings.chains]]
coin = "BTC"
xpub = "{BTC_KEY}"
explorer = "{btc_url}"
confirmations = 2
min_amount = 10000
[[plugins.crypto.settings.chains]]
coin = "LTC"
xpub = "{LTC_KEY}"
explorer = "{ltc_url}"
confirmations = 2
min_amount = 10000
[plugins.crypto.settings.rates]
{rates}
"#,
        wallet = plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#),
        crypto = plugin(
            "crypto",
            "crypto",
            &format!(
                "grants = [\"kv\", \"telegram.send\", \"scheduler\", \"call:wallet\"]\nhttp = [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]\nlimits = {{ timeout_ms = 20000 }}",
                port(btc),
                port(ltc)
            )
        ),
        btc_url = btc.url(),
        ltc_url = ltc.url(),
    )
}

impl Deposits {
    pub async fn start(extra: &str) -> Arc<Self> {
        Arc::new(Self::start_owned(extra).await)
    }

    /// With more plugin tables (e.g. the referral plugin) after the wallet's and crypto's.
    pub async fn start_with(extra: &str, more_tables: &str) -> Arc<Self> {
        Arc::new(Self::start_from(extra, more_tables, false).await)
    }

    async fn start_owned(extra: &str) -> Self {
        Self::start_from(extra, "", false).await
    }

    /// `more_tables` are added to the config. With `coingecko`, rates come from the BTC
    /// explorer emulator's CoinGecko endpoint (BTC 400000.00 and LTC 350.00 PLN at
    /// first), at most 600 s old.
    async fn start_from(extra: &str, more_tables: &str, coingecko: bool) -> Self {
        let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
        emu.enforce_limits(Some(RateLimits::default().scaled(10_000.0)));
        let btc = Explorer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let ltc = Explorer::start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tables = if coingecko {
            btc.set_rate("bitcoin", "pln", "400000.00");
            btc.set_rate("litecoin", "pln", "350.00");
            let rates = format!("source = \"coingecko\"\nurl = \"{}\"\nmax_age_seconds = 600", btc.rates_url());
            tables_with(&btc, &ltc, extra, &rates)
        } else {
            tables(&btc, &ltc, extra)
        } + more_tables;
        let text = config_text_with(dir.path(), &Db::Sqlite, &[ADMIN], &tables, "");
        let rt = Self::runtime(&dir, &text, T0).await;
        let tg = Self::telegram(&rt, &emu).await;
        Self { emu, btc, ltc, dir, text, rt, tg }
    }

    async fn runtime(dir: &tempfile::TempDir, text: &str, now: i64) -> Runtime {
        let config = Config::parse(text, dir.path()).unwrap();
        let rt =
            Runtime::start(&config, RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..Default::default() })
                .await
                .expect("the bot starts");
        rt.clock().advance(Duration::from_millis(u64::try_from(now - T0).unwrap()));
        rt
    }

    async fn telegram(rt: &Runtime, emu: &Emulator) -> Telegram {
        let mut cfg = TelegramConfig::polling(&emu.api_url());
        cfg.limits = RateLimits::default().scaled(10_000.0);
        Telegram::start(rt.link(), &cfg, TOKEN).await.unwrap()
    }

    /// Stop the bot and start it again on the same database, clock where it was.
    pub async fn restart(self) -> Self {
        let now = self.rt.clock().now_ms();
        self.tg.stop().await;
        self.rt.shutdown().await;
        let rt = Self::runtime(&self.dir, &self.text, now).await;
        let tg = Self::telegram(&rt, &self.emu).await;
        Self { rt, tg, ..self }
    }

    /// One watcher run: the clock moves by the poll interval, the bot goes idle.
    pub async fn tick(&self) {
        self.rt.clock().advance(POLL);
        self.rt.wait_idle(IDLE).await.unwrap();
    }

    /// Wait until `chat` has a message (new or edited) containing `expect`; returns its text.
    pub async fn expect(&self, chat: i64, expect: &str) -> String {
        let found = |e: &Emulator| e.sent(chat).into_iter().rev().find(|m| m.text.contains(expect)).map(|m| m.text);
        let ok = self.emu.wait_sent(WAIT, |e| found(e).is_some()).await;
        assert!(ok, "chat {chat} got nothing containing {expect:?}: {:#?}", self.emu.texts(chat));
        found(&self.emu).unwrap()
    }

    /// `user` sends `text` and gets an answer containing `expect`.
    pub async fn say(&self, user: i64, text: &str, expect: &str) -> String {
        let before = self.emu.sent(user).len();
        self.emu.send_text(user, text);
        let ok = self.emu.wait_sent(WAIT, |e| e.sent(user).iter().skip(before).any(|m| m.text.contains(expect))).await;
        assert!(ok, "{user} said {text:?}, got nothing containing {expect:?}: {:#?}", self.emu.texts(user));
        self.emu.sent(user).into_iter().skip(before).find(|m| m.text.contains(expect)).unwrap().text
    }

    /// `user` taps the newest button labelled `label`; returns the answer containing `expect`.
    pub async fn tap(&self, user: i64, label: &str, expect: &str) -> String {
        let (id, data) = self
            .emu
            .sent(user)
            .iter()
            .rev()
            .find_map(|m| buttons(m).into_iter().find(|(t, _)| t.contains(label)).map(|(_, d)| (m.message_id, d)))
            .unwrap_or_else(|| panic!("user {user} sees no button {label:?}"));
        let before = self.emu.sent(user).len();
        self.emu.press(user, id, &data);
        let ok = self.emu.wait_sent(WAIT, |e| e.sent(user).iter().skip(before).any(|m| m.text.contains(expect))).await;
        assert!(ok, "{user} tapped {label:?}, got nothing containing {expect:?}: {:#?}", self.emu.texts(user));
        self.emu.sent(user).into_iter().skip(before).find(|m| m.text.contains(expect)).unwrap().text
    }

    /// `user` asks for their address the way users do: /wallet → Deposit → `coin_name`.
    pub async fn address(&self, user: i64, coin_name: &str) -> String {
        self.say(user, "/wallet", "Your wallet").await;
        self.tap(user, "Deposit", "How do you want to pay?").await;
        let screen = self.tap(user, coin_name, &format!("{coin_name} deposit")).await;
        code(&screen)
    }

    /// A user's balance in minor units, from the wallet's records.
    pub async fn balance(&self, user: i64) -> i64 {
        let (bytes, _) = self.rt.storage().kv_get("wallet", &format!("acct:{user}")).await.unwrap();
        bytes.map_or(0, |b| serde_json::from_slice::<serde_json::Value>(&b).unwrap()["balance"].as_i64().unwrap())
    }

    /// The user's ledger entries (JSON), oldest first.
    pub async fn entries(&self, user: i64) -> Vec<serde_json::Value> {
        let keys = self.rt.storage().kv_keys("wallet", &format!("ent:{user}:"), None, 1000).await.unwrap();
        let mut out = Vec::new();
        for k in keys {
            let (b, _) = self.rt.storage().kv_get("wallet", &k).await.unwrap();
            out.push(serde_json::from_slice(&b.unwrap()).unwrap());
        }
        out
    }

    /// Business events so far: (kind, user, fields as JSON).
    pub async fn events(&self) -> Vec<(String, Option<i64>, serde_json::Value)> {
        let rows = self.rt.storage().event_log().await.unwrap();
        rows.into_iter().map(|r| (r.kind, r.user_id, serde_json::to_value(&r.fields).unwrap())).collect()
    }

    pub async fn kinds(&self, prefix: &str) -> Vec<String> {
        self.events().await.into_iter().map(|(k, ..)| k).filter(|k| k.starts_with(prefix)).collect()
    }
}

/// The text inside the first `<code>…</code>`.
pub fn code(html: &str) -> String {
    let start = html.find("<code>").map(|i| i + 6).expect("a <code> in the message");
    let end = html[start..].find("</code>").expect("closed") + start;
    html[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bitcoin_payment_is_seen_confirmed_and_credited_once() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    assert_eq!(address, BTC_FIRST, "the first user gets the account's first receive address");
    let screen = d.emu.texts(7).into_iter().rev().find(|t| t.contains("Bitcoin deposit")).unwrap();
    assert!(screen.contains("1 BTC = 400000 PLN") && screen.contains("Minimum: 0.0001 BTC"), "{screen}");
    assert!(screen.contains("after 2 confirmations") && screen.contains("arrives by itself"), "{screen}");
    assert_eq!(d.address(7, "Bitcoin").await, address, "a user keeps their address");

    let txid = d.btc.pay(&[(address.as_str(), 100_000)]);
    d.tick().await;
    d.expect(7, "Bitcoin payment seen, 0/2 confirmations").await;
    d.btc.mine(1);
    d.tick().await;
    let seen = d.expect(7, "Bitcoin payment seen, 1/2 confirmations").await;
    assert!(seen.contains("0.001 BTC"), "{seen}");
    assert_eq!(d.balance(7).await, 0, "one confirmation of two credits nothing");
    d.btc.mine(1);
    d.tick().await;
    // floor(0.001 BTC × 400000.00 PLN) = 400 PLN.
    let credited = d.expect(7, "Deposit credited: 400 PLN").await;
    assert!(
        credited.contains("For 0.001 BTC at 1 BTC = 400000 PLN") && credited.contains("Balance: <b>400 PLN</b>"),
        "{credited}"
    );
    assert_eq!(d.balance(7).await, 40_000);
    let entries = d.entries(7).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["key"], format!("crypto:BTC:{txid}:0"));
    assert_eq!(entries[0]["amount"], 40_000);

    // More blocks and runs credit nothing more.
    d.btc.mine(3);
    for _ in 0..3 {
        d.tick().await;
    }
    assert_eq!(d.balance(7).await, 40_000);
    assert_eq!(d.emu.texts(7).iter().filter(|t| t.contains("Deposit credited")).count(), 1);

    // The ledger entry, the balance and the events agree; the address is masked in the log.
    let events = d.events().await;
    let credited: Vec<_> = events.iter().filter(|(k, ..)| k == "crypto.credited").collect();
    assert_eq!(credited.len(), 1, "{events:?}");
    let fields = credited[0].2.to_string();
    assert!(fields.contains(&txid) && fields.contains("400 PLN") && fields.contains("0.001 BTC"), "{fields}");
    let log = serde_json::to_string(&events).unwrap();
    assert!(!log.contains(&address), "the full address is in the event log: {log}");
    assert_eq!(d.kinds("crypto.").await, ["crypto.detected", "crypto.credited"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litecoin_payment_is_seen_confirmed_and_credited_at_the_litecoin_rate() {
    let d = Deposits::start("").await;
    let address = d.address(8, "Litecoin").await;
    assert_eq!(address, LTC_FIRST, "the first user gets the Litecoin account's first receive address");
    // 0.12345678 LTC × 350.00 PLN = 43.2098730 PLN → 43.20 PLN.
    let txid = d.ltc.pay(&[(address.as_str(), 12_345_678)]);
    d.tick().await;
    d.expect(8, "Litecoin payment seen, 0/2 confirmations").await;
    d.ltc.mine(1);
    d.tick().await;
    d.expect(8, "Litecoin payment seen, 1/2 confirmations").await;
    assert_eq!(d.balance(8).await, 0);
    d.ltc.mine(1);
    d.tick().await;
    let credited = d.expect(8, "Deposit credited: 43.20 PLN").await;
    assert!(credited.contains("For 0.12345678 LTC at 1 LTC = 350 PLN"), "{credited}");
    assert_eq!(d.balance(8).await, 4_320);
    let entries = d.entries(8).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["key"], format!("crypto:LTC:{txid}:0"));
    assert_eq!(entries[0]["category"], "deposit");
    assert_eq!(d.kinds("crypto.").await, ["crypto.detected", "crypto.credited"]);
    // The Bitcoin chain saw nothing of it.
    assert_eq!(d.btc.requests_to("/api/address/ltc1"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_source_failure_delays_crediting_and_the_rate_seen_first_is_kept() {
    let d = Deposits::start_from("", "", true).await;
    let address = d.address(7, "Bitcoin").await;
    let screen = d.emu.texts(7).into_iter().rev().find(|t| t.contains("Bitcoin deposit")).unwrap();
    assert!(screen.contains("1 BTC = 400000 PLN"), "{screen}");
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.tick().await;
    d.expect(7, "seen, 0/2").await;
    // The rate moves after the payment was seen: it is credited at the rate seen first.
    d.btc.set_rate("bitcoin", "pln", "500000.00");
    d.btc.mine(2);
    d.tick().await;
    d.expect(7, "Deposit credited: 400 PLN").await;
    // The rate source fails for longer than max_age_seconds: a new payment waits.
    d.btc.fault(Fault { path_contains: Some("/coingecko/".into()), status: Some(503), ..Fault::default() });
    for _ in 0..21 {
        d.tick().await;
    }
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(2);
    d.tick().await;
    d.tick().await;
    d.expect(7, "Bitcoin payment confirmed, 2/2").await;
    assert_eq!(d.balance(7).await, 40_000, "no credit at a stale rate");
    assert_eq!(d.emu.texts(7).iter().filter(|t| t.contains("Deposit credited")).count(), 1);
    // The source answers again: the payment is credited at the fresh rate.
    d.btc.clear_faults();
    d.tick().await;
    d.expect(7, "Deposit credited: 500 PLN").await;
    assert_eq!(d.balance(7).await, 90_000);
    let credited: Vec<_> = d.events().await.into_iter().filter(|(k, ..)| k == "crypto.credited").collect();
    assert!(credited[1].2.to_string().contains("coingecko"), "{credited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_before_the_credit_puts_the_payment_back_to_pending() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    d.btc.pay(&[(address.as_str(), 200_000)]);
    d.btc.mine(1);
    d.tick().await;
    d.expect(7, "seen, 1/2").await;
    d.btc.reorg(1); // the block is replaced by one without the payment: back to the mempool
    d.tick().await;
    d.expect(7, "seen, 0/2").await;
    assert!(d.kinds("crypto.").await.contains(&"crypto.reorged".to_owned()));
    d.btc.mine(1);
    d.tick().await;
    d.expect(7, "seen, 1/2").await;
    assert_eq!(d.balance(7).await, 0);
    d.btc.mine(1);
    d.tick().await;
    d.expect(7, "Deposit credited: 800 PLN").await;
    assert_eq!(d.balance(7).await, 80_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_after_the_credit_never_credits_twice_and_tells_the_admins() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(2);
    d.tick().await;
    d.expect(7, "Deposit credited: 400 PLN").await;
    // The two blocks are replaced and the payment goes back to the mempool, then is mined again.
    d.btc.reorg(2);
    d.tick().await;
    let told = d.expect(ADMIN, "A reorg touched a credited Bitcoin payment").await;
    assert!(told.contains("not credited again"), "{told}");
    d.btc.mine(3);
    for _ in 0..3 {
        d.tick().await;
    }
    assert_eq!(d.balance(7).await, 40_000, "credited once");
    assert_eq!(d.entries(7).await.len(), 1);
    let admin_told = d.emu.texts(ADMIN).iter().filter(|t| t.contains("A reorg touched")).count();
    assert_eq!(admin_told, 1, "admins are told once");
    let reorged: Vec<_> = d.events().await.into_iter().filter(|(k, ..)| k == "crypto.reorged").collect();
    assert_eq!(reorged.len(), 1, "{reorged:?}");
    assert!(reorged[0].2.to_string().contains("back in the mempool"), "{reorged:?}");
    // Once deep in its new block it is no longer watched.
    assert_eq!(d.rt.storage().kv_keys("crypto", "settle:", None, 10).await.unwrap().len(), 1);
    d.btc.mine(8);
    d.tick().await;
    assert!(d.rt.storage().kv_keys("crypto", "settle:", None, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_transaction_disappears_without_credit_and_its_replacement_counts() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    let first = d.btc.pay(&[(address.as_str(), 100_000)]);
    d.tick().await;
    d.expect(7, "seen, 0/2").await;
    let second = d.btc.replace(&first, &[(address.as_str(), 150_000)]).unwrap();
    d.tick().await;
    d.expect(7, "was replaced or dropped before it confirmed").await;
    d.btc.mine(2);
    d.tick().await;
    d.expect(7, "Deposit credited: 600 PLN").await;
    d.tick().await;
    assert_eq!(d.balance(7).await, 60_000);
    let keys: Vec<String> = d.entries(7).await.iter().map(|e| e["key"].as_str().unwrap().to_owned()).collect();
    assert_eq!(keys, [format!("crypto:BTC:{second}:0")]);
    assert!(d.kinds("crypto.").await.contains(&"crypto.dropped".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_outputs_to_one_address_in_one_transaction_are_two_payments() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    let txid = d.btc.pay(&[(address.as_str(), 100_000), (address.as_str(), 50_000)]);
    d.btc.mine(2);
    d.tick().await;
    d.tick().await;
    assert_eq!(d.balance(7).await, 40_000 + 20_000);
    let mut keys: Vec<String> = d.entries(7).await.iter().map(|e| e["key"].as_str().unwrap().to_owned()).collect();
    keys.sort();
    assert_eq!(keys, [format!("crypto:BTC:{txid}:0"), format!("crypto:BTC:{txid}:1")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_seen_before_a_restart_is_credited_after_it() {
    let d = Deposits::start_owned("").await;
    let address = d.address(7, "Bitcoin").await;
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(1);
    d.tick().await;
    d.expect(7, "seen, 1/2").await;
    let d = d.restart().await;
    d.btc.mine(1);
    d.tick().await;
    d.expect(7, "Deposit credited: 400 PLN").await;
    d.tick().await;
    assert_eq!(d.balance(7).await, 40_000);
    assert_eq!(d.emu.texts(7).iter().filter(|t| t.contains("payment seen, 0/2")).count(), 0);
    assert_eq!(d.kinds("crypto.detected").await.len(), 1, "seen once, across the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_explorer_backs_off_alerts_and_loses_nothing() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    d.btc.fault(Fault { status: Some(503), ..Fault::default() });
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(2);
    // Runs fail and back off (30 s, 60 s, 120 s…); after 5 minutes the admins are told.
    for _ in 0..20 {
        d.tick().await;
    }
    let told = d.expect(ADMIN, "The Bitcoin explorer (127.0.0.1").await;
    assert!(told.contains("has failed for") && told.contains("HTTP 503"), "{told}");
    assert_eq!(d.balance(7).await, 0);
    let failed = d.rt.metrics().plugin_http_count("crypto", "127.0.0.1", HttpOutcome::ServerError);
    assert!((2..16).contains(&failed), "backoff keeps the failed requests few: {failed}");
    // 429, garbage and a timeout are failures too; then it answers again.
    d.btc.clear_faults();
    d.btc.fault(Fault { status: Some(429), times: Some(1), ..Fault::default() });
    d.btc.fault(Fault { malformed: true, times: Some(1), ..Fault::default() });
    d.btc.fault(Fault { delay_ms: 6_000, times: Some(1), ..Fault::default() });
    for _ in 0..200 {
        if d.balance(7).await > 0 {
            break;
        }
        d.tick().await;
    }
    d.expect(7, "Deposit credited: 400 PLN").await;
    d.expect(ADMIN, "The Bitcoin explorer (127.0.0.1").await;
    let recovered = d.emu.texts(ADMIN).into_iter().any(|t| t.contains("answers again"));
    assert!(recovered, "{:?}", d.emu.texts(ADMIN));
    assert_eq!(d.balance(7).await, 40_000);
    assert!(d.rt.metrics().plugin_http_count("crypto", "127.0.0.1", HttpOutcome::RateLimited) >= 1);
    assert_eq!(d.kinds("crypto.explorer").await, ["crypto.explorer_down", "crypto.explorer_recovered"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_explorer_does_not_hold_up_other_chats() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    d.btc.pay(&[(address.as_str(), 100_000)]);
    // Every explorer request now takes 3 s: the watcher's run takes 6 s (tip, listing).
    d.btc.fault(Fault { delay_ms: 3_000, ..Fault::default() });
    d.btc.reset_counts();
    d.rt.clock().advance(POLL);
    until("the watcher's run starts", || async { d.btc.requests() >= 1 }).await;
    // While it runs, another user is served…
    d.say(9, "/wallet", "Your wallet").await;
    d.say(9, "/crypto", "Top up with which coin?").await;
    // …and it is still running: what it is about to find is not told yet.
    assert!(d.btc.requests() <= 2, "{}", d.btc.requests());
    assert!(!d.emu.texts(7).iter().any(|t| t.contains("payment seen")), "the run ended before user 9 was served");
    d.btc.clear_faults();
    d.rt.wait_idle(IDLE).await.unwrap();
    d.expect(7, "Bitcoin payment seen, 0/2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_never_share_an_address() {
    let d = Deposits::start("").await;
    let users: Vec<i64> = (100..120).collect();
    for &u in &users {
        d.say(u, "/crypto", "Top up with which coin?").await;
    }
    // Everyone taps Bitcoin at once.
    for &u in &users {
        let (id, data) = d
            .emu
            .sent(u)
            .iter()
            .rev()
            .find_map(|m| buttons(m).into_iter().find(|(t, _)| t == "Bitcoin").map(|(_, d)| (m.message_id, d)))
            .unwrap();
        d.emu.press(u, id, &data);
    }
    let all = |e: &Emulator| users.iter().all(|&u| e.texts(u).iter().any(|t| t.contains("Bitcoin deposit")));
    assert!(d.emu.wait_sent(WAIT, all).await);
    let mut addresses: Vec<String> = users
        .iter()
        .map(|&u| code(&d.emu.texts(u).into_iter().find(|t| t.contains("Bitcoin deposit")).unwrap()))
        .collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), users.len(), "an address went to two users");
    let owned = d.rt.storage().kv_keys("crypto", "own:BTC:", None, 1000).await.unwrap();
    assert_eq!(owned.len(), users.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_below_the_minimum_is_reported_not_credited_and_dust_does_not_flood_the_chat() {
    let d = Deposits::start("").await;
    let address = d.address(7, "Bitcoin").await;
    // A hostile sender pays dust three times: one notice, no "seen" messages, three events.
    for sats in [9_999, 5_000, 1] {
        d.btc.pay(&[(address.as_str(), sats)]);
    }
    d.tick().await;
    d.btc.mine(2);
    d.tick().await;
    let told = d.expect(7, "below the minimum of 0.0001 BTC").await;
    assert!(told.contains("not credited"), "{told}");
    let texts = d.emu.texts(7);
    assert_eq!(texts.iter().filter(|t| t.contains("below the minimum")).count(), 1, "{texts:#?}");
    assert!(!texts.iter().any(|t| t.contains("payment seen")), "{texts:#?}");
    assert_eq!(d.balance(7).await, 0);
    assert_eq!(d.kinds("crypto.below_minimum").await.len(), 3);
    // A real payment afterwards is told and credited as usual.
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(2);
    d.tick().await;
    d.expect(7, "Deposit credited: 400 PLN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_to_an_old_address_is_still_credited() {
    let d = Deposits::start("watch_hours = 1").await;
    let address = d.address(7, "Bitcoin").await;
    // Two hours later the address is no longer watched closely…
    for _ in 0..240 {
        d.rt.clock().advance(POLL);
    }
    d.rt.wait_idle(IDLE).await.unwrap();
    d.tick().await;
    assert!(d.rt.storage().kv_keys("crypto", "hot:BTC:", None, 10).await.unwrap().is_empty());
    // …and a payment to it is still found by the sweep of old addresses.
    d.btc.pay(&[(address.as_str(), 100_000)]);
    d.btc.mine(2);
    d.tick().await;
    d.tick().await;
    d.expect(7, "Deposit credited: 400 PLN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_for_the_other_coin_a_private_key_or_the_public_test_key_is_refused_at_load() {
    // The Litecoin account key re-encoded as an Ltub, and as a zprv (a private key's prefix).
    const LTUB: &str = "Ltub2ZANw57Fi4JfMGenngwfZMqDrsccTf2m3qEjvLuk8faGXB973sSqGttAdKBvGSCLG9DXh2yxaUB9qpwQUe2zCCtrZPhjxGuMAWqL6F7Xrpd";
    const ZPRV: &str = "zprvAdQSgFiAHcXKb1gcktyukXyGZykTBemmPZ9brfYnxqxM2CocMdxy9aPXTfSnWfxL5UbZhQfbz1VQtsFd7UH2BttUUvtkc5yEHcK3CkQM6QM";
    let cases = [
        (LTUB, "http://127.0.0.1:9/api", "this is a Litecoin key"),
        (ZPRV, "http://127.0.0.1:9/api", "private key"),
        (BTC_KEY, "https://blockstream.info/api", "BIP84's published test mnemonic"),
        (
            "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYt",
            "http://127.0.0.1:9/api",
            "checksum",
        ),
    ];
    for (key, explorer, expect) in cases {
        let tables = plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
            + &plugin(
                "crypto",
                "crypto",
                r#"grants = ["kv", "telegram.send", "scheduler", "call:wallet"]
http = ["127.0.0.1:9"]"#,
            )
            + &format!(
                "[plugins.crypto.settings]\n[[plugins.crypto.settings.chains]]\ncoin = \"BTC\"\nxpub = \"{key}\"\nexplorer = \"{explorer}\"\n[plugins.crypto.settings.rates]\nfixed = {{ BTC = \"1\" }}\n"
            );
        let err = try_start_on(&Db::Sqlite, &tables, "").await.err().expect("must not start");
        let msg = format!("{err:#}");
        assert!(msg.contains("setting `chains[0].xpub`") && msg.contains(expect), "{key}: {msg}");
        assert!(!msg.contains(&key[4..20]), "the key is echoed: {msg}");
    }
}
