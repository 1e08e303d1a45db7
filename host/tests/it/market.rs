//! A bot running the wallet and shop plugins behind the Bot API emulator, and helpers
//! that act as its users: send text, tap buttons by label, wait for the bot's answer.

use std::sync::Arc;
use std::time::Duration;

use wharf::config::TelegramConfig;
use wharf::telegram::Telegram;
use wharf::telegram::emulator::{Emulator, Sent};
use wharf::telegram::limits::RateLimits;

use crate::common::*;

/// The first admin.
pub const ADMIN: i64 = 1000;
/// The second admin.
pub const ADMIN2: i64 = 1001;
const TOKEN: &str = "123456:MARKET-TOKEN-secret";
/// How long a step may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(90);

pub struct Market {
    pub h: Harness,
    pub emu: Emulator,
    _tg: Telegram,
}

/// Wallet + shop on SQLite; `shop_settings` are extra lines of `[plugins.shop.settings]`.
pub async fn market(shop_settings: &str) -> Arc<Market> {
    market_on(&Db::Sqlite, shop_settings).await
}

pub async fn market_on(db: &Db, shop_settings: &str) -> Arc<Market> {
    market_from(db, &plugins(&wasm("shop"), shop_settings)).await
}

/// The config tables of the wallet and of the shop at `shop_wasm`.
pub fn plugins(shop_wasm: &std::path::Path, shop_settings: &str) -> String {
    plugin("wallet", "wallet", r#"grants = ["kv", "telegram.send", "events"]"#)
        + "[plugins.wallet.settings]\nmin_deposit = 100\n"
        + &format!(
            "[plugins.shop]\npath = \"{}\"\ngrants = [\"kv\", \"telegram\", \"scheduler\", \"events\", \"call:wallet\"]\n",
            shop_wasm.display()
        )
        + "[plugins.shop.settings]\n"
        + shop_settings
        + "\n"
}

/// A market with these plugin tables.
pub async fn market_from(db: &Db, plugins: &str) -> Arc<Market> {
    market_prepared(db, plugins, |_| {}).await
}

/// [`market_from`], with the emulator set up by `prepare` before the bot starts.
pub async fn market_prepared(db: &Db, plugins: &str, prepare: impl FnOnce(&Emulator)) -> Arc<Market> {
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    prepare(&emu);
    // Telegram's limits, scaled up: these tests are about money, not pacing.
    let limits = RateLimits::default().scaled(10_000.0);
    emu.enforce_limits(Some(limits));
    let h = try_start_with(db, &[ADMIN, ADMIN2], plugins, "").await.expect("market starts");
    let mut cfg = TelegramConfig::polling(&emu.api_url());
    cfg.limits = limits;
    let tg = Telegram::start(h.rt.link(), &cfg, TOKEN).await.unwrap();
    Arc::new(Market { h, emu, _tg: tg })
}

fn snapshot(emu: &Emulator, chat: i64) -> Vec<(i32, u32)> {
    emu.sent(chat).iter().map(|m| (m.message_id, m.edits)).collect()
}

/// Callback data of every button in a message.
pub fn buttons(m: &Sent) -> Vec<(String, String)> {
    let Some(rows) = m.reply_markup.as_ref().and_then(|k| k["inline_keyboard"].as_array()) else { return Vec::new() };
    rows.iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter_map(|b| Some((b["text"].as_str()?.to_owned(), b["callback_data"].as_str()?.to_owned())))
        .collect()
}

/// Poll `cond` every 20 ms until it holds; fail naming `what` after [`WAIT`].
pub async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond().await {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Market {
    /// Wait until `chat` receives a new or edited message containing `expect`.
    pub async fn after<F>(&self, chat: i64, expect: &str, act: F) -> Sent
    where
        F: FnOnce(),
    {
        let before = snapshot(&self.emu, chat);
        act();
        let found = |emu: &Emulator| {
            emu.sent(chat)
                .into_iter()
                .rev()
                .find(|m| !m.deleted && m.text.contains(expect) && !before.contains(&(m.message_id, m.edits)))
        };
        let ok = self.emu.wait_sent(WAIT, |e| found(e).is_some()).await;
        assert!(ok, "chat {chat} got no message containing {expect:?}; it has: {:#?}", self.emu.texts(chat));
        found(&self.emu).expect("just found")
    }

    /// `user` sends `text`; returns the first answer containing `expect`.
    pub async fn say(&self, user: i64, text: &str, expect: &str) -> Sent {
        self.after(user, expect, || {
            self.emu.send_text(user, text);
        })
        .await
    }

    /// The newest message in `user`'s chat with a button whose label contains `label`:
    /// (message id, callback data).
    pub fn button(&self, user: i64, label: &str) -> Option<(i32, String)> {
        self.emu.sent(user).iter().rev().filter(|m| !m.deleted).find_map(|m| {
            buttons(m).into_iter().find(|(text, _)| text.contains(label)).map(|(_, data)| (m.message_id, data))
        })
    }

    /// `user` taps the newest button labelled `label`; returns the answer containing `expect`.
    pub async fn tap(&self, user: i64, label: &str, expect: &str) -> Sent {
        let (id, data) = self
            .button(user, label)
            .unwrap_or_else(|| panic!("user {user} sees no button {label:?}: {:#?}", self.emu.sent(user)));
        self.after(user, expect, || {
            self.emu.press(user, id, &data);
        })
        .await
    }

    /// An admin credits `user` with `amount` (e.g. "100").
    pub async fn credit(&self, user: i64, amount: &str) {
        self.say(ADMIN, &format!("/credit {user} {amount} test money"), &format!("to user {user}.")).await;
    }

    /// The admin imports `lines` (one item per line); returns the answer.
    pub async fn import(&self, lines: &str) -> Sent {
        self.say(ADMIN, &format!("/import\n{lines}"), "mport").await
    }

    /// `user` walks /shop → city → district → category → product, tapping the labels.
    pub async fn open_product(&self, user: i64, path: [&str; 4]) -> Sent {
        self.say(user, "/shop", "Choose a city").await;
        self.tap(user, path[0], "choose a district").await;
        self.tap(user, path[1], "choose a category").await;
        self.tap(user, path[2], path[2]).await;
        self.tap(user, path[3], "Price:").await
    }

    /// A JSON record from a plugin's namespace.
    pub async fn kv<T: serde::de::DeserializeOwned>(&self, plugin: &str, key: &str) -> Option<T> {
        self.h.kv(plugin, key).await
    }

    /// A user's balance in minor units, straight from the wallet's records.
    pub async fn balance(&self, user: i64) -> i64 {
        self.kv::<serde_json::Value>("wallet", &format!("acct:{user}"))
            .await
            .map_or(0, |a| a["balance"].as_i64().unwrap())
    }

    /// Keys of a plugin's namespace under `prefix`.
    pub async fn keys(&self, plugin: &str, prefix: &str) -> Vec<String> {
        self.h.rt.storage().kv_keys(plugin, prefix, None, 100_000).await.unwrap()
    }

    /// Business events recorded so far: (kind, user, fields).
    pub async fn events(&self) -> Vec<(String, Option<i64>, serde_json::Value)> {
        self.h
            .rt
            .storage()
            .event_log()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.kind, r.user_id, serde_json::to_value(&r.fields).unwrap()))
            .collect()
    }
}
