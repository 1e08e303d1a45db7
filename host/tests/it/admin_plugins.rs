//! Plugins' admin views and actions through `Runtime::console()`: the third-party
//! fixture `console` (built with the SDK alone) appears with its view and action, its
//! view shows rows and cannot write, its action commits (and runs once per request id);
//! a component built against 0.2.2 still loads; the shop's discount through the console
//! changes what users see; the wallet's approve through the console credits and tells
//! the user, once.

use wharf::panel::Surface;
use wharf::panel::{Output, PanelError, Who};
use wharf::runtime::Console;

use crate::common::*;
use crate::market::*;

fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn cli() -> Who {
    Who { user_id: None, via: Surface::Cli, label: "tester".into() }
}

fn value<'a>(out: &'a Output, key: &str) -> Option<&'a str> {
    out.blocks.iter().find_map(|b| match b {
        wharf::panel::Block::KeyValues(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
        _ => None,
    })
}

fn rows(out: &Output) -> Vec<(Option<String>, Vec<String>)> {
    out.blocks
        .iter()
        .find_map(|b| match b {
            wharf::panel::Block::Table(t) => Some(t.rows.iter().map(|r| (r.id.clone(), r.cells.clone())).collect()),
            _ => None,
        })
        .unwrap_or_default()
}

async fn add_note(console: &Console, text: &str, request: &str) -> Result<Output, PanelError> {
    console.act("console", "add_note", &raw(&[("text", text)]), &cli(), request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_plugin_offers_a_read_only_view_and_an_action_that_commits_once() {
    let plugins = plugin("console", "console", r#"grants = ["kv"]"#)
        + &plugin("old", "legacy_v022", r#"grants = ["kv", "telegram.send"]"#);
    let h = start(&plugins).await;
    let console = h.rt.console();
    let listed = console.plugins();
    let names: Vec<&str> = listed.iter().map(|p| p.plugin.as_str()).collect();
    assert_eq!(names, ["console"], "the 0.2.2 plugin has no admin export");
    let spec = &listed[0].spec;
    assert_eq!(spec.views.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["notes"]);
    assert_eq!(spec.actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["add_note"]);

    let out = add_note(&console, "buy milk", "req-1").await.unwrap();
    assert_eq!(wharf::panel::render::text(&out).trim(), "Note 1 added");
    // The same request id again: the first reply, not a second note.
    add_note(&console, "buy milk", "req-1").await.unwrap();
    add_note(&console, "call Ann", "req-2").await.unwrap();
    assert!(add_note(&console, "fail", "req-3").await.is_err(), "a failing action");
    assert_eq!(h.kv::<i64>("console", "count").await, Some(2), "the failed action kept nothing");

    let view = console.view("console", "notes", &Vec::new(), None, &cli()).await.unwrap();
    let shown = rows(&view);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0], (Some("note:000001".into()), vec!["1".into(), "buy milk".into()]));
    assert_eq!(value(&view, "write refused"), Some("yes"), "a view may not write");
    assert_eq!(h.kv::<bool>("console", "probe").await, None);

    let log = h.rt.storage().event_log().await.unwrap();
    let kinds: Vec<&str> = log.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "console.note_added").count(), 2, "{kinds:?}");
    assert!(kinds.contains(&"admin.action"), "{kinds:?}");

    let missing = console.act("console", "add_note", &Vec::new(), &cli(), "req-4").await;
    assert!(matches!(missing, Err(PanelError::BadParam { .. })), "{missing:?}");

    // The 0.2.2 component runs as before.
    h.say(42, "/old022").await;
    h.idle().await;
    assert_eq!(h.sent(42).await.len(), 1);
    assert!(h.sent(42).await[0].starts_with("0.2.2 ok 1"));
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discount_through_the_console_is_what_users_then_see() {
    let m = market("").await;
    m.import(
        "Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-1\n\
         Warsaw | Wola | Games | PSN 20 | 20.00 | PSN-1\n\
         Kraków | Old Town | Gift cards | Xbox 10 | 10.00 | XBOX-1",
    )
    .await;
    let console = m.h.rt.console();
    let admin = Who::telegram(ADMIN, Surface::Web);
    let warsaw = console.view("shop", "products", &raw(&[("city", "Warsaw")]), None, &admin).await.unwrap();
    let ids: Vec<String> = rows(&warsaw).into_iter().filter_map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 2, "{warsaw:?}");
    let mut params = raw(&[("percent", "30")]);
    params.extend(ids.iter().map(|id| ("products".to_owned(), id.clone())));
    console.act("shop", "discount", &params, &admin, &Console::new_request()).await.unwrap();

    let card = m.open_product(7, ["Warsaw", "Mokotów", "Gift cards", "Steam 50"]).await;
    assert!(card.text.contains("35 PLN") && card.text.contains("−30%"), "{}", card.text);
    let xbox = m.open_product(7, ["Kraków", "Old Town", "Gift cards", "Xbox 10"]).await;
    assert!(!xbox.text.contains('%'), "Kraków is not discounted: {}", xbox.text);
    let events = m.events().await;
    assert!(events.iter().any(|(kind, ..)| kind == "discount.set"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_deposit_through_the_console_credits_and_tells_the_user_once() {
    let m = market("").await;
    let no = crate::wallet::request_deposit(&m, 7, "50", "BLIK-REF-777").await;
    let console = m.h.rt.console();
    let pending = console.view("wallet", "pending", &Vec::new(), None, &cli()).await.unwrap();
    let shown = rows(&pending);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].1[0], format!("#{no}"));
    assert!(!shown[0].1.iter().any(|c| c.contains("BLIK-REF-777")), "the reference is masked: {shown:?}");
    let id = shown[0].0.clone().expect("a selectable row");
    let told = m
        .after(7, "was approved", || {
            let console = console.clone();
            let id = id.clone();
            tokio::spawn(async move {
                console.act("wallet", "approve", &raw(&[("deposits", &id)]), &cli(), "approve-1").await.unwrap();
            });
        })
        .await;
    assert!(told.text.contains("Balance: 50 PLN"), "{}", told.text);
    let again = console.act("wallet", "approve", &raw(&[("deposits", &id)]), &cli(), "approve-2").await.unwrap();
    assert!(wharf::panel::render::text(&again).contains("skipped 1"));
    assert_eq!(m.balance(7).await, 5_000);
}

/// The shipped `config.toml` (gate enabled) over a fresh database: every bundled plugin
/// offers its admin views, the host accepts their specs, and each view answers on an
/// empty database without trying to write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundled_plugin_offers_views_that_answer_on_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config.toml")).unwrap();
    let plugin_dir = wasm("shop").parent().unwrap().display().to_string();
    let text = shipped
        .replace("sqlite:data/wharf.db", &format!("sqlite:{}", dir.path().join("wharf.db").display()))
        .replace("\"data/cache\"", &format!("{:?}", plugin_cache_dir().display().to_string()))
        .replace("watch = true", "watch = false")
        .replace("target/plugins/wasm32-wasip2/release", &plugin_dir)
        .replace("enabled = false", "enabled = true");
    let config = wharf::config::Config::parse(&text, dir.path()).unwrap();
    let opts = wharf::RuntimeOptions { clock: wharf::clock::Clock::manual(T0), ..wharf::RuntimeOptions::default() };
    let rt = wharf::Runtime::start(&config, opts).await.unwrap();
    let console = rt.console();
    let plugins = console.plugins();
    let names: Vec<&str> = plugins.iter().map(|p| p.plugin.as_str()).collect();
    for want in ["wallet", "shop", "crypto", "referral", "gate", "analytics"] {
        assert!(names.contains(&want), "{want} offers no admin views: {names:?}");
    }
    assert!(!names.contains(&"echo"));
    for p in &plugins {
        for view in &p.spec.views {
            let params: Vec<(String, String)> =
                view.params.iter().filter(|s| s.required).map(|s| (s.name.clone(), "1".to_owned())).collect();
            let out = console.view(&p.plugin, &view.name, &params, None, &cli()).await;
            assert!(out.is_ok(), "{}/{}: {out:?}", p.plugin, view.name);
        }
    }
    let spec = &plugins.iter().find(|p| p.plugin == "shop").unwrap().spec;
    let discount = spec.action("discount").unwrap();
    assert!(discount.param("products").is_some() && discount.param("city").is_some());
    rt.shutdown().await;
}
