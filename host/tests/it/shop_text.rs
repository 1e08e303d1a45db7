//! What shop admins and buyers read: commands that take a product id or its unique name,
//! an inventory that tells namesakes apart, imports that report every bad line at once,
//! order numbers that count from 1 for each buyer, the re-take cooldown on a last item, and records stored by
//! the previous version that still load.

use std::time::Duration;

use wharf::storage::TurnCommit;

use crate::common::T0;
use crate::market::*;

const PATH: [&str; 4] = ["Warsaw", "Mokotów", "Gift cards", "Steam 50"];

fn steam(n: usize) -> String {
    (1..=n).map(|i| format!("Warsaw | Mokotów | Gift cards | Steam 50 | 50 | STEAM-CODE-{i:04}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_take_a_product_id_or_its_unique_name() {
    let m = market("").await;
    m.import(&(steam(2) + "Kraków | Old Town | Gift cards | Steam 50 | 50 | K-1\nWarsaw | Wola | Software | Office licence | 100 | O-1\n"))
        .await;
    m.say(ADMIN, "/price \"Office licence\" 120", "#3 Office licence now costs 120 PLN").await;
    m.say(ADMIN, "/price office licence 130", "#3 Office licence now costs 130 PLN").await;
    m.say(ADMIN, "/describe Office licence For Windows and macOS.", "Description of #3 Office licence updated").await;
    let twins = m.say(ADMIN, "/price Steam 50 45", "names 2 products").await;
    assert_eq!(
        twins.text,
        "⚠️ \"Steam 50\" names 2 products: #1 (Warsaw / Mokotów / Gift cards), #2 (Kraków / Old Town / Gift cards); \
         use the id\n\nUsage: /price PRODUCT AMOUNT\n\
         PRODUCT is a product id or a name no other product has (in quotes if it has spaces)"
    );
    m.say(ADMIN, "/discount #2 10", "Discount 10% set on 1 product: #2 Steam 50.").await;
    m.say(ADMIN, "/discount Office licence 5", "Discount 5% set on 1 product: #3 Office licence.").await;
    m.say(ADMIN, "/price 9 10", "⚠️ There is no product #9").await;
    m.say(ADMIN, "/price Xbox 10", "⚠️ There is no product named \"Xbox\"").await;
    m.say(ADMIN, "/price", "⚠️ The product is missing").await;
    m.say(ADMIN, "/discount 1 lots", "⚠️ \"lots\" is not a percentage from 0 to 100").await;
    m.say(ADMIN, "/price 1 ten", "⚠️ \"ten\" is not an amount like 12 or 12.50").await;

    let inventory = m.say(ADMIN, "/inventory", "Inventory").await;
    for line in [
        "📋 <b>Inventory</b> (3 products)",
        "#1 Steam 50 · Warsaw / Mokotów / Gift cards: 2 available, 0 reserved, 0 sold",
        "#2 Steam 50 −10% · Kraków / Old Town / Gift cards: 1 available, 0 reserved, 0 sold",
        "#3 Office licence −5% · Warsaw / Wola / Software: 1 available, 0 reserved, 0 sold",
    ] {
        assert!(inventory.text.contains(line), "{line:?} is not in {}", inventory.text);
    }
    m.say(51, "/shop", "Choose a city").await;
    m.tap(51, "Warsaw", "choose a district").await;
    m.tap(51, "Wola", "choose a category").await;
    m.tap(51, "Software", "Software").await;
    let card = m.tap(51, "Office licence", "Price:").await;
    assert!(card.text.contains("For Windows and macOS.") && card.text.contains("<s>130 PLN</s>"), "{}", card.text);
    for t in m.emu.texts(ADMIN) {
        assert!(!t.contains("invalid input") && !t.contains("(s)") && !t.contains("<product"), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_reports_every_bad_line_at_once_in_line_order() {
    let m = market("").await;
    m.import(&steam(1)).await;
    let answer = m
        .import(
            "Warsaw | Mokotów | Gift cards | Steam 50 | 45 | NEW-1\n\
             garbage\n\
             Warsaw | Mokotów | Gift cards | Steam 50 | 50 | STEAM-CODE-0001\n\
             Kraków | Old Town | Games | Xbox | 10 | X-1\n\
             Kraków | Old Town | Games | Xbox | 12.50 | X-2\n\
             Kraków | Old Town | Games | Xbox | ten | X-3\n\
             Kraków | Old Town | Games | Xbox | 10 | X-1\n",
        )
        .await;
    let expected = [
        "❌ Nothing was imported: 6 bad lines.",
        "line 2: product #1 Steam 50 costs 50 PLN, not 45 PLN; change its price with /price first",
        "line 3: expected 6 or 7 fields separated by '|', found 1",
        "line 4: this payload is already in stock (item #1)",
        "line 6: Xbox costs 12.50 PLN here but 10 PLN on line 5; a product has one price",
        "line 7: the price \"ten\" is not an amount like 12 or 12.50",
        "line 8: the same payload as line 5",
    ];
    assert_eq!(answer.text, expected.join("\n").replacen('\n', "\n\n", 1));
    assert_eq!(m.keys("shop", "avail:").await.len(), 1, "nothing was imported");
    // An item may follow the command on its line (it is line 1).
    let one = m.say(ADMIN, "/import Warsaw | Mokotów | Gift cards | Steam 50 | 50 | SAME-LINE", "mport").await;
    assert_eq!(one.text, "✅ Imported 1 item.");
    let none = m.say(ADMIN, "/import", "There are no item lines").await;
    assert!(none.text.contains("Usage: /import, then one item per line"), "{}", none.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_buyers_paid_orders_are_numbered_from_one_and_a_report_alone_means_today() {
    let m = market("").await;
    m.import(&steam(3)).await;
    m.credit(61, "200").await;
    m.credit(62, "200").await;
    // A reservation cancelled takes no number.
    m.open_product(61, PATH).await;
    m.tap(61, "Buy", "reserved for you").await;
    m.tap(61, "Cancel", "cancelled").await;
    // Each buyer's orders count from 1.
    for (user, n) in [(61, 1), (62, 1), (61, 2)] {
        m.open_product(user, PATH).await;
        m.tap(user, "Buy", "reserved for you").await;
        let paid = m.tap(user, "Confirm", "Your item:").await;
        assert!(paid.text.starts_with(&format!("✅ <b>Order #{n}</b>: Steam 50")), "{}", paid.text);
    }
    let orders = m.say(61, "/orders", "Your orders").await;
    assert!(orders.text.contains("\n#2 · 2023-11-14 · Steam 50") && orders.text.contains("\n#1 · "), "{}", orders.text);
    m.tap(61, "Show item of #1", "Delivered again").await;
    let wallet = m.say(62, "/wallet", "Your wallet").await;
    assert!(wallet.text.contains("Order #1: Steam 50"), "{}", wallet.text);
    let today = m.say(ADMIN, "/report", "Sales").await;
    assert!(today.text.starts_with("📈 Sales 2023-11-14\nOrders: 3\nRevenue: 150 PLN"), "{}", today.text);
    let usage = m.say(ADMIN, "/report 2023-11-14 2023-11-01", "end date is before").await;
    assert!(usage.text.contains("Usage: /report [FROM [TO]]"), "{}", usage.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_item_whose_reservation_expired_is_not_retaken_at_once() {
    let m = market("retake_cooldown_minutes = 10").await;
    m.import(&steam(1)).await;
    m.credit(41, "100").await;
    m.credit(42, "100").await;
    m.open_product(41, PATH).await;
    m.tap(41, "Buy", "reserved for you").await;
    let expired = m.after(41, "expired", || m.h.rt.clock().advance(Duration::from_secs(15 * 60))).await;
    assert_eq!(
        expired.text,
        "⌛ Your reservation of Steam 50 expired; the item is back on sale. It is the last one, so others get \
         the first chance: you can reserve it again after 2023-11-14 22:38 UTC."
    );
    // At once: refused, and the item stays for sale.
    m.open_product(41, PATH).await;
    let no = m.tap(41, "Buy", "first chance").await;
    assert!(no.text.ends_with("You can reserve it again after 2023-11-14 22:38 UTC."), "{}", no.text);
    assert_eq!(m.keys("shop", "avail:").await.len(), 1);
    // Others can take it meanwhile.
    m.open_product(42, PATH).await;
    m.tap(42, "Buy", "reserved for you").await;
    m.tap(42, "Cancel", "cancelled").await;
    // With more stock the user may take one too.
    m.import("Warsaw | Mokotów | Gift cards | Steam 50 | 50 | STEAM-CODE-0002\n").await;
    m.open_product(41, PATH).await;
    m.tap(41, "Buy", "reserved for you").await;
    m.tap(41, "Cancel", "cancelled").await;
    // Back to one item; once the cooldown is over, the last one may be taken again.
    m.open_product(42, PATH).await;
    m.tap(42, "Buy", "reserved for you").await;
    m.tap(42, "Confirm", "Your item:").await;
    m.open_product(41, PATH).await;
    m.tap(41, "Buy", "first chance").await;
    m.h.rt.clock().advance(Duration::from_secs(10 * 60));
    m.open_product(41, PATH).await;
    m.tap(41, "Buy", "reserved for you").await;
    let refused = m
        .events()
        .await
        .into_iter()
        .filter(|(k, _, f)| k == "purchase.failed" && f["reason"] == "reservation lapsed, retake cooldown");
    assert_eq!(refused.count(), 2);
    m.h.idle().await;
    assert!(m.keys("shop", "cool:").await.is_empty(), "a cooldown that ran out is removed");
}

/// Store `value` under `key` in `plugin`'s namespace, as an earlier version wrote it.
async fn write_old(m: &Market, plugin: &str, entries: &[(&str, String)]) {
    let writes =
        entries.iter().map(|(k, v)| (plugin.to_owned(), (*k).to_owned(), Some(v.clone().into_bytes()))).collect();
    m.h.rt.storage().commit(TurnCommit { writes, now_ms: T0, ..TurnCommit::default() }).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_deposits_stored_by_the_previous_version_still_load() {
    let m = market("").await;
    m.import(&steam(1)).await;
    // A paid order and a pending deposit without numbers, as the previous version wrote them.
    let order = format!(
        r#"{{"id":555,"user":61,"product":1,"name":"Steam 50","item":7,"price":5000,"discount":0,"final_price":5000,"status":"paid","created_ms":{T0},"expires_ms":{},"paid_ms":{T0}}}"#,
        T0 + 900_000
    );
    let item = r#"{"id":7,"product":1,"text":"OLD-CODE","photo":null,"state":"sold","order":555}"#.to_owned();
    write_old(
        &m,
        "shop",
        &[
            ("order:555", order),
            ("item:000001:00000007", item),
            ("uo:61:00000000000000000555", "555".into()),
            (&format!("sold:{T0:013}:555"), "555".into()),
        ],
    )
    .await;
    let deposit = format!(
        r#"{{"id":777,"user":5,"amount":5000,"method":"blik","reference":"OLD-REF","created_ms":{T0},"status":"pending","copies":[]}}"#
    );
    write_old(
        &m,
        "wallet",
        &[
            ("dep:777", deposit),
            ("pend:00000000000000000777", "777".into()),
            ("upend:5:00000000000000000777", "777".into()),
        ],
    )
    .await;

    // They show the number they were shown before: their id.
    let orders = m.say(61, "/orders", "Your orders").await;
    assert!(orders.text.contains("\n#555 · 2023-11-14 · Steam 50 · 50 PLN"), "{}", orders.text);
    let again = m.tap(61, "Show item of #555", "Delivered again").await;
    assert!(again.text.contains("Order #555") && again.text.contains("OLD-CODE"), "{}", again.text);
    m.say(ADMIN, "/report", "Orders: 1").await;
    let pending = m.say(ADMIN, "/deposits", "1 pending deposit").await;
    assert!(pending.text.contains("#777 · user <code>5</code> · 50 PLN"), "{}", pending.text);
    // New records count from 1 beside them.
    m.credit(62, "100").await;
    m.open_product(62, PATH).await;
    m.tap(62, "Buy", "reserved for you").await;
    m.tap(62, "Confirm", "Order #1</b>").await;
    m.say(ADMIN, "/reject 777 no such transfer", "Deposit #777 rejected").await;
    let told = |e: &wharf::telegram::emulator::Emulator| {
        e.texts(5).iter().any(|t| t.contains("Your deposit #777 of 50 PLN was rejected: no such transfer"))
    };
    assert!(m.emu.wait_sent(WAIT, told).await, "{:?}", m.emu.texts(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_confirming_at_once_do_not_wait_for_one_order_counter() {
    let m = market("").await;
    m.import(&steam(12)).await;
    let users: Vec<i64> = (71..=80).collect();
    for &u in &users {
        m.credit(u, "50").await;
        m.open_product(u, PATH).await;
        m.tap(u, "Buy", "reserved for you").await;
    }
    m.h.idle().await;
    let conflicts = m.h.rt.metrics().turns(wharf::metrics::TurnOutcome::Conflict);
    for &u in &users {
        let (id, data) = m.button(u, "Confirm").unwrap();
        m.emu.press(u, id, &data);
    }
    let paid = |e: &wharf::telegram::emulator::Emulator, u: i64| {
        e.texts(u).into_iter().find(|t| t.starts_with("✅ <b>Order #") && t.contains("Steam 50"))
    };
    assert!(m.emu.wait_sent(WAIT, |e| users.iter().all(|u| paid(e, *u).is_some())).await, "every buyer paid");
    assert_eq!(m.h.rt.metrics().turns(wharf::metrics::TurnOutcome::Conflict), conflicts, "no confirm had to run again");
    for &u in &users {
        assert!(paid(&m.emu, u).unwrap().starts_with("✅ <b>Order #1</b>"), "user {u}'s first order is #1");
    }
}
