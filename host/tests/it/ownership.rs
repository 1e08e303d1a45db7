//! Message ownership (finding 8): a plugin may edit or delete only messages it sent.
//! An intruder plugin (0.2, fixture `intruder`) and a 0.1 plugin (fixture `legacy-v01`)
//! try to rewrite the wallet's deposit request in an admin's chat: by message id, from
//! the admin's chat and from another one, and by guessed handles; all are refused and
//! the request stays as it was.

use crate::common::*;
use crate::market::*;
use crate::wallet::request_deposit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_cannot_edit_or_delete_other_plugins_messages() {
    let tables = plugins(&wasm("shop"), "")
        + &plugin("intruder", "intruder", r#"grants = ["kv", "telegram.send"]"#)
        + &plugin("legacy", "legacy_v01", r#"grants = ["kv", "telegram.send"]"#);
    let m = market_from(&Db::Sqlite, &tables).await;
    let id = request_deposit(&m, 7, "50", "REF-X").await;
    let request =
        |m: &Market| m.emu.sent(ADMIN).into_iter().find(|s| s.text.contains(&format!("Deposit request #{id}")));
    assert!(m.emu.wait_sent(WAIT, |e| e.texts(ADMIN).iter().any(|t| t.contains("Deposit request"))).await);
    let before = request(&m).unwrap();
    let msg = before.message_id;

    for (chat, attempt) in [
        (ADMIN, format!("/intrude edit {ADMIN} {msg}")),
        (ADMIN, format!("/intrude delete {ADMIN} {msg}")),
        (9, format!("/intrude edit {ADMIN} {msg}")),
        (9, format!("/intrude delete {ADMIN} {msg}")),
    ] {
        let answer = m.say(chat, &attempt, "refused").await;
        assert!(answer.text.contains("access denied"), "{attempt}: {}", answer.text);
    }
    // Handles are not secrets, but guessing the wallet's does not help either: the
    // request's sends were queued by the turn with inbox id `id`.
    for k in 0..6 {
        let handle = id * 4096 + k;
        let answer = m.say(9, &format!("/intrude edit-handle {ADMIN} {handle}"), "refused").await;
        assert!(answer.text.contains("access denied"), "{}", answer.text);
    }
    let answer = m.say(ADMIN, &format!("/legacy edit {ADMIN} {msg}"), "edit refused").await;
    assert!(answer.text.contains("access denied"), "0.1 plugin: {}", answer.text);

    m.h.idle().await;
    let after = request(&m).unwrap();
    assert_eq!((after.edits, after.deleted, &after.text), (0, false, &before.text), "the request was touched");
    assert!(!m.emu.texts(ADMIN).iter().chain(&m.emu.texts(9)).any(|t| t.contains("hijacked")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_edits_a_message_it_sent_earlier_in_the_same_turn() {
    let m = market_from(&Db::Sqlite, &plugin("intruder", "intruder", r#"grants = ["kv", "telegram.send"]"#)).await;
    m.say(5, "/intrude own", "queued").await;
    let ok = m.emu.wait_sent(WAIT, |e| e.sent(5).iter().any(|s| s.text == "intruder's own, edited" && s.edits == 1));
    assert!(ok.await, "{:#?}", m.emu.sent(5));
}
