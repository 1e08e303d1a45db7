//! The analytics plugin through the emulator, as users and admins would meet it: a
//! scripted day counted exactly (also the updates the shop stopped, which only an
//! observer sees), retention and the funnel over several days on the manual clock, no
//! message text anywhere in its storage, `/forgetme`, the CSV export arriving as
//! documents; and the neighbours: documents over the host's caps refused while other
//! chats are served, a forged deposit not counted, a failing observer costing nobody
//! their answer.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wharf::telegram::emulator::SentDocument;

use crate::common::*;
use crate::market::*;
use crate::wallet::request_deposit;

const DAY_MS: i64 = 86_400_000;
/// Midnight (UTC) of the day the manual clock starts in (T0 is 22:13 that day).
const D0: i64 = T0 - T0 % DAY_MS;
const PATH: [&str; 4] = ["Warsaw", "Mokotów", "Gift cards", "Steam 50"];

/// The wallet, the shop, analytics (with `analytics_extra` in its table) and the
/// `reporter` fixture (usage, documents, forged events).
async fn bot(analytics_extra: &str) -> Arc<Market> {
    let tables = plugins(&wasm("shop"), "")
        + &plugin(
            "analytics",
            "analytics",
            &format!("grants = [\"kv\", \"telegram.send\", \"scheduler\"]\n{analytics_extra}"),
        )
        + &plugin("reporter", "reporter", r#"grants = ["telegram.send", "events"]"#);
    market_from(&Db::Sqlite, &tables).await
}

/// `YYYY-MM-DD` of day `d` after the first.
fn date(d: i64) -> String {
    let days = d + D0 / DAY_MS;
    // Civil from days (H. Hinnant), as the plugin's keys spell them.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Move the manual clock to `hour` o'clock of day `d` (forward only), after the work
/// queued so far is done.
async fn at(m: &Market, d: i64, hour: i64) {
    m.h.idle().await;
    let clock = m.h.rt.clock();
    let target = D0 + d * DAY_MS + hour * 3_600_000;
    let by = target - clock.now_ms();
    assert!(by >= 0, "the clock only moves forward");
    clock.advance(Duration::from_millis(u64::try_from(by).unwrap()));
    m.h.idle().await;
}

/// `user` sends `text`, which nobody answers; waits until everything it caused is done.
async fn quietly(m: &Market, user: i64, text: &str) {
    m.emu.send_text(user, text);
    // Nobody answers: wait until the bot has taken the update into its inbox, then
    // until it is handled (an idle bot may not have polled it yet).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while m.emu.unconfirmed() > 0 {
        assert!(std::time::Instant::now() < deadline, "the bot did not take the update");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    m.h.idle().await;
}

/// The admin's newest answer containing `expect` to `/stats ARGS`.
async fn stats(m: &Market, args: &str, expect: &str) -> String {
    m.say(ADMIN, format!("/stats {args}").trim_end(), expect).await.text
}

/// Every key and value analytics stores.
async fn analytics_kv(m: &Market) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in m.keys("analytics", "").await {
        let (v, _) = m.h.rt.storage().kv_get("analytics", &k).await.unwrap();
        out.push((k, String::from_utf8_lossy(&v.unwrap_or_default()).into_owned()));
    }
    out
}

/// The documents the admin received, oldest first.
fn documents(m: &Market) -> Vec<SentDocument> {
    m.emu.sent(ADMIN).into_iter().filter_map(|s| s.document).collect()
}

/// The admin approves deposit request `id` once it reached them.
async fn approve(m: &Market, id: i64) {
    let asked = |e: &wharf::telegram::emulator::Emulator| {
        e.texts(ADMIN).iter().any(|t| t.contains(&format!("Deposit request #{id}")))
    };
    assert!(m.emu.wait_sent(WAIT, asked).await, "the admin was not asked to approve #{id}");
    let (msg, data) = m.button(ADMIN, "Approve").expect("an Approve button");
    m.after(ADMIN, &format!("Deposit #{id} approved"), || {
        m.emu.press(ADMIN, msg, &data);
    })
    .await;
}

/// Day 0: the admin stocks one item and credits the buyer. Day 1: the scripted day.
/// Returns once everything it caused is handled.
async fn scripted_day(m: &Market) {
    m.import(&format!("{} | {} | {} | {} | 50 | STEAM-CODE-0001", PATH[0], PATH[1], PATH[2], PATH[3])).await;
    m.credit(11, "50").await;
    at(m, 1, 9).await;
    // User 11 comes from a campaign, says something private, and buys through the shop,
    // which stops every one of these updates (the command and six button presses).
    quietly(m, 11, "/start spring_sale").await;
    quietly(m, 11, "my secret diary XYZZY-123").await;
    m.open_product(11, PATH).await;
    m.tap(11, "Buy", "reserved for you").await;
    m.tap(11, "Confirm", "Your item:").await;
    // User 12 starts plainly and deposits 50 PLN by BLIK; the admin approves it.
    quietly(m, 12, "/start").await;
    let id = request_deposit(m, 12, "50", "BLIK SECRET-REF-99").await;
    approve(m, id).await;
    // User 13 asks a GPT-like plugin twice (150 tokens), forges a deposit and types a
    // command nobody has.
    m.say(13, "/ask 120", "answered").await;
    m.say(13, "/ask 30", "answered").await;
    m.say(13, "/forge", "forged").await;
    quietly(m, 13, "/nosuchthing please remember PLUGH").await;
    m.h.idle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_day_is_counted_exactly_also_what_the_shop_stopped() {
    let m = bot("").await;
    scripted_day(&m).await;
    let day1 = date(1);

    // What each user did on day 1, as stored (updates and business events apart).
    let d = |u: i64| {
        let m = m.clone();
        let key = format!("d:{day1}:{u}");
        async move { m.kv::<Value>("analytics", &key).await.unwrap_or_else(|| panic!("no {key}")) }
    };
    // 11: /start, the diary, /shop; four taps to the product, Buy, Confirm.
    assert_eq!(d(11).await, serde_json::json!({"m": 3, "b": 6, "c": {"shop": 1, "start": 1}, "s": {"spring_sale": 1}}));
    // 12: /start, /wallet, "abc", "0.5", "50", the reference; Deposit, BLIK.
    assert_eq!(d(12).await, serde_json::json!({"m": 6, "b": 2, "c": {"start": 1, "wallet": 1}, "s": {"(none)": 1}}));
    assert_eq!(d(13).await, serde_json::json!({"m": 4, "c": {"ask": 2, "forge": 1, "nosuchthing": 1}}));
    assert_eq!(d(ADMIN).await, serde_json::json!({"b": 1}), "the admin pressed Approve");
    let e = |u: i64| {
        let m = m.clone();
        let key = format!("e:{day1}:{u}");
        async move { m.kv::<Value>("analytics", &key).await }
    };
    assert_eq!(e(11).await, Some(serde_json::json!({"pur": 1, "pur_amt": 5000})));
    assert_eq!(e(12).await, Some(serde_json::json!({"dep": 1, "dep_amt": 5000})));
    assert_eq!(
        e(13).await,
        Some(serde_json::json!({"u": {"reporter/tokens": 150}})),
        "the forged deposit is not counted"
    );
    let funnel: Value = m.kv("analytics", "u:12").await.unwrap();
    assert!(funnel["start"].is_i64() && funnel["wallet"].is_i64() && funnel["deposit"].is_i64(), "{funnel}");
    assert!(funnel.get("purchase").is_none());

    // Day 2: the dashboard over day 1.
    at(&m, 2, 8).await;
    let text = stats(&m, "1", "Last 1 day").await;
    for line in [
        format!("📊 Last 1 day ({day1} – {day1}, UTC)"),
        "Today so far: 0 active, 0 new".into(),
        "DAU 4 (yesterday), 4 a day on average · WAU 4 · MAU 4".into(),
        "New users 3 · messages 13 · commands 8 · buttons 9".into(),
        "Deposits 1 (50 PLN) · purchases 1 (50 PLN)".into(),
        "Retention: D1 – (0/0) · D7 – (0/0) · D30 – (0/0)".into(),
        "Funnel of the new users: /start 2 → /wallet 1 (50%) → deposit 1 (50%) → purchase 0 (0%)".into(),
        "Top commands: /ask 2 · /start 2 · /forge 1 · /nosuchthing 1 · /shop 1 · /wallet 1".into(),
        "Sources of the new users: (none) 2 · spring_sale 1".into(),
        "/start by payload: (none) 1 · spring_sale 1".into(),
        "Reported usage: reporter/tokens 150".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }

    // The CSV files arrive as documents with these rows.
    m.after(ADMIN, "Commands, /start payloads", || {
        m.emu.send_text(ADMIN, "/stats csv 1");
    })
    .await;
    let docs = documents(&m);
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!(docs[0].file_name, format!("analytics-days_{day1}_{day1}.csv"));
    assert_eq!(
        docs[0].text(),
        format!(
            "date,active_users,new_users,messages,commands,buttons,starts,deposits,deposit_amount,purchases,purchase_amount,retained_d1,retained_d7,retained_d30\n{day1},4,3,13,8,9,2,1,5000,1,5000,,,\n"
        )
    );
    let counters = docs[1].text();
    let mut rows: Vec<&str> = counters.lines().collect();
    assert_eq!(rows.remove(0), "date,kind,name,count");
    let want = [
        format!("{day1},command,ask,2"),
        format!("{day1},command,forge,1"),
        format!("{day1},command,nosuchthing,1"),
        format!("{day1},command,shop,1"),
        format!("{day1},command,start,2"),
        format!("{day1},command,wallet,1"),
        format!("{day1},start,(none),1"),
        format!("{day1},start,spring_sale,1"),
        format!("{day1},usage,reporter/tokens,150"),
    ];
    assert_eq!(rows, want);

    // Nothing anyone typed is stored: not the diary, the amount's refusals, the payment
    // reference, the command's words, nor the item delivered.
    let kv = analytics_kv(&m).await;
    assert!(!kv.is_empty());
    for (k, v) in &kv {
        for secret in ["XYZZY", "diary", "SECRET-REF", "BLIK", "PLUGH", "please", "abc", "STEAM-CODE", "0.5"] {
            assert!(!k.contains(secret) && !v.contains(secret), "{secret:?} is in analytics/{k} = {v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetme_deletes_a_users_rows_and_the_days_are_summed_again() {
    let m = bot("").await;
    scripted_day(&m).await;
    at(&m, 2, 8).await;
    let before = stats(&m, "1", "Last 1 day").await;
    assert!(before.contains("New users 3 · messages 13"), "{before}");

    m.say(11, "/forgetme", "Your usage statistics were deleted").await;
    m.h.idle().await;
    let left: Vec<String> = m.keys("analytics", "").await;
    let about_11: Vec<&String> = left.iter().filter(|k| k.ends_with(":11") || k.as_str() == "u:11").collect();
    assert!(about_11.is_empty(), "left about user 11: {about_11:?}");
    assert!(left.contains(&"u:12".to_owned()), "the others stay: {left:?}");

    let after = stats(&m, "1", "Last 1 day").await;
    assert!(after.contains("New users 2 · messages 10 · commands 6 · buttons 3"), "{after}");
    assert!(after.contains("Deposits 1 (50 PLN) · purchases 0 (0 PLN)"), "{after}");
    assert!(!after.contains("spring_sale"), "{after}");
    m.say(11, "/forgetme", "No usage statistics were kept about you").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_and_the_funnel_over_several_days() {
    let m = bot("").await;
    m.import(&format!("{} | {} | {} | {} | 50 | STEAM-CODE-0002", PATH[0], PATH[1], PATH[2], PATH[3])).await;
    // Day 0: four newcomers; 21 also opens /wallet.
    for u in 21..=24 {
        quietly(&m, u, "/start").await;
    }
    m.say(21, "/wallet", "Your wallet").await;
    // Day 1: 21 and 22 come back; 21 deposits.
    at(&m, 1, 10).await;
    quietly(&m, 22, "hi").await;
    let id = request_deposit(&m, 21, "50", "REF-1").await;
    approve(&m, id).await;
    // Day 7: 21 comes back and buys.
    at(&m, 7, 10).await;
    m.open_product(21, PATH).await;
    m.tap(21, "Buy", "reserved for you").await;
    m.tap(21, "Confirm", "Your item:").await;

    at(&m, 8, 9).await;
    let text = stats(&m, "8", "Last 8 days").await;
    for line in [
        format!("📊 Last 8 days ({} – {}, UTC)", date(0), date(7)),
        // Day 0's cohort is 21-24 and the admin (who imported): 21, 22 and the admin came
        // back on day 1, 21 on day 7.
        "Retention: D1 60% (3/5) · D7 20% (1/5) · D30 – (0/0)".into(),
        "Funnel of the new users: /start 4 → /wallet 1 (25%) → deposit 1 (25%) → purchase 1 (25%)".into(),
        "Sources of the new users: (none) 5".into(),
        // Active: 5 on day 0, 3 on day 1, 1 on day 7: 9 in 8 days.
        "DAU 1 (yesterday), 1 a day on average · WAU 1 · MAU 5".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in:\n{text}");
    }
    // Days two or more back are summed once and kept.
    assert!(m.kv::<Value>("analytics", &format!("r:{}", date(0))).await.is_some());
    assert!(m.kv::<Value>("analytics", &format!("r:{}", date(7))).await.is_none(), "yesterday may still change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_over_the_caps_are_refused_and_other_chats_are_served() {
    let m = bot("").await;
    let big = m.say(31, "/doc 1048577", "doc").await.text;
    assert!(big.starts_with("doc refused:") && big.contains("1-1048576 bytes"), "{big}");
    let bad = m.say(31, "/doc 10 ../../etc/passwd", "doc").await.text;
    assert!(bad.contains("file name may not contain"), "{bad}");
    // Five files of 1 MiB in one turn: four fit the turn's 4 MiB. Meanwhile another
    // user is answered.
    m.emu.send_text(31, "/docs 5 1048576");
    m.say(32, "/ask 5", "answered").await;
    assert!(m.emu.wait_sent(WAIT, |e| e.texts(31).iter().any(|t| t == "4 docs")).await, "{:?}", m.emu.texts(31));
    let arrived = |e: &wharf::telegram::emulator::Emulator| e.sent(31).iter().filter(|s| s.document.is_some()).count();
    assert!(m.emu.wait_sent(WAIT, |e| arrived(e) == 4).await);
    assert!(m.emu.sent(31).iter().filter_map(|s| s.document.as_ref()).all(|d| d.bytes.len() == 1 << 20));
    assert!(m.h.rt.storage().dead_letters().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_observer_costs_nobody_their_answer() {
    // Analytics may keep two keys: every observation fails on the KV quota.
    let m = bot("limits = { kv_keys = 2 }").await;
    for u in 41..=46 {
        m.say(u, "/wallet", "Your wallet").await;
        m.say(u, "/ask 1", "answered").await;
    }
    m.h.idle().await;
    let kept = m.keys("analytics", "").await;
    // An observation writes three keys (the day, the user, the cohort mark): none fit.
    // Usage events (one key each) fit until the quota is full.
    assert!(kept.len() <= 2 && kept.iter().all(|k| k.starts_with("e:")), "observations went over the quota: {kept:?}");
    let hits =
        m.events().await.into_iter().filter(|(kind, _, f)| kind == "budget.exceeded" && f["plugin"] == "analytics");
    assert!(hits.count() > 0, "the observer's failures are recorded");
    for u in 41..=46 {
        assert_eq!(m.emu.texts(u).len(), 2, "user {u}: {:?}", m.emu.texts(u));
    }
}
