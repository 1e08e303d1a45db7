//! Native tests: counting and the views on a [`MemStore`], the commands on the SDK's
//! harness (observations handed to `observe` as the host would).

use wharf_sdk::testing::{self, Harness, T0, json};
use wharf_sdk::{Event, Plugin};

use crate::Analytics;
use crate::model::{self, DAY_MS, OTHER};
use crate::observe::{self, Business, Update};
use crate::privacy;
use crate::report;
use crate::store::{MemStore, Store};
use crate::views::Views;

/// Midnight (UTC) of the harness's first day.
const D0: i64 = T0 - T0 % DAY_MS;

/// The time `h` hours into day `d` after [`D0`].
fn at(d: i64, h: i64) -> i64 {
    D0 + d * DAY_MS + h * 3_600_000
}

/// Updates and business events straight into a store.
#[derive(Default)]
struct Sim {
    store: MemStore,
}

impl Sim {
    fn say(&mut self, user: i64, text: &str, now: i64) {
        let e = testing::text(user, text);
        observe::update(&mut self.store, &Update::of(&e).expect("countable"), now, now).unwrap();
    }

    fn press(&mut self, user: i64, now: i64) {
        let e = testing::press(user, 1, "x");
        observe::update(&mut self.store, &Update::of(&e).expect("countable"), now, now).unwrap();
    }

    fn event(&mut self, topic: &str, source: &str, payload: serde_json::Value, now: i64) {
        let Event::Custom(e) = testing::custom(topic, payload.to_string().as_bytes(), source) else { unreachable!() };
        if let Some(b) = Business::of(&e).unwrap() {
            observe::business(&mut self.store, &b, now).unwrap();
        }
    }

    fn deposit(&mut self, user: i64, amount: i64, now: i64) {
        let p = json!({"user_id": user, "amount": amount, "seq": 1, "key": "k", "reason": "r", "currency": "PLN", "decimals": 2, "at_ms": now});
        self.event("wallet.deposit", "wallet", p, now);
    }

    fn purchase(&mut self, user: i64, amount: i64, now: i64) {
        self.event("shop.purchase", "shop", json!({"user_id": user, "order": 1, "amount": amount}), now);
    }
}

#[test]
fn a_day_of_traffic_is_counted_exactly() {
    let mut sim = Sim::default();
    sim.say(1, "/start ref_abc", at(0, 9));
    sim.say(1, "hello there", at(0, 9));
    sim.say(1, "/shop", at(0, 10));
    sim.press(1, at(0, 10));
    sim.press(1, at(0, 10));
    sim.say(2, "/start", at(0, 11));
    sim.say(2, "/wallet", at(0, 11));
    sim.say(2, "/wallet", at(0, 12));
    sim.deposit(2, 10_000, at(0, 12));
    sim.purchase(2, 5_000, at(0, 13));
    sim.event("usage", "gpt", json!({"user_id": 1, "name": "tokens", "n": 120}), at(0, 14));
    sim.event("usage", "gpt", json!({"user_id": 1, "name": "tokens", "n": 30}), at(0, 15));
    // Not trusted: a deposit from another source, usage with a bad name.
    sim.event("wallet.deposit", "intruder", json!({"user_id": 1, "amount": 999}), at(0, 15));
    sim.event("usage", "gpt", json!({"user_id": 1, "name": "Bad Name", "n": 5}), at(0, 15));
    sim.say(3, "/stats", at(1, 1));

    let r = Views::new(&mut sim.store, at(1, 2)).report(1).unwrap();
    let day = &r.days[0];
    assert_eq!((day.day, day.rollup.active, day.rollup.new), (model::day_of(D0), 2, 2));
    let c = &day.rollup.counts;
    assert_eq!((c.m, c.commands(), c.b), (6, 5, 2));
    assert_eq!(c.c["start"], 2);
    assert_eq!(c.c["wallet"], 2);
    assert_eq!(c.c["shop"], 1);
    assert_eq!((c.s["ref_abc"], c.s[model::NONE]), (1, 1));
    assert_eq!((c.dep, c.dep_amt, c.pur, c.pur_amt), (1, 10_000, 1, 5_000));
    assert_eq!(c.u["gpt/tokens"], 150);
    assert_eq!(c.u.len(), 1);
    assert_eq!((r.today_active, r.today_new, r.wau, r.mau), (1, 1, 3, 3));
    assert_eq!(r.funnel, [2, 1, 1, 1], "user 2 went all the way; user 1 only started");
    assert_eq!(r.sources, [("(none)".to_owned(), 1), ("ref_abc".to_owned(), 1)]);
    let text = report::dashboard(&r);
    assert!(text.contains("New users 2 · messages 6 · commands 5 · buttons 2"), "{text}");
    assert!(text.contains("Deposits 1 (100 PLN) · purchases 1 (50 PLN)"), "{text}");
    assert!(text.contains("Today so far: 1 active, 1 new"), "{text}");
    assert!(text.contains("Reported usage: gpt/tokens 150"), "{text}");
}

#[test]
fn retention_and_the_funnel_follow_first_seen_cohorts() {
    let mut sim = Sim::default();
    // Day 0: users 1-4 arrive. Day 1: 1 and 2 return. Day 7: 1 returns. Day 30: 1 again.
    for u in 1..=4 {
        sim.say(u, "/start", at(0, 8));
    }
    sim.say(1, "hi", at(1, 8));
    sim.say(2, "hi", at(1, 9));
    sim.say(1, "hi", at(7, 8));
    sim.say(1, "hi", at(30, 8));
    // Day 1: user 5 arrives and never returns.
    sim.say(5, "/start", at(1, 10));
    sim.say(1, "/wallet", at(0, 9));
    sim.deposit(1, 5_000, at(0, 10));
    sim.purchase(1, 5_000, at(0, 11));
    sim.say(2, "/wallet", at(0, 12));

    // On day 2 only D1 of day 0 is measurable (2 of 4); day 1's cohort (user 5) has no
    // complete day after it yet.
    let r = Views::new(&mut sim.store, at(2, 0)).report(2).unwrap();
    assert_eq!(r.days[0].retained, [Some(2), None, None]);
    assert_eq!(r.days[1].retained, [None, None, None]);
    assert_eq!(r.retention, [(2, 4), (0, 0), (0, 0)]);
    assert_eq!(r.funnel, [5, 2, 1, 1], "of the 5 new users: all started, 2 opened /wallet, 1 deposited and bought");
    let r = Views::new(&mut sim.store, at(3, 0)).report(2).unwrap();
    assert_eq!(r.days[0].retained, [Some(0), None, None], "user 5 (day 1) did not come back on day 2");
    // On day 31: D7 and D30 of day 0 are 1 of 4 each.
    let r = Views::new(&mut sim.store, at(31, 0)).report(31).unwrap();
    assert_eq!(r.days[0].retained, [Some(2), Some(1), Some(1)]);
    assert_eq!(r.retention[1], (1, 5));
    assert_eq!(r.retention[2], (1, 4), "day 1 + 30 is today: not measured yet");
    assert_eq!((r.mau, r.wau), (1, 1), "only user 1 was active in the last 30 days (on day 30)");
    let later = Views::new(&mut sim.store, at(38, 0)).report(1).unwrap();
    assert_eq!((later.mau, later.wau), (1, 0), "day 30 is within 30 days of day 38, not 7");
    let csv = report::days_csv(&r);
    let first = csv.lines().nth(1).unwrap();
    assert_eq!(first, format!("{},4,4,6,6,0,4,1,5000,1,5000,2,1,1", model::date(model::day_of(D0))));
}

#[test]
fn no_message_text_is_ever_stored() {
    let mut sim = Sim::default();
    let secrets = ["XYZZY-secret", "hunter2", "PLUGH"];
    sim.say(1, "my password is XYZZY-secret", at(0, 1));
    sim.say(1, "/login hunter2 PLUGH", at(0, 2));
    sim.say(1, "/start hello hunter2", at(0, 3));
    sim.say(1, "/hunter2_is_my_password_really_long_text", at(0, 4));
    let r = Views::new(&mut sim.store, at(3, 0)).report(3).unwrap();
    assert_eq!(r.days[0].rollup.counts.c["login"], 1);
    assert_eq!(r.days[0].rollup.counts.s[OTHER], 1, "a payload that is not a deep link is other");
    for (k, v) in &sim.store.map {
        let v = String::from_utf8_lossy(v);
        for s in secrets {
            assert!(!k.contains(s) && !v.contains(s), "{s} stored under {k}: {v}");
        }
    }
}

#[test]
fn forgetting_deletes_every_row_and_recounts_the_days() {
    let mut sim = Sim::default();
    sim.say(1, "/start", at(0, 1));
    sim.say(2, "/start", at(0, 2));
    sim.say(1, "again", at(1, 1));
    sim.deposit(1, 100, at(1, 2));
    let before = Views::new(&mut sim.store, at(4, 0)).report(4).unwrap();
    assert_eq!(before.days[0].rollup.active, 2);
    assert!(sim.store.map.keys().any(|k| k.starts_with("r:")), "complete days were cached");
    let rows = privacy::forget(&mut sim.store, 1, at(4, 0), 90).unwrap();
    assert_eq!(rows, 5, "d: twice, e: once, the record and the cohort mark");
    for k in sim.store.map.keys() {
        assert!(model::user_of(k) != Some(1) && k != "u:1", "{k} left");
    }
    let after = Views::new(&mut sim.store, at(4, 0)).report(4).unwrap();
    assert_eq!((after.days[0].rollup.active, after.days[0].rollup.new), (1, 1), "day 0 summed again without user 1");
    assert_eq!(after.days[1].rollup.counts.dep, 0);
    assert_eq!(privacy::forget(&mut sim.store, 1, at(4, 0), 90).unwrap(), 0);
}

#[test]
fn pruning_drops_old_days_and_users_not_seen_since() {
    let mut sim = Sim::default();
    sim.say(1, "old", at(0, 1));
    sim.say(2, "old", at(0, 1));
    sim.say(2, "recent", at(20, 1));
    sim.deposit(1, 100, at(0, 2));
    let _ = Views::new(&mut sim.store, at(21, 0)).report(21).unwrap();
    assert!(!privacy::prune(&mut sim.store, at(21, 0), 10).unwrap());
    let keys: Vec<&String> = sim.store.map.keys().collect();
    let day0 = model::date(model::day_of(D0));
    assert!(keys.iter().all(|k| !k.contains(&day0)), "{keys:?}");
    assert!(!sim.store.map.contains_key("u:1"), "user 1 was last seen before the cut");
    assert!(sim.store.map.contains_key("u:2"));
    assert!(sim.store.map.contains_key(&model::day_key(model::day_of(at(20, 0)), 2)));
}

#[test]
fn a_big_prune_goes_on_in_batches() {
    let mut sim = Sim::default();
    for u in 0..(privacy::PRUNE_BATCH as i64 + 10) {
        sim.say(u, "x", at(0, 1));
    }
    // 2 010 activity rows and 2 010 cohort marks: three runs.
    let mut runs = 1;
    while privacy::prune(&mut sim.store, at(30, 0), 10).unwrap() {
        runs += 1;
        assert!(runs < 10, "pruning never ends");
    }
    assert_eq!(runs, 3);
    assert!(!sim.store.map.keys().any(|k| k.starts_with("d:") || k.starts_with("n:")));
}

#[test]
fn an_observation_days_late_drops_its_days_cached_sum() {
    let mut sim = Sim::default();
    sim.say(1, "hi", at(0, 1));
    let r = Views::new(&mut sim.store, at(5, 0)).report(5).unwrap();
    assert_eq!(r.days[0].rollup.counts.m, 1);
    assert!(sim.store.map.contains_key(&model::rollup_key(model::day_of(D0))));
    // An update handled on day 0 whose observation runs on day 5 (the observer fell behind).
    let e = testing::text(2, "late");
    observe::update(&mut sim.store, &Update::of(&e).unwrap(), at(0, 2), at(5, 1)).unwrap();
    let r = Views::new(&mut sim.store, at(5, 2)).report(5).unwrap();
    assert_eq!((r.days[0].rollup.counts.m, r.days[0].rollup.active), (2, 2));
}

#[test]
fn name_maps_stay_small_however_many_names_come() {
    let mut sim = Sim::default();
    for i in 0..100 {
        sim.say(1, &format!("/cmd{i}"), at(0, 1));
    }
    let counts: model::Counts = sim.store.get(&model::day_key(model::day_of(D0), 1)).unwrap().unwrap();
    assert_eq!(counts.c.len(), model::MAX_NAMES);
    assert_eq!(counts.commands(), 100);
}

// The plugin on the harness.

fn bot() -> Harness<Analytics> {
    Harness::<Analytics>::observer().with_admins(&[1000]).with_settings(json!({"keep_days": 60}))
}

/// `user` sends `text`: `handle` if it is the plugin's command, then `observe`.
fn say(bot: &mut Harness<Analytics>, user: i64, text: &str) {
    let _ = bot.say(user, text).unwrap();
}

#[test]
fn stats_shows_the_dashboard_and_exports_csv_to_admins_only() {
    let mut bot = bot();
    bot.set_now(at(0, 10));
    say(&mut bot, 7, "/start camp1");
    say(&mut bot, 7, "/shop");
    bot.send(testing::press(7, 1, "x")).unwrap();
    let purchase = json!({"user_id": 7, "order": 3, "amount": 2_500}).to_string();
    bot.send(testing::custom("shop.purchase", purchase.as_bytes(), "shop")).unwrap();
    bot.set_now(at(1, 10));

    say(&mut bot, 7, "/stats");
    assert!(bot.texts(7).is_empty(), "not an admin: nothing (the host answers them)");
    say(&mut bot, 1000, "/stats 1");
    let text = bot.last_text(1000).unwrap();
    assert!(text.starts_with("📊 Last 1 day"), "{text}");
    assert!(text.contains("New users 1 · messages 2 · commands 2 · buttons 1"), "{text}");
    assert!(text.contains("purchases 1 (2500)"), "amounts in minor units until a deposit told the currency: {text}");
    assert!(text.contains("Sources of the new users: camp1 1"), "{text}");

    say(&mut bot, 1000, "/stats csv 2");
    let docs = bot.documents(1000);
    assert_eq!(docs.len(), 2);
    let day0 = model::date(model::day_of(D0));
    assert!(docs[0].file_name.starts_with("analytics-days_"), "{}", docs[0].file_name);
    let days = docs[0].text();
    let lines: Vec<&str> = days.lines().collect();
    assert_eq!(lines[0], report::DAYS_HEADER);
    assert_eq!(lines.len(), 3, "{days}");
    assert_eq!(lines[2], format!("{day0},1,1,2,2,1,1,0,0,1,2500,,,"));
    let counters = docs[1].text();
    assert!(counters.contains(&format!("{day0},command,shop,1")), "{counters}");
    assert!(counters.contains(&format!("{day0},start,camp1,1")), "{counters}");

    for bad in ["/stats 0", "/stats 9999", "/stats csv x", "/stats user bob", "/stats a b c"] {
        say(&mut bot, 1000, bad);
        let text = bot.last_text(1000).unwrap();
        assert!(text.contains("Usage: /stats"), "{bad}: {text}");
    }
    let group = testing::message_in(testing::group(-1_005, "Team"), testing::user(1000), "/stats");
    bot.send(Event::Message(group)).unwrap();
    assert_eq!(bot.texts(-1_005), [crate::PRIVATE_ONLY], "no statistics in a group");
    say(&mut bot, 1000, "/stats user 7 3");
    let text = bot.last_text(1000).unwrap();
    assert!(text.contains("User 7: first seen") && text.contains("source camp1"), "{text}");
    assert!(text.contains(&format!("{day0}: 2 msg · 1 btn")), "{text}");
}

#[test]
fn forgetme_deletes_the_users_rows_and_is_not_counted() {
    let mut bot = bot();
    bot.set_now(at(0, 10));
    say(&mut bot, 7, "/start");
    say(&mut bot, 8, "/start");
    say(&mut bot, 7, "/forgetme");
    assert_eq!(
        bot.last_text(7).unwrap(),
        "Your usage statistics were deleted. What you do from now on is counted anew, without any message text."
    );
    let left = bot.kv_keys("");
    assert!(left.iter().all(|k| model::user_of(k) != Some(7) && k != "u:7"), "{left:?}");
    assert!(left.iter().any(|k| k == "u:8"), "others are kept: {left:?}");
    say(&mut bot, 7, "/forgetme");
    assert_eq!(bot.last_text(7).unwrap(), "No usage statistics were kept about you.");
}

#[test]
fn the_job_is_set_on_install_and_prunes() {
    let mut bot = bot();
    bot.send(Event::Lifecycle(wharf_sdk::Lifecycle::Installed)).unwrap();
    assert_eq!(bot.timers()[0].name, crate::PRUNE);
    bot.set_now(at(0, 1));
    say(&mut bot, 7, "hello");
    bot.advance(u64::try_from(70 * DAY_MS).unwrap()).unwrap();
    assert!(bot.kv_keys("d:").is_empty() && bot.kv_keys("u:").is_empty(), "{:?}", bot.kv_keys(""));
}

#[test]
fn bad_settings_stop_the_plugin_from_loading() {
    let caught = std::panic::catch_unwind(|| Harness::<Analytics>::new().with_settings(json!({"keep_days": 3})));
    assert!(caught.is_err());
    let caught = std::panic::catch_unwind(|| Harness::<Analytics>::new().with_settings(json!({"keepdays": 30})));
    assert!(caught.is_err());
    let _ = <Analytics as Plugin>::describe;
}
