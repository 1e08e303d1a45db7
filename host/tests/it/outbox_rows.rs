//! The outbox's wire format: every call type against its golden JSON, rows written by
//! the previous release still delivered, unreadable rows dead-lettered with the reason
//! (never dropped), and message handles recorded on delivery and resolved for edits.

use std::path::{Path, PathBuf};

use wharf::storage::{NewOutbox, TurnCommit};
use wharf::telegram::outbox_call::*;

use crate::common::T0;
use crate::sender::wait_for;
use crate::telegram::{WAIT, bot, echo_and_probe};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/outbox")
}

fn keyboard() -> Keyboard {
    Keyboard {
        inline_keyboard: vec![vec![
            Button { text: "Buy".into(), action: ButtonAction::Callback("shop:buy:1".into()) },
            Button { text: "Site".into(), action: ButtonAction::Url("https://example.com/".into()) },
        ]],
    }
}

fn every_variant() -> Vec<(&'static str, OutboxCall)> {
    vec![
        (
            "send_message",
            OutboxCall::SendMessage(SendMessage {
                chat_id: 5,
                text: "<b>hi</b>".into(),
                parse_mode: Some(ParseMode::Html),
                reply_markup: Some(keyboard()),
                reply_parameters: Some(ReplyTo { message_id: 3 }),
                handle: Some(41),
                disable_notification: false,
            }),
        ),
        (
            "send_photo",
            OutboxCall::SendPhoto(SendPhoto {
                chat_id: -100,
                photo: "https://example.com/cat.png".into(),
                caption: Some("*cat*".into()),
                parse_mode: Some(ParseMode::MarkdownV2),
                reply_markup: None,
                reply_parameters: None,
                handle: Some(42),
            }),
        ),
        (
            "send_document",
            OutboxCall::SendDocument(SendDocument {
                chat_id: 5,
                document: DocumentFile { file_name: "stats.csv".into(), data: b"day,users\n2026-01-01,3\n".to_vec() },
                caption: Some("Usage".into()),
                parse_mode: None,
                reply_markup: None,
                reply_parameters: Some(ReplyTo { message_id: 3 }),
                handle: Some(43),
            }),
        ),
        (
            "edit_message_text",
            OutboxCall::EditMessageText(EditMessageText {
                chat_id: 5,
                target: MessageRef::Handle(41),
                text: "paid".into(),
                parse_mode: None,
                reply_markup: Some(keyboard()),
            }),
        ),
        ("delete_message", OutboxCall::DeleteMessage(DeleteMessage { chat_id: 5, target: MessageRef::Id(7) })),
        (
            "answer_callback_query",
            OutboxCall::AnswerCallbackQuery(AnswerCallbackQuery {
                callback_query_id: "cbq-1".into(),
                text: Some("done".into()),
                show_alert: true,
            }),
        ),
    ]
}

#[test]
fn every_outbox_call_matches_its_golden_row() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (name, call) in every_variant() {
        let path = golden_dir().join(format!("{name}.json"));
        let row = call.to_row().unwrap();
        if update {
            std::fs::write(&path, format!("{row}\n")).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
        assert_eq!(row, want.trim_end(), "{name}");
        assert_eq!(OutboxCall::from_row(want.trim_end()).unwrap(), call, "{name} reads back");
    }
}

#[derive(serde::Deserialize)]
struct FixtureRow {
    chat_id: i64,
    payload: String,
}

fn previous_release_rows() -> Vec<FixtureRow> {
    serde_json::from_str(&std::fs::read_to_string(golden_dir().join("v1_rows.json")).unwrap()).unwrap()
}

#[test]
fn rows_of_the_previous_release_are_read() {
    for row in previous_release_rows() {
        let call = OutboxCall::from_row(&row.payload).unwrap_or_else(|e| panic!("{e}: {}", row.payload));
        assert!(call.chat_id().is_none_or(|c| c == row.chat_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_the_previous_release_are_still_delivered_in_order() {
    let b = bot(&echo_and_probe()).await;
    let storage = b.h.rt.storage();
    for row in previous_release_rows() {
        storage.outbox_insert_raw(row.chat_id, "wharf", &row.payload, T0).await.unwrap();
    }
    let done = b.emu.wait_sent(WAIT, |e| e.answered().len() == 2).await;
    assert!(done, "not delivered: {:?} {:?}", b.emu.texts(5), storage.dead_letters().await.unwrap());
    let sent = b.emu.sent(5);
    assert_eq!(b.emu.texts(5), ["<b>hi</b>", "edited", "a caption"], "the apology (message 3) was deleted");
    assert_eq!(sent[0].reply_markup.as_ref().unwrap()["inline_keyboard"][0][1]["url"], "https://example.com/");
    assert_eq!((sent[1].edits, sent[1].parse_mode.as_deref()), (1, None), "the plain notice was edited");
    assert_eq!(sent[3].photo.as_deref(), Some("AgACAgIAAxk"));
    assert_eq!(b.emu.answered(), [("cbq-old".into(), Some("pong".into())), ("cbq-bare".into(), None)]);
    assert!(storage.dead_letters().await.unwrap().is_empty());
    // The last answer was seen by Telegram just before its row is removed.
    wait_for("the delivered rows' removal", async || b.h.outbox_len().await == 0).await;
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_row_is_dead_lettered_with_the_reason_and_the_chat_goes_on() {
    let b = bot(&echo_and_probe()).await;
    let storage = b.h.rt.storage();
    let bad = [
        r#"{"method":"sendMessage","params":{"chat_id":7,"text":{"evil":1}}}"#,
        r#"{"v":4,"method":"sendMessage","params":{"chat_id":7,"text":"from the future"}}"#,
        r#"{"method":"sendSticker","params":{"chat_id":7,"sticker":"x"}}"#,
        "not json",
    ];
    for row in bad {
        storage.outbox_insert_raw(7, "wharf", row, T0).await.unwrap();
    }
    storage
        .outbox_insert_raw(7, "wharf", r#"{"method":"sendMessage","params":{"chat_id":7,"text":"after"}}"#, T0)
        .await
        .unwrap();
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(7) == ["after"]).await, "the chat stopped at a bad row");
    let dead = storage.dead_letters().await.unwrap();
    assert_eq!(dead.len(), bad.len(), "{dead:?}");
    for ((_, payload, reason), want) in dead.iter().zip(bad) {
        assert_eq!(payload, want, "the row is kept as it was");
        assert!(reason.contains("unreadable outbox row") || reason.contains("newer"), "{reason}");
    }
    assert_eq!(b.emu.requests("sendMessage"), 1, "nothing unreadable reached Telegram");
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_is_recorded_on_delivery_and_names_the_message_for_edits() {
    let b = bot(&echo_and_probe()).await;
    let storage = b.h.rt.storage();
    let row = |call| NewOutbox { chat_id: 8, plugin: "echo".into(), call };
    let outbox = vec![
        row(OutboxCall::SendMessage(SendMessage { chat_id: 8, text: "first".into(), ..SendMessage::default() })),
        row(OutboxCall::SendMessage(SendMessage {
            chat_id: 8,
            text: "request".into(),
            handle: Some(41),
            ..SendMessage::default()
        })),
        row(OutboxCall::EditMessageText(EditMessageText {
            chat_id: 8,
            target: MessageRef::Handle(41),
            text: "request (paid)".into(),
            parse_mode: None,
            reply_markup: None,
        })),
        row(OutboxCall::DeleteMessage(DeleteMessage { chat_id: 8, target: MessageRef::Handle(99) })),
    ];
    storage.commit(TurnCommit { outbox, now_ms: T0, ..TurnCommit::default() }).await.unwrap();
    let done = b.emu.wait_sent(WAIT, |e| e.sent(8).get(1).is_some_and(|m| m.edits == 1)).await;
    assert!(done, "{:?}", b.emu.sent(8));
    assert_eq!(b.emu.texts(8), ["first", "request (paid)"]);
    assert_eq!(storage.handle_owner(41).await.unwrap(), Some(("echo".to_string(), 8)));
    assert_eq!(storage.message_owner(8, 2).await.unwrap().as_deref(), Some("echo"));
    assert_eq!(storage.message_owner(8, 1).await.unwrap(), None, "a send without a handle is not recorded");
    wait_for("the dead letter of an unknown handle", async || !storage.dead_letters().await.unwrap().is_empty()).await;
    let dead = storage.dead_letters().await.unwrap();
    assert!(dead[0].2.contains("handle 99 was never delivered"), "{}", dead[0].2);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_are_found_per_chat_and_leased_to_one_owner_at_a_time() {
    for db in crate::common::databases() {
        let (s, _d) = crate::storage_suite::open(&db).await;
        let text = |chat: i64| {
            OutboxCall::SendMessage(SendMessage { chat_id: chat, text: "x".into(), ..SendMessage::default() })
        };
        let outbox = [-100, 5, -100, 9, 5, -100]
            .into_iter()
            .map(|chat| NewOutbox { chat_id: chat, plugin: "p".into(), call: text(chat) })
            .collect();
        s.commit(TurnCommit { outbox, now_ms: T0, ..TurnCommit::default() }).await.unwrap();
        assert_eq!(s.outbox_chats(i64::MIN, 100).await.unwrap(), [-100, 5, 9], "{db:?}");
        assert_eq!(s.outbox_chats(i64::MIN, 2).await.unwrap(), [-100, 5], "{db:?}: a page");
        assert_eq!(s.outbox_chats(5, 100).await.unwrap(), [9], "{db:?}: the next page");
        let head = s.outbox_chat_head(-100, i64::MIN, 2).await.unwrap();
        assert_eq!(head.len(), 2);
        assert!(head[0].id < head[1].id && head.iter().all(|r| r.chat_id == -100));
        assert_eq!(s.outbox_chat_head(-100, head[1].id, 10).await.unwrap().len(), 1, "{db:?}");

        assert!(s.claim_chat(5, "a", T0, T0 + 1000).await.unwrap(), "{db:?}: free");
        assert!(!s.claim_chat(5, "b", T0 + 10, T0 + 1010).await.unwrap(), "{db:?}: held by a");
        assert!(s.claim_chat(5, "a", T0 + 10, T0 + 1010).await.unwrap(), "{db:?}: a renews");
        assert!(s.claim_chat(5, "b", T0 + 2000, T0 + 3000).await.unwrap(), "{db:?}: a's lease lapsed");
        s.release_chat(5, "a").await.unwrap();
        assert!(!s.claim_chat(5, "a", T0 + 2001, T0 + 3001).await.unwrap(), "{db:?}: a cannot release b's lease");
        s.release_chat(5, "b").await.unwrap();
        assert!(s.claim_chat(5, "a", T0 + 2002, T0 + 3002).await.unwrap(), "{db:?}: released");

        let sent = wharf::storage::SentMessage { handle: 7, plugin: "p".into(), chat_id: 9, message_id: 3 };
        let row = s.outbox_chat_head(9, i64::MIN, 1).await.unwrap().remove(0);
        s.outbox_delivered(row.id, Some(&sent), T0).await.unwrap();
        assert_eq!(s.handle_owner(7).await.unwrap(), Some(("p".into(), 9)), "{db:?}");
        assert_eq!(s.message_owner(9, 3).await.unwrap().as_deref(), Some("p"));
        assert_eq!(s.sent_message(8).await.unwrap(), None);
        assert_eq!(s.forget_sent_messages(T0).await.unwrap(), 0, "{db:?}: recorded at T0, not before");
        assert_eq!(s.forget_sent_messages(T0 + 1).await.unwrap(), 1, "{db:?}");
        assert_eq!(s.handle_owner(7).await.unwrap(), None, "{db:?}: forgotten");
        assert_eq!(s.outbox_chats(i64::MIN, 100).await.unwrap(), [-100, 5], "{db:?}: chat 9 is empty");

        // A worker gives its lease back in one statement only when nothing is queued
        // after the last row it handled; the head says whether the user blocked the bot.
        let (head, blocked) = s.outbox_chat_next(5, i64::MIN, 10).await.unwrap();
        assert_eq!((head.len(), blocked), (2, false), "{db:?}");
        s.set_blocked(5, true, T0).await.unwrap();
        assert!(s.outbox_chat_next(5, i64::MIN, 10).await.unwrap().1, "{db:?}: blocked");
        assert!(!s.release_chat_if_drained(5, "a", head[0].id).await.unwrap(), "{db:?}: a row is left");
        assert!(!s.claim_chat(5, "b", T0 + 2003, T0 + 3003).await.unwrap(), "{db:?}: still a's");
        assert!(!s.release_chat_if_drained(5, "b", head[1].id).await.unwrap(), "{db:?}: not b's lease");
        assert!(s.release_chat_if_drained(5, "a", head[1].id).await.unwrap(), "{db:?}: drained");
        assert!(s.claim_chat(5, "b", T0 + 2004, T0 + 3004).await.unwrap(), "{db:?}: released");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_row_is_uploaded_with_its_name_and_bytes() {
    let b = bot(&echo_and_probe()).await;
    let storage = b.h.rt.storage();
    let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let call = OutboxCall::SendDocument(SendDocument {
        chat_id: 9,
        document: DocumentFile { file_name: "report 1.bin".into(), data: data.clone() },
        caption: Some("<b>report</b>".into()),
        parse_mode: Some(ParseMode::Html),
        handle: Some(77),
        ..SendDocument::default()
    });
    storage.outbox_insert_raw(9, "echo", &call.to_row().unwrap(), T0).await.unwrap();
    let sent = b.emu.wait_sent(WAIT, |e| e.sent_count(9) == 1).await;
    let dead: Vec<String> = storage.dead_letters().await.unwrap().into_iter().map(|(_, _, reason)| reason).collect();
    assert!(sent, "not delivered; dead letters: {dead:?}");
    let sent = b.emu.sent(9).remove(0);
    let doc = sent.document.expect("a document");
    assert_eq!((doc.file_name.as_str(), doc.bytes.len()), ("report 1.bin", data.len()));
    assert!(doc.bytes == data, "the bytes arrive unchanged");
    assert_eq!((sent.text.as_str(), sent.parse_mode.as_deref()), ("<b>report</b>", Some("HTML")));
    wait_for("the handle's record", async || storage.sent_message(77).await.unwrap().is_some()).await;
    b.h.rt.shutdown().await;
}
