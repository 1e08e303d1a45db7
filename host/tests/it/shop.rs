//! The shop and the wallet together, driven through the emulator as users and admins
//! would: races for the last items, reservations that expire, a trap after the debit,
//! discounts, bulk import, orders and reports.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;
use crate::market::*;

const PATH: [&str; 4] = ["Warsaw", "Mokotów", "Gift cards", "Steam 50"];

fn items(n: usize, price: &str) -> String {
    (1..=n).map(|i| format!("Warsaw | Mokotów | Gift cards | Steam 50 | {price} | STEAM-CODE-{i:04}\n")).collect()
}

/// Every user opens the product card, then all tap Buy at once; returns the answers.
async fn everyone_buys(m: &Arc<Market>, users: &[i64]) -> Vec<(i64, String)> {
    let mut cards = tokio::task::JoinSet::new();
    for &u in users {
        let m = m.clone();
        cards.spawn(async move { m.open_product(u, PATH).await });
    }
    cards.join_all().await;
    let mut buys = tokio::task::JoinSet::new();
    for &u in users {
        let m = m.clone();
        buys.spawn(async move {
            let (id, data) = m.button(u, "Buy").expect("a Buy button");
            let before = m.emu.sent(u).len();
            m.emu.press(u, id, &data);
            let answered = |e: &wharf::telegram::emulator::Emulator| {
                e.sent(u)
                    .iter()
                    .skip(before)
                    .find(|s| s.text.contains("reserved for you") || s.text.contains("sold out"))
                    .cloned()
            };
            assert!(m.emu.wait_sent(WAIT, |e| answered(e).is_some()).await, "user {u} got no answer to Buy");
            (u, answered(&m.emu).unwrap().text)
        });
    }
    buys.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_users_race_for_ten_items_and_exactly_ten_are_sold() {
    for db in databases() {
        let m = market_on(&db, "").await;
        m.import(&items(10, "50")).await;
        m.say(ADMIN, "/discount 1 20", "Discount 20% set on 1 product").await;
        let users: Vec<i64> = (2001..=2050).collect();
        for &u in &users {
            m.credit(u, "100").await;
        }

        let answers = everyone_buys(&m, &users).await;
        let winners: Vec<i64> =
            answers.iter().filter(|(_, t)| t.contains("reserved for you")).map(|(u, _)| *u).collect();
        let losers = answers.iter().filter(|(_, t)| t.contains("Steam 50 was just sold out")).count();
        assert_eq!((winners.len(), losers), (10, 40), "{answers:#?}");

        let mut confirms = tokio::task::JoinSet::new();
        for &u in &winners {
            let m = m.clone();
            confirms.spawn(async move { m.tap(u, "Confirm", "Your item:").await.text });
        }
        let delivered = confirms.join_all().await;
        let mut codes: Vec<String> = delivered
            .iter()
            .map(|t| t.split("<code>").nth(1).and_then(|c| c.split("</code>").next()).unwrap().to_owned())
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 10, "every buyer got a different item: {codes:?}");

        // Money: each winner paid the final price (50 PLN − 20% = 40 PLN), nobody else paid.
        let mut charged = 0;
        for &u in &users {
            let b = m.balance(u).await;
            assert!(b >= 0);
            charged += 10_000 - b;
            let expected = if winners.contains(&u) { 6_000 } else { 10_000 };
            assert_eq!(b, expected, "user {u}");
        }
        assert_eq!(charged, 10 * 4_000, "the sum charged equals the sum of the final prices");
        let orders = m.keys("shop", "sold:").await;
        assert_eq!(orders.len(), 10);
        assert!(m.keys("shop", "avail:").await.is_empty(), "the stock is gone");
        m.say(ADMIN, "/reconcile", "Ledger reconciles: 50 users,").await;
        let inventory = m.say(ADMIN, "/inventory", "Inventory").await;
        let line = "#1 Steam 50 −20% · Warsaw / Mokotów / Gift cards: 0 available, 0 reserved, 10 sold";
        assert!(inventory.text.contains(line), "{}", inventory.text);

        // The log sink got the sales, with the payloads masked.
        let events = m.events().await;
        let sales: Vec<&Value> = events.iter().filter(|(k, ..)| k == "purchase.succeeded").map(|(_, _, f)| f).collect();
        assert_eq!(sales.len(), 10);
        let log = serde_json::to_string(&events).unwrap();
        assert!(!log.contains("STEAM-CODE"), "a payload leaked into the event log");
        assert_eq!(events.iter().filter(|(k, ..)| k == "stock.unavailable").count(), 40);
        assert_eq!(events.iter().filter(|(k, ..)| k == "wallet.debit").count(), 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_item_goes_to_one_of_two_and_a_double_confirm_charges_once() {
    let m = market("").await;
    m.import(&items(1, "30")).await;
    m.credit(11, "100").await;
    m.credit(12, "100").await;
    let answers = everyone_buys(&m, &[11, 12]).await;
    let (winner, _) = answers.iter().find(|(_, t)| t.contains("reserved for you")).expect("one winner").clone();
    let (loser, told) = answers.iter().find(|(u, _)| *u != winner).unwrap().clone();
    assert!(told.contains("Steam 50 was just sold out"), "{told}");

    // Two taps on Confirm (a double click): one payment.
    let (id, data) = m.button(winner, "Confirm").unwrap();
    m.emu.press(winner, id, &data);
    m.emu.press(winner, id, &data);
    let both = m.emu.wait_sent(WAIT, |e| {
        let t = e.texts(winner);
        t.iter().any(|s| s.contains("Your item:")) && t.iter().any(|s| s.contains("already paid"))
    });
    assert!(both.await, "{:#?}", m.emu.texts(winner));
    assert_eq!(m.balance(winner).await, 7_000);
    assert_eq!(m.balance(loser).await, 10_000);
    m.say(ADMIN, "/reconcile", "Ledger reconciles").await;

    // The order is in the history and its item can be shown again.
    m.say(winner, "/orders", "Your orders</b> (1)").await;
    let again = m.tap(winner, "Show item", "Delivered again").await;
    assert!(again.text.contains("STEAM-CODE-0001"));
    m.say(loser, "/orders", "no orders yet").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_who_cannot_pay_is_told_balance_and_price_and_the_item_stays() {
    let m = market("").await;
    m.import(&items(1, "30")).await;
    m.credit(21, "5").await;
    m.open_product(21, PATH).await;
    let no = m.tap(21, "Buy", "Not enough funds").await;
    assert!(no.text.contains("your balance is 5 PLN, the price is 30 PLN"), "{}", no.text);
    assert_eq!(m.keys("shop", "avail:").await.len(), 1, "the item stays for sale");

    // Funds that vanish between Buy and Confirm: refused at Confirm, the item goes back.
    m.credit(21, "40").await;
    m.tap(21, "Buy", "reserved for you").await;
    assert!(m.keys("shop", "avail:").await.is_empty());
    m.say(ADMIN, "/debit 21 20 correction", "debited to user 21").await;
    let no = m.tap(21, "Confirm", "Not enough funds").await;
    assert!(no.text.contains("your balance is 25 PLN, the price is 30 PLN"), "{}", no.text);
    assert_eq!(m.keys("shop", "avail:").await.len(), 1, "the item is back on sale");
    assert_eq!(m.balance(21).await, 2_500);
    let failed = m.events().await.into_iter().filter(|(k, ..)| k == "purchase.failed").count();
    assert_eq!(failed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trap_after_the_debit_leaves_no_charge_no_sale_no_order() {
    let m = market("fail_after_debit = true").await;
    m.import(&items(1, "30")).await;
    m.credit(31, "100").await;
    m.open_product(31, PATH).await;
    m.tap(31, "Buy", "reserved for you").await;
    let (id, data) = m.button(31, "Confirm").unwrap();
    let failures_before = m.h.rt.metrics().plugin_malfunctions("shop");
    m.emu.press(31, id, &data);
    until("the shop never trapped", || async { m.h.rt.metrics().plugin_malfunctions("shop") > failures_before }).await;
    m.h.idle().await;
    assert_eq!(m.balance(31).await, 10_000, "no charge");
    let entries = m.keys("wallet", "ent:31:").await;
    assert_eq!(entries.len(), 1, "only the credit is in the ledger");
    let items = m.keys("shop", "item:").await;
    let item: Value = m.kv("shop", &items[0]).await.unwrap();
    assert_eq!(item["state"], "reserved", "the item is not sold");
    assert!(m.keys("shop", "sold:").await.is_empty(), "no order was recorded");
    assert!(m.keys("shop", "uo:").await.is_empty());
    let kinds: Vec<String> = m.events().await.into_iter().map(|(k, ..)| k).collect();
    assert!(!kinds.iter().any(|k| k == "purchase.succeeded" || k == "wallet.debit"), "{kinds:?}");
    assert!(!m.emu.texts(31).iter().any(|t| t.contains("Your item:")), "nothing was delivered");
    let told = m.emu.wait_sent(WAIT, |e| {
        e.answered().iter().any(|(_, t)| t.as_deref().is_some_and(|t| t.contains("nothing was changed")))
    });
    assert!(told.await, "the buyer is told it did not work: {:?}", m.emu.answered());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_expires_on_the_injected_clock() {
    let m = market("reservation_minutes = 15").await;
    m.import(&items(1, "30")).await;
    m.credit(41, "100").await;
    m.credit(42, "100").await;
    m.open_product(41, PATH).await;
    m.tap(41, "Buy", "reserved for you").await;
    let card = m.open_product(42, PATH).await;
    assert!(card.text.contains("Sold out"), "a reserved item is not for sale: {}", card.text);
    assert!(m.button(42, "Buy").is_none());

    // 14 minutes: still held.
    m.h.rt.clock().advance(Duration::from_secs(14 * 60));
    m.h.idle().await;
    assert!(m.keys("shop", "avail:").await.is_empty());
    // 15 minutes: the timer releases it and tells the user.
    let expired = m.after(41, "expired", || m.h.rt.clock().advance(Duration::from_secs(60))).await;
    assert!(expired.text.contains("Steam 50 expired; the item is back on sale"), "{}", expired.text);
    assert_eq!(m.keys("shop", "avail:").await.len(), 1);
    m.tap(41, "Confirm", "has expired").await;
    assert_eq!(m.balance(41).await, 10_000);
    // The other user can now buy it.
    m.open_product(42, PATH).await;
    m.tap(42, "Buy", "reserved for you").await;
    m.tap(42, "Confirm", "Your item:").await;
    assert_eq!(m.balance(42).await, 7_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounts_show_struck_through_and_filters_apply_in_bulk() {
    let m = market("").await;
    m.import(
        "Warsaw | Mokotów | Gift cards | Steam 50 | 100 | A1\n\
         Warsaw | Wola | Gift cards | PSN 20 | 20 | B1\n\
         Kraków | Old Town | Gift cards | Xbox 10 | 10 | C1\n",
    )
    .await;
    let card = m.open_product(51, PATH).await;
    assert!(card.text.contains("Price: 100 PLN\n"), "{}", card.text);
    m.say(ADMIN, "/discount 1 20", "Discount 20% set").await;
    let card = m.open_product(51, PATH).await;
    assert!(card.text.contains("Price: <s>100 PLN</s> 80 PLN −20%"), "{}", card.text);
    assert_eq!(card.parse_mode.as_deref(), Some("HTML"));

    let done = m.say(ADMIN, "/discount city=Warsaw 15", "Discount 15% set on 2 products:").await;
    assert!(done.text.contains("Steam 50") && done.text.contains("PSN 20"), "{}", done.text);
    let xbox: Value = m.kv("shop", "prod:000003").await.unwrap();
    assert_eq!(xbox["discount"], 0, "Kraków is not in the filter");
    m.say(ADMIN, "/discount category=\"gift cards\" district=wola 50", "Discount 50% set on 1 product: #2 PSN 20")
        .await;
    m.say(ADMIN, "/discount city=Nowhere 5", "No product matches").await;
    m.say(ADMIN, "/discount 1 120", "not a percentage").await;
    m.say(51, "/discount 1 10", "for admins").await;
    let card = m.open_product(51, PATH).await;
    assert!(card.text.contains("<s>100 PLN</s> 85 PLN −15%"), "{}", card.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_import_with_a_bad_line_names_it_and_imports_nothing() {
    let m = market("").await;
    let answer = m
        .import(
            "Warsaw | Mokotów | Gift cards | Steam 50 | 50 | A1\n\
             Warsaw | Mokotów | Gift cards | Steam 50 | fifty | A2\n\
             # a comment\n\
             Warsaw | Mokotów | Gift cards\n",
        )
        .await;
    assert!(answer.text.contains("Nothing was imported: 2 bad lines."), "{}", answer.text);
    assert!(answer.text.contains("line 3: the price \"fifty\" is not an amount like 12 or 12.50"), "{}", answer.text);
    assert!(!answer.text.contains("invalid input"), "{}", answer.text);
    assert!(answer.text.contains("line 5: expected 6 or 7 fields"), "{}", answer.text);
    assert!(m.keys("shop", "").await.is_empty(), "nothing was written");

    // A product imported again with another price is refused too, by line.
    m.import(&items(2, "50")).await;
    let answer = m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 45 | X\n").await;
    assert!(answer.text.contains("line 2: product #1 Steam 50 costs 50 PLN, not 45 PLN"), "{}", answer.text);
    let inventory = m.say(ADMIN, "/inventory", "Inventory").await;
    let line = "#1 Steam 50 · Warsaw / Mokotów / Gift cards: 2 available, 0 reserved, 0 sold";
    assert!(inventory.text.contains(line), "{}", inventory.text);

    // The same from an uploaded text file: line numbers are the file's own.
    let file = "Warsaw | Mokotów | Gift cards | Steam 50 | 50 | F1\nbad line\n";
    let answer = m
        .after(ADMIN, "1 bad line.", || {
            m.emu.send_document(ADMIN, "stock.txt", file.as_bytes().to_vec(), Some("/import"));
        })
        .await;
    assert!(answer.text.contains("line 2: expected 6 or 7 fields"), "{}", answer.text);
    let file: String =
        (1..=300).map(|i| format!("Kraków | Old Town | Games | Key {} | 9.99 | K-{i}\n", i % 3)).collect();
    let answer = m
        .after(ADMIN, "Imported", || {
            m.emu.send_document(ADMIN, "stock.txt", file.into_bytes(), Some("/import"));
        })
        .await;
    assert!(answer.text.contains("Imported 300 items: 3 new products, "), "{}", answer.text);
    m.emu.send_document(ADMIN, "photo.bin", vec![0xff, 0xfe, 0x00], Some("/import"));
    m.say(ADMIN, "/inventory", "Inventory").await;
    assert!(m.emu.texts(ADMIN).iter().any(|t| t.contains("photo.bin is not UTF-8 text")), "{:?}", m.emu.texts(ADMIN));
    assert_eq!(m.keys("shop", "avail:").await.len(), 302);

    // The same secrets again (a file sent twice): refused, so no code is sold twice.
    let again = m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 50 | STEAM-CODE-0001\nWarsaw | Mokotów | Gift cards | Steam 50 | 50 | Z9\nWarsaw | Mokotów | Gift cards | Steam 50 | 50 | Z9\n").await;
    assert!(again.text.contains("line 2: this payload is already in stock (item #1)"), "{}", again.text);
    assert!(again.text.contains("line 4: the same payload as line 3"), "{}", again.text);
    let photo = m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 50 | P1 | www.example.com/a.png\n").await;
    assert!(photo.text.contains("line 2: the photo must be an https:// URL"), "{}", photo.text);
    assert_eq!(m.keys("shop", "avail:").await.len(), 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_paginates_and_the_sales_report_adds_up() {
    let m = market("page_size = 3").await;
    let lines: String =
        (1..=7).map(|i| format!("Warsaw | Mokotów | Gift cards | Card {i} | {i}0 | CODE{i}\n")).collect();
    m.import(&lines).await;
    m.say(ADMIN, "/discount 2 50", "Discount 50%").await;
    m.credit(61, "1000").await;
    m.say(61, "/shop", "Choose a city").await;
    m.tap(61, "Warsaw", "choose a district").await;
    m.tap(61, "Mokotów", "choose a category").await;
    let page1 = m.tap(61, "Gift cards", "Gift cards").await;
    let labels: Vec<String> = buttons(&page1).into_iter().map(|(t, _)| t).collect();
    assert_eq!(labels, ["Card 1 · 10 PLN", "Card 2 · 10 PLN (−50%)", "Card 3 · 30 PLN", "1/3", "▶", "⬅ Back"]);
    m.tap(61, "▶", "Gift cards").await;
    let page3 = m.tap(61, "▶", "Gift cards").await;
    let labels: Vec<String> = buttons(&page3).into_iter().map(|(t, _)| t).collect();
    assert_eq!(labels, ["Card 7 · 70 PLN", "◀", "3/3", "⬅ Back"]);

    for card in ["Card 7", "Card 2"] {
        m.say(61, "/shop", "Choose a city").await;
        m.tap(61, "Warsaw", "choose a district").await;
        m.tap(61, "Mokotów", "choose a category").await;
        m.tap(61, "Gift cards", "Gift cards").await;
        if card == "Card 7" {
            m.tap(61, "▶", "Gift cards").await;
            m.tap(61, "▶", "Gift cards").await;
        }
        m.tap(61, card, "Price:").await;
        m.tap(61, "Buy", "reserved for you").await;
        m.tap(61, "Confirm", "Your item:").await;
    }
    let today = "2023-11-14"; // T0, the test clock's start
    let report = m.say(ADMIN, &format!("/report {today} {today}"), "Sales").await;
    assert!(report.text.contains("Orders: 2"), "{}", report.text);
    assert!(report.text.contains("Revenue: 80 PLN"), "{}", report.text);
    assert!(report.text.contains("Discounts given: 10 PLN"), "{}", report.text);
    let report = m.say(ADMIN, "/report 2000-01-01 2000-01-31", "Sales").await;
    assert!(report.text.contains("Orders: 0"), "{}", report.text);
    m.say(ADMIN, "/report yesterday", "not a date").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_payload_is_delivered_as_a_photo_and_plain_messages_pass_through() {
    let m = market("").await;
    m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 10 | PIN 1234 | https://cdn.example.com/card.png\n").await;
    m.credit(71, "10").await;
    m.open_product(71, PATH).await;
    m.tap(71, "Buy", "reserved for you").await;
    m.tap(71, "Confirm", "PIN 1234").await;
    let photo = m
        .emu
        .wait_sent(WAIT, |e| e.sent(71).iter().any(|s| s.photo.as_deref() == Some("https://cdn.example.com/card.png")));
    assert!(photo.await, "{:#?}", m.emu.sent(71));
    assert_eq!(m.balance(71).await, 0, "a balance may reach zero, never below");
    // Messages that are not for the shop or the wallet are left to other plugins (turns of
    // one chat run in order: once /orders is answered, "hello there" was handled).
    let before = m.emu.texts(71).len();
    m.emu.send_text(71, "hello there");
    m.say(71, "/orders", "Your orders").await;
    assert_eq!(m.emu.texts(71).len(), before + 1, "{:?}", m.emu.texts(71));
    assert_eq!(
        m.h.rt.metrics().plugin_malfunctions("shop")
            + m.h.rt.metrics().plugin_failures("shop", wharf::metrics::FailureReason::Refused),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_in_a_group_is_refused_because_items_are_secret() {
    use wharf::event::{CallbackQuery, Chat, ChatKind, Event, user};
    let m = market("").await;
    m.import(&items(1, "10")).await;
    m.credit(81, "10").await;
    let group = Chat { id: -500, kind: ChatKind::Group, title: Some("friends".into()) };
    for data in ["shop:b:1", "shop:ok:1", "shop:r:1"] {
        let cb = CallbackQuery {
            id: format!("group-{data}"),
            sender: user(81),
            chat: Some(group.clone()),
            message_id: Some(1),
            data: data.into(),
        };
        m.h.rt.enqueue(-500, &Event::Callback(cb)).await.unwrap();
    }
    let refused = |e: &wharf::telegram::emulator::Emulator| {
        e.answered().iter().filter(|(_, t)| t.as_deref().is_some_and(|t| t.contains("private chat"))).count() == 3
    };
    assert!(m.emu.wait_sent(WAIT, refused).await, "{:?}", m.emu.answered());
    assert_eq!(m.keys("shop", "avail:").await.len(), 1, "nothing was reserved");
    assert!(m.emu.texts(-500).is_empty(), "nothing was posted in the group");
    assert_eq!(m.balance(81).await, 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_whose_timer_fired_while_the_shop_was_disabled_are_swept_later() {
    // The shop runs from a copy of its module, so a rebuilt copy can be swapped in.
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("shop.wasm");
    std::fs::copy(wasm("shop"), &module).unwrap();
    let m = market_from(&Db::Sqlite, &plugins(&module, "fail_after_debit = true")).await;
    m.import(&items(5, "10")).await;
    let users: Vec<i64> = (91..=95).collect();
    for &u in &users {
        m.credit(u, "10").await;
        m.open_product(u, PATH).await;
        m.tap(u, "Buy", "reserved for you").await;
    }
    for (i, &u) in users.iter().enumerate() {
        // Every Confirm traps (the buyer gets the host's popup): after five in a row the
        // circuit breaker disables the shop.
        let (id, data) = m.button(u, "Confirm").unwrap();
        m.emu.press(u, id, &data);
        let sorry = |e: &wharf::telegram::emulator::Emulator| {
            e.answered().iter().filter(|(_, t)| t.as_deref().is_some_and(|t| t.contains("nothing was changed"))).count()
                > i
        };
        assert!(m.emu.wait_sent(WAIT, sorry).await, "{:?}", m.emu.answered());
    }
    until("the breaker never opened", || async { m.h.rt.is_disabled("shop") }).await;
    // The reservations' timers fire while the shop is disabled: nobody releases the items.
    let mut orders = Vec::new();
    for &u in &users {
        orders.push(m.kv::<i64>("shop", &format!("res:{u}")).await.unwrap());
    }
    m.h.rt.clock().advance(Duration::from_secs(16 * 60));
    for id in orders {
        let timer = format!("exp:{id}");
        let fired = || async { !m.h.rt.storage().timer_exists("shop", &timer).await.unwrap() };
        until(&format!("timer {timer} never fired"), fired).await;
    }
    m.h.idle().await;
    assert!(m.keys("shop", "avail:").await.is_empty(), "the timers fired while the shop was disabled");

    // A fixed build goes in (the same code with an extra custom section); the breaker
    // resets and the next sweep releases every lapsed reservation.
    let mut bytes = std::fs::read(&module).unwrap();
    bytes.extend_from_slice(&[0x00, 0x06, 0x04, b'f', b'i', b'x', b'd', 0x01]);
    std::fs::write(&module, bytes).unwrap();
    let report = m.h.rt.reload().await.unwrap();
    assert_eq!(report.swapped, ["shop"], "{report:?}");
    assert!(!m.h.rt.is_disabled("shop"));
    let swept = m.after(95, "expired", || m.h.rt.clock().advance(Duration::from_secs(61))).await;
    assert!(swept.text.contains("Steam 50 expired; the item is back on sale"), "{}", swept.text);
    m.h.idle().await;
    assert_eq!(m.keys("shop", "avail:").await.len(), 5, "every item is back on sale");
    assert!(m.keys("shop", "rexp:").await.is_empty());
    for &u in &users {
        assert_eq!(m.balance(u).await, 1_000, "user {u} was never charged");
    }
}
