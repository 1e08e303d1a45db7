//! # shop: an auto-sales shop paid from the wallet
//!
//! Users browse a catalog (city → district → category → product), reserve one stock item
//! for a few minutes, and confirm: one atomic turn debits the wallet's ledger (the
//! idempotency key is the order id), marks the item sold, records the order and delivers
//! the item's secret payload. Needs the grants `kv`, `telegram` (sending, and `telegram.files`
//! for imports from a file), `scheduler`, `events` and `call:wallet`, and the wallet plugin
//! enabled.
//!
//! | module | what it does |
//! |---|---|
//! | [`model`] | records, KV keys, price display |
//! | [`store`] | the [`store::Store`] the logic below runs on (KV, or memory in tests) |
//! | [`browse`] | the catalog keyboards |
//! | [`buy`] | reserve, confirm, cancel, expire |
//! | [`cooldown`] | who may not take a product's last item again yet |
//! | [`orders`] | `/orders`, delivery of a paid item |
//! | [`import`], [`stock`] | bulk stock import: reading the lines, checking and writing them |
//! | [`catalog`] | products by id or name, and their places |
//! | [`admin`], [`reports`] | admin commands |
//! | [`panel`] | admin views and actions for `/admin`, `wharf admin` and the dashboard (the `admin` export) |
//! | [`reply`] | refusals as people read them, counted nouns |
//! | [`ledger`] | the wallet's `ledger` interface |
//! | [`topics`] | the topic `shop.purchase` other plugins (analytics) subscribe to |
//!
//! Users: `/shop`, `/orders`. Admins: see [`admin::SYNTAX`]. Every paid order is
//! announced on `shop.purchase` (grant `events`).

// The local `generate!` for the imported ledger expands to unsafe ABI glue.
#![allow(unsafe_code)]

pub mod admin;
pub mod browse;
pub mod buy;
pub mod catalog;
pub mod cooldown;
pub mod import;
pub mod ledger;
pub mod model;
pub mod orders;
pub mod panel;
pub mod reply;
pub mod reports;
pub mod stock;
pub mod store;
pub mod topics;

use serde::Deserialize;
use wharf_sdk::money::Currency;
use wharf_sdk::prelude::*;

use browse::Screen;

/// `[plugins.shop.settings]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How long a reservation holds an item, in minutes (1-1440).
    pub reservation_minutes: u32,
    /// Buttons per page when browsing (1-20).
    pub page_size: usize,
    /// After a user's reservation of a product's last item expired, how long they may
    /// not reserve that last item again, in minutes (0-1440; 0 turns the rule off).
    pub retake_cooldown_minutes: u32,
    /// Test only: trap right after a purchase's debit, to show the whole turn rolls back.
    pub fail_after_debit: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { reservation_minutes: 15, page_size: 6, retake_cooldown_minutes: 15, fail_after_debit: false }
    }
}

impl Settings {
    fn load() -> Result<Self, String> {
        let s: Self = wharf_sdk::settings::all().map_err(|e| e.to_string())?;
        if !(1..=1440).contains(&s.reservation_minutes) {
            return Err("reservation_minutes must be 1-1440".into());
        }
        if !(1..=20).contains(&s.page_size) {
            return Err("page_size must be 1-20".into());
        }
        if s.retake_cooldown_minutes > 1440 {
            return Err("retake_cooldown_minutes must be 0-1440".into());
        }
        Ok(s)
    }
}

/// What a turn needs to know: settings and the wallet's currency.
#[derive(Debug)]
pub struct Shop {
    /// `[plugins.shop.settings]`.
    pub settings: Settings,
    /// The wallet's currency, asked for the first time it is needed (most events never
    /// need it, and asking is a call into the wallet).
    currency: std::cell::OnceCell<Currency>,
}

impl Shop {
    fn load() -> Result<Self, HandlerError> {
        let settings = Settings::load().map_err(HandlerError::InvalidInput)?;
        Ok(Self { settings, currency: std::cell::OnceCell::new() })
    }

    /// The wallet's currency.
    pub fn currency(&self) -> &Currency {
        self.currency.get_or_init(ledger::currency)
    }
}

/// The plugin.
pub struct ShopPlugin;

/// Name of the repeating job that releases lapsed reservations.
const SWEEP: &str = "sweep";
/// How often it runs.
const SWEEP_EVERY_MS: u64 = 60_000;

fn num<T: std::str::FromStr>(s: Option<&str>) -> Result<T, HandlerError> {
    s.and_then(|s| s.parse().ok()).ok_or_else(|| HandlerError::InvalidInput("malformed button data".into()))
}

fn on_button(shop: &Shop, ctx: &Context, cb: &CallbackQuery) -> Result<Flow, HandlerError> {
    let chat = cb.chat.as_ref().map_or(cb.sender.id, |c| c.id);
    let user = cb.sender.id;
    let screen = Screen { chat, edit: cb.message_id };
    let parts: Vec<&str> = cb.data.split(':').collect();
    let at = |i: usize| parts.get(i).copied();
    let private = cb.chat.as_ref().is_none_or(|c| c.kind == wharf_sdk::ChatKind::Private);
    if !private && matches!(parts[0], "b" | "ok" | "r") {
        // Items are secret: they are bought and delivered in a private chat only.
        let text = "Purchases happen in a private chat with the bot: open it and send /shop.";
        wharf_sdk::telegram::answer_callback(&cb.id, Some(text))?;
        return Ok(Flow::Stop);
    }
    match parts[0] {
        "ci" => browse::cities(shop, screen, num(at(1))?)?,
        "di" => browse::districts(shop, screen, num(at(1))?, num(at(2))?)?,
        "ca" => browse::categories(shop, screen, num(at(1))?, num(at(2))?)?,
        "pr" => browse::products(shop, screen, num(at(1))?, num(at(2))?, num(at(3))?)?,
        "v" => browse::product(shop, screen, num(at(1))?)?,
        "b" => buy::reserve(shop, ctx, chat, user, num(at(1))?)?,
        "ok" => buy::confirm(shop, ctx, chat, user, num(at(1))?)?,
        "x" => buy::cancel(chat, user, num(at(1))?)?,
        "r" => orders::reshow(chat, user, num(at(1))?)?,
        "op" => orders::orders(shop, screen, user, num(at(1))?)?,
        _ => return Ok(Flow::Continue),
    }
    Ok(Flow::Stop)
}

fn on_message(shop: &Shop, ctx: &Context, msg: &Message) -> Result<Flow, HandlerError> {
    let Some(user) = msg.sender.as_ref().map(|u| u.id) else { return Ok(Flow::Continue) };
    let Some(cmd) = &msg.command else { return Ok(Flow::Continue) };
    let screen = Screen { chat: msg.chat.id, edit: None };
    match cmd.name.as_str() {
        "shop" => browse::cities(shop, screen, 0)?,
        "orders" => orders::orders(shop, screen, user, 0)?,
        name if admin::COMMANDS.contains(&name) => {
            if !ctx.is_admin {
                wharf_sdk::telegram::send_text(msg.chat.id, "This command is for admins.")?;
                return Ok(Flow::Stop);
            }
            match (&msg.document, name) {
                (Some(doc), "import") => admin::import_file(shop, ctx, msg.chat.id, doc)?,
                _ => admin::command(shop, ctx, msg.chat.id, name, &cmd.args, msg.text.as_deref().unwrap_or_default())?,
            }
        }
        _ => return Ok(Flow::Continue),
    }
    Ok(Flow::Stop)
}

impl Plugin for ShopPlugin {
    fn describe() -> Manifest {
        if let Err(e) = Settings::load() {
            panic!("invalid [plugins.shop.settings]: {e}");
        }
        let mut m = Manifest::new("shop", env!("CARGO_PKG_VERSION"))
            .command("shop", "Browse the shop")
            .command("orders", "Your orders and purchased items");
        for (name, syntax, what) in admin::SYNTAX {
            m = m.admin_command(name, &format!("{what}: {}", syntax[0]));
        }
        m.callback_prefix("shop")
            .setting("reservation_minutes", "How long Buy holds an item (default 15)", false)
            .setting("page_size", "Buttons per page when browsing (default 6)", false)
            .setting(
                "retake_cooldown_minutes",
                "How long a user whose reservation of a last item expired may not take it again (default 15, 0 = off)",
                false,
            )
            .setting("fail_after_debit", "Test only: trap after a purchase's debit", false)
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let shop = Shop::load()?;
        match event {
            Event::Message(msg) => on_message(&shop, &ctx, &msg),
            Event::Callback(cb) => on_button(&shop, &ctx, &cb),
            Event::Timer(t) => {
                if let Some(order) = buy::expiry_of(&t) {
                    buy::expire(&shop, order, ctx.now_ms)?;
                } else if t.name == SWEEP {
                    buy::sweep(&shop, ctx.now_ms)?;
                } else {
                    return Ok(Flow::Continue);
                }
                Ok(Flow::Stop)
            }
            Event::Lifecycle(_) => {
                // Installed or upgraded: (re)start the sweep of lapsed reservations.
                wharf_sdk::scheduler::every(SWEEP, SWEEP_EVERY_MS, &[])?;
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::Continue),
        }
    }
}

wharf_sdk::export_plugin!(ShopPlugin);
wharf_sdk::export_admin!(ShopPlugin);
