//! The fake host keeps the host's rules: turns are all or nothing, checks and limits,
//! ownership of messages, timers on the manual clock, events back to subscribers.

use super::*;
use crate::telegram::{MessageHandle, Photo};
use crate::{events, kv, log, prelude::*, scheduler, settings, telegram};

/// A plugin whose behaviour each test picks with a command: `/NAME ARGS`.
struct Probe;

impl Plugin for Probe {
    fn describe() -> Manifest {
        Manifest::new("probe", "1.0.0").command("x", "anything").callback_prefix("probe").topic("probe.loop").setting(
            "greeting",
            "what to say",
            false,
        )
    }

    fn handle(event: Event, ctx: Context) -> Result<Flow, HandlerError> {
        let chat = ctx.chat_id.unwrap_or(1);
        let (name, args) = match &event {
            Event::Message(m) => m.command.as_ref().map(|c| (c.name.clone(), c.args.clone())).unwrap_or_default(),
            Event::Callback(cb) => ("press".into(), cb.data.clone()),
            Event::Timer(t) => ("timer".into(), t.name.clone()),
            Event::Custom(e) => ("custom".into(), String::from_utf8_lossy(&e.payload).into_owned()),
            _ => return Ok(Flow::Continue),
        };
        match name.as_str() {
            "write_then_fail" => {
                kv::set("k", &1)?;
                telegram::send_text(chat, "lost")?;
                scheduler::after("t", 1_000, &[])?;
                events::emit("other.topic", &1)?;
                log::Event::new("lost").record()?;
                log::info("kept");
                return Err(HandlerError::Other("no".into()));
            }
            "write_then_panic" => {
                kv::set("k", &2)?;
                panic!("boom");
            }
            "read_own_write" => {
                kv::set("a", &5)?;
                let seen: Option<i64> = kv::get("a")?;
                kv::set("seen", &seen)?;
            }
            "send" => {
                telegram::send_text(chat, &args)?;
            }
            "edit" => {
                let handle: MessageHandle = MessageHandle(args.parse().unwrap_or(0));
                telegram::edit(chat, handle, &Outgoing::text("edited"))?;
            }
            "doc" => {
                telegram::send_document(chat, "a.csv", args.as_bytes(), &Outgoing::text("export"))?;
            }
            "docs" => {
                for _ in 0..5 {
                    telegram::send_document(chat, "big.bin", &vec![1; 1 << 20], &Outgoing::text(""))?;
                }
            }
            "whoami" => {
                let bot = settings::bot().map_or("none".to_owned(), |b| format!("{} @{}", b.id, b.username));
                let first = settings::user_first_seen(ctx.user_id.unwrap_or(0));
                telegram::send_text(chat, &format!("{bot} first={first:?}"))?;
            }
            "greet" => {
                let greeting: Option<String> = settings::get("greeting")?;
                telegram::send_text(chat, &greeting.unwrap_or_default())?;
            }
            "every" => scheduler::every("tick", 60_000, b"p")?,
            "timer" => {
                let n = kv::increment("ticks", 1)?;
                if args == "again" {
                    scheduler::after("again", 0, &[])?;
                }
                telegram::send_text(chat, &format!("tick {n} at {}", ctx.now_ms))?;
            }
            "loop" => events::emit_bytes("probe.loop", b"0")?,
            "custom" => {
                let n: u32 = args.parse().unwrap_or(0);
                kv::set(&format!("hop:{n}"), &n)?;
                events::emit_bytes("probe.loop", (n + 1).to_string().as_bytes())?;
            }
            "press" => telegram::answer_callback(&format!("{chat}"), Some(&args))?,
            _ => return Ok(Flow::Continue),
        }
        Ok(Flow::Stop)
    }
}

#[test]
fn a_failed_turn_leaves_nothing_but_its_log_lines() {
    let mut bot = Harness::<Probe>::new();
    assert_eq!(bot.say(7, "/write_then_fail"), Err(HandlerError::Other("no".into())));
    assert_eq!(bot.kv_bytes("k"), None);
    assert!(bot.outbox().is_empty() && bot.timers().is_empty() && bot.emitted().is_empty());
    assert!(bot.business_events().is_empty());
    assert_eq!(bot.logs().len(), 1, "diagnostics are written at once");

    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bot.say(7, "/write_then_panic")));
    assert!(caught.is_err());
    assert_eq!(bot.kv_bytes("k"), None, "a panic (a trap) drops the turn's writes too");
    // The harness still works after the panic.
    assert_eq!(bot.say(7, "/read_own_write"), Ok(Flow::Stop));
    assert_eq!(bot.kv::<Option<i64>>("seen"), Some(Some(5)));
}

#[test]
fn host_calls_outside_a_harness_panic_with_a_message_instead_of_aborting() {
    let caught = std::panic::catch_unwind(|| kv::get::<i64>("x"));
    let message = caught.err().and_then(|e| e.downcast::<String>().ok()).map(|s| *s).unwrap_or_default();
    assert!(message.contains("`kv.get` was made outside a test harness"), "{message}");
    let mut bot = Harness::<Probe>::new();
    bot.set_kv("x", &3);
    assert_eq!(bot.run(|| kv::get::<i64>("x")), Ok(Some(3)));
}

#[test]
fn messages_are_checked_with_the_hosts_limits() {
    let mut bot = Harness::<Probe>::new();
    let long = "x".repeat(4097);
    let Err(HandlerError::InvalidInput(why)) = bot.say(7, &format!("/send {long}")) else { panic!("accepted") };
    assert!(why.contains("at most 4096"), "{why}");
    assert_eq!(bot.say(7, "/send 😀"), Ok(Flow::Stop));
    bot.run(|| {
        let nine = (0..9).fold(Keyboard::new(), |k, i| k.button("b", i.to_string()));
        let err = telegram::send(1, &Outgoing::text("k").keyboard(nine)).unwrap_err();
        assert!(err.to_string().contains("row 1 has 9 buttons"), "{err}");
        let fat = Keyboard::new().button("b", "d".repeat(59));
        assert!(telegram::send(1, &Outgoing::text("k").keyboard(fat)).unwrap_err().to_string().contains("at most 58"));
        let js = Keyboard::new().url("b", "javascript:alert(1)");
        assert!(telegram::send(1, &Outgoing::text("k").keyboard(js)).is_err());
        assert!(telegram::send(0, &Outgoing::text("k")).is_err());
        assert!(telegram::send(1, &Outgoing::text("   ")).is_err());
        assert!(telegram::send_photo(1, &Photo::Url("ftp://x".into()), &Outgoing::text("")).is_err());
        assert!(telegram::send_photo(1, &Photo::FileId("AgAD".into()), &Outgoing::text("")).is_ok());
        assert!(kv::set(&"k".repeat(513), &1).is_err());
        assert!(kv::set_bytes("big", &vec![0; (1 << 20) + 1]).is_err());
        assert!(scheduler::every("fast", 999, &[]).is_err());
        assert!(scheduler::after("Bad Name", 1, &[]).is_err());
        assert!(events::emit("Bad Topic", &1).is_err());
    });
}

#[test]
fn documents_are_checked_and_shown_with_their_bytes() {
    let mut bot = Harness::<Probe>::new();
    assert_eq!(bot.say(7, "/doc a,b"), Ok(Flow::Stop));
    let docs = bot.documents(7);
    assert_eq!(docs.len(), 1);
    assert_eq!((docs[0].file_name.as_str(), docs[0].text().as_str()), ("a.csv", "a,b"));
    assert_eq!(bot.texts(7), ["export"], "the caption is the message's text");
    assert!(matches!(bot.outbox()[0], Call::SendDocument { .. }));
    let Err(HandlerError::InvalidInput(why)) = bot.say(7, "/docs") else { panic!("5 MiB accepted") };
    assert!(why.contains("at most 4194304 bytes of documents"), "{why}");
    assert_eq!(bot.documents(7).len(), 1, "the failed turn sent nothing");
    bot.run(|| {
        let cap = Outgoing::text("");
        assert!(telegram::send_document(1, "", b"x", &cap).is_err());
        assert!(telegram::send_document(1, "../etc/passwd", b"x", &cap).is_err());
        assert!(telegram::send_document(1, "..", b"x", &cap).is_err());
        assert!(telegram::send_document(1, "empty.txt", b"", &cap).is_err());
        assert!(telegram::send_document(1, "big.bin", &vec![0; (1 << 20) + 1], &cap).is_err());
        assert!(telegram::send_document(1, "ok.txt", b"x", &Outgoing::text("c".repeat(1025))).is_err());
    });
}

#[test]
fn only_the_plugins_own_messages_can_be_edited() {
    let mut bot = Harness::<Probe>::new();
    bot.say(7, "/send first").unwrap();
    let Call::Send { handle, message_id, .. } = bot.outbox()[0].clone() else { panic!("a send") };
    assert_eq!(bot.say(7, &format!("/edit {}", handle.0)), Ok(Flow::Stop));
    assert_eq!(bot.texts(7), ["edited"]);
    assert_eq!(bot.messages(7)[0].edits, 1);
    assert!(matches!(bot.say(8, &format!("/edit {}", handle.0)), Err(HandlerError::AccessDenied(_))), "other chat");
    assert!(matches!(bot.say(7, "/edit 999"), Err(HandlerError::AccessDenied(_))));
    bot.run(|| {
        assert!(telegram::edit(7, message_id, &Outgoing::text("by id")).is_ok());
        assert!(telegram::delete(7, message_id).is_ok());
        assert!(telegram::delete(7, message_id + 100).is_err());
    });
    assert!(bot.texts(7).is_empty());
}

#[test]
fn kv_pages_list_keys_in_order() {
    let mut bot = Harness::<Probe>::new();
    bot.run(|| {
        for k in ["b:2", "a:1", "b:1", "b:3", "c"] {
            kv::set(k, &k).unwrap();
        }
        let first = kv::page("b:", None, 2).unwrap();
        assert_eq!(
            (first.keys.as_slice(), first.cursor.as_deref()),
            (&["b:1".to_owned(), "b:2".to_owned()][..], Some("b:2"))
        );
        let rest = kv::page("b:", first.cursor.as_deref(), 2).unwrap();
        assert_eq!((rest.keys, rest.cursor), (vec!["b:3".to_owned()], None));
        assert_eq!(kv::keys("").unwrap().len(), 5);
        assert_eq!(kv::values::<String>("b:").unwrap(), ["b:1", "b:2", "b:3"]);
        kv::set_many(&[("m1", &1), ("m2", &2)]).unwrap();
        assert_eq!(kv::get_many::<i64>(&["m1".into(), "m3".into()]).unwrap(), [Some(1), None]);
        kv::delete_many(&["m1".into(), "m2".into()]).unwrap();
        assert!(!kv::exists("m1").unwrap());
        assert!(kv::increment("c", 1).is_err(), "not a decimal integer");
    });
}

#[test]
fn repeating_jobs_fire_every_interval_on_the_manual_clock() {
    let mut bot = Harness::<Probe>::new();
    bot.say(7, "/every").unwrap();
    assert_eq!(bot.timers()[0].chat_id, Some(7));
    assert_eq!(bot.advance(59_999), Ok(0));
    assert_eq!(bot.advance(120_001), Ok(3));
    assert_eq!(bot.kv::<i64>("ticks"), Some(3));
    assert_eq!(bot.now(), T0 + 180_000);
    assert_eq!(bot.last_text(7), Some(format!("tick 3 at {}", T0 + 180_000)), "each at its due time");
    assert_eq!(bot.timers()[0].due_ms, T0 + 240_000);
}

#[test]
fn a_timer_set_by_a_timer_waits_at_least_a_second() {
    let mut bot = Harness::<Probe>::new();
    bot.run(|| scheduler::at("again", T0, &[]).unwrap());
    assert_eq!(bot.advance(0), Ok(1));
    assert_eq!(bot.timers()[0].due_ms, T0 + 1_000, "a 0 ms delay became the floor");
}

#[test]
fn emitted_events_come_back_to_subscribers_within_the_hop_limit() {
    let mut bot = Harness::<Probe>::new();
    bot.say(7, "/loop").unwrap();
    // Turns 1-8 hops deep handle the events; the eighth cannot emit a ninth, so it fails.
    assert_eq!(bot.kv_keys("hop:").len(), 7, "{:?}", bot.kv_keys("hop:"));
    assert_eq!(bot.emitted().len(), 8);
    assert!(bot.emitted().iter().all(|e| e.chat_id == Some(7)));
    let failed = bot.logs().pop().map(|l| l.message).unwrap_or_default();
    assert!(failed.contains("9 hops deep"), "{failed}");
}

#[test]
fn settings_admins_and_routing() {
    let mut bot = Harness::<Probe>::new().with_settings(json!({ "greeting": "hi" })).with_admins(&[1]);
    bot.say(7, "/greet").unwrap();
    assert_eq!(bot.texts(7), ["hi"]);
    assert_eq!(bot.run(settings::admins), [1]);
    assert_eq!(bot.send(press(7, 1, "data")), Ok(Flow::Stop));
    assert_eq!(bot.answers()[0].text.as_deref(), Some("data"));
    let not_ours = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bot.send(custom("x.y", b"", "other"))));
    assert!(not_ours.is_err(), "the host would not deliver an unsubscribed topic");
}

struct Greedy;

impl Plugin for Greedy {
    fn describe() -> Manifest {
        let _ = kv::get::<i64>("x");
        Manifest::new("greedy", "1.0.0")
    }

    fn handle(_: Event, _: Context) -> Result<Flow, HandlerError> {
        Ok(Flow::Continue)
    }
}

#[test]
fn describe_may_use_only_config_and_log() {
    let caught = std::panic::catch_unwind(Harness::<Greedy>::new);
    let message = caught.err().and_then(|e| e.downcast::<String>().ok()).map(|s| *s).unwrap_or_default();
    assert!(message.contains("describe() called `kv.get`"), "{message}");
}

struct BadPrefix;

impl Plugin for BadPrefix {
    fn describe() -> Manifest {
        Manifest::new("bad", "1.0.0").callback_prefix("Has Spaces")
    }

    fn handle(_: Event, _: Context) -> Result<Flow, HandlerError> {
        Ok(Flow::Continue)
    }
}

#[test]
fn a_manifest_the_host_would_refuse_does_not_load() {
    let caught = std::panic::catch_unwind(Harness::<BadPrefix>::new);
    let message = caught.err().and_then(|e| e.downcast::<String>().ok()).map(|s| *s).unwrap_or_default();
    assert!(message.contains("callback prefix \"Has Spaces\" must be"), "{message}");
}

/// Declares the command its settings name.
struct Configured;

impl Plugin for Configured {
    fn describe() -> Manifest {
        let name: String = settings::get("command").ok().flatten().unwrap_or_else(|| "default".into());
        Manifest::new("configured", "1.0.0").command(&name, "configured")
    }

    fn handle(_: Event, _: Context) -> Result<Flow, HandlerError> {
        Ok(Flow::Continue)
    }
}

#[test]
fn describe_sees_the_settings_it_is_loaded_with() {
    let bot = Harness::<Configured>::new();
    assert_eq!(bot.manifest().commands[0].name, "default");
    let bot = bot.with_settings(json!({ "command": "custom" }));
    assert_eq!(bot.manifest().commands[0].name, "custom");
}

#[test]
fn member_and_chat_lookups_answer_what_the_test_set_up() {
    use crate::telegram::{ChatInfo, MemberInfo, MemberStatus, TelegramError};
    let mut bot = Harness::<Probe>::new();
    bot.set_member(-100, 7, MemberStatus::Member);
    bot.set_member_info(-100, 8, MemberInfo { status: MemberStatus::Restricted, is_member: true });
    bot.add_chat(ChatInfo { id: -100, title: Some("News".into()), username: Some("news_x".into()), invite_link: None });
    let (seven, eight, nine, chat, by_id, unknown) = bot.run(|| {
        (
            telegram::chat_member(-100, 7),
            telegram::chat_member(-100, 8),
            telegram::chat_member(-100, 9),
            telegram::get_chat("@NEWS_X").map(|c| c.id),
            telegram::get_chat("-100").map(|c| c.title),
            telegram::get_chat("@nobody").is_err(),
        )
    });
    assert_eq!(seven, Ok(MemberInfo { status: MemberStatus::Member, is_member: true }));
    assert_eq!(eight, Ok(MemberInfo { status: MemberStatus::Restricted, is_member: true }));
    assert_eq!(nine, Ok(MemberInfo { status: MemberStatus::Left, is_member: false }), "Telegram's default");
    assert_eq!((chat, by_id, unknown), (Ok(-100), Ok(Some("News".into())), true));
    assert_eq!(bot.lookups(), 3);
    bot.fail_lookups(Some(TelegramError::Unavailable("down".into())));
    let failed = bot.run(|| telegram::chat_member(-100, 7));
    assert_eq!(failed, Err(crate::Error::Unavailable("down".into())));
    assert_eq!(bot.lookups(), 4, "a failed lookup counts too");
}

#[test]
fn topics_under_telegram_are_the_hosts() {
    let mut bot = Harness::<Probe>::new();
    let refused = bot.run(|| events::emit_bytes("telegram.chat-member", b"{}"));
    assert!(matches!(&refused, Err(crate::Error::InvalidInput(m)) if m.contains("host's")), "{refused:?}");
}

#[test]
fn the_bot_is_known_once_set_and_users_are_seen_from_their_first_turn_on() {
    let mut h = Harness::<Probe>::new();
    h.say(7, "/whoami").unwrap();
    assert_eq!(h.texts(7).last().unwrap(), "none first=None", "a new user's first turn: never seen");
    h.set_now(T0 + 5_000);
    h.say(7, "/whoami").unwrap();
    assert_eq!(h.texts(7).last().unwrap(), &format!("none first=Some({T0})"));
    // A failed turn still records its user, as the host's commit does.
    h.say(8, "/write_then_fail").unwrap_err();
    h.say(8, "/whoami").unwrap();
    assert_eq!(h.texts(8).last().unwrap(), &format!("none first=Some({})", T0 + 5_000));
    // A user in a group is not seen; one marked by the test is.
    for _ in 0..2 {
        h.send(Event::Message(message_in(group(-100, "g"), user(9), "/whoami"))).unwrap();
        assert_eq!(h.texts(-100).last().unwrap(), "none first=None");
    }
    let mut h = h.with_bot(7_000_000_001, "wharf_test_bot");
    h.seen(9, 42);
    h.say(9, "/whoami").unwrap();
    assert_eq!(h.texts(9).last().unwrap(), "7000000001 @wharf_test_bot first=Some(42)");
}
