//! Documents: a user uploads a file, a plugin downloads it through the host
//! (`telegram.download-file`) over real HTTP from the emulator, within its limits and
//! grants, without the bot token ever showing.

use wharf::config::Config;
use wharf::telegram::emulator::{Emulator, FaultKind};

use crate::common::*;
use crate::telegram::{TOKEN, WAIT, bot};

fn probe() -> String {
    plugin("probe", "probe", ALL)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_round_trips_from_the_user_to_the_plugin_and_back() {
    let b = bot(&probe()).await;
    b.emu.send_document(5, "stock.txt", b"apple\nbanana\ncherry\n".to_vec(), None);
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await, "no reply");
    assert_eq!(b.emu.texts(5), ["file stock.txt: 20 bytes, first line: apple"]);
    assert_eq!((b.emu.requests("getFile"), b.emu.requests("file")), (1, 1));

    // A caption raises the plugin's max; the same path works through the control API.
    let big = format!("{}\n{}", "x".repeat(50), "y".repeat(950));
    let r: serde_json::Value = post_json(
        format!("{}control/document", b.emu.api_url()),
        serde_json::json!({"user_id": 5, "file_name": "big.csv", "content": big, "caption": "2000"}),
    )
    .await;
    assert!(r["update_id"].as_i64().is_some() && r["file_id"].as_str().is_some(), "{r}");
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 2).await);
    assert_eq!(b.emu.texts(5)[1], format!("file big.csv: 1001 bytes, first line: {}", "x".repeat(50)));
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_is_refused_with_its_size_and_the_limit() {
    let b = bot(&probe()).await;
    b.emu.send_document(5, "big.txt", vec![b'a'; 100], None);
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    assert_eq!(
        b.emu.texts(5)[0],
        r#"file big.txt: error: Error::InvalidInput("the file is 100 bytes, over the limit of 64 bytes (max-bytes)")"#
    );
    // A plugin asking for more than the host allows gets the host's limit.
    b.emu.send_document(5, "huge.bin", vec![0; (1 << 20) + 1], Some("4000000000"));
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 2).await);
    assert_eq!(
        b.emu.texts(5)[1],
        r#"file huge.bin: error: Error::InvalidInput("the file is 1048577 bytes, over the limit of 1048576 bytes (the host's limit)")"#
    );
    assert_eq!(b.emu.requests("file"), 0, "the size from getFile was checked before downloading");
    // Nothing broke: the plugin still works and was not counted as failing.
    b.emu.send_document(5, "ok.txt", b"fine".to_vec(), None);
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 3).await);
    assert_eq!(b.emu.texts(5)[2], "file ok.txt: 4 bytes, first line: fine");
    b.h.idle().await;
    assert_eq!(b.h.rt.metrics().plugin_malfunctions("probe"), 0);
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_shows_in_replies_or_errors() {
    let b = bot(&probe()).await;
    // A file id Telegram does not know.
    b.emu.push_raw(serde_json::json!({"message": {"message_id": 3, "date": 1_700_000_000,
        "chat": {"id": 5, "type": "private", "first_name": "A"},
        "from": {"id": 5, "is_bot": false, "first_name": "A"},
        "document": {"file_id": "no-such-file", "file_unique_id": "u", "file_name": "gone.txt"}}}));
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 1).await);
    assert_eq!(
        b.emu.texts(5)[0],
        r#"file gone.txt: error: Error::InvalidInput("Telegram does not know this file id")"#
    );
    // An error that echoes the token (a proxy's URL in its description, say).
    b.emu.inject(Some("getFile"), FaultKind::Status(400, format!("Bad Request: no route /bot{TOKEN}/getFile")));
    b.emu.send_document(5, "a.txt", b"a".to_vec(), None);
    assert!(b.emu.wait_sent(WAIT, |e| e.texts(5).len() == 2).await);
    let reply = &b.emu.texts(5)[1];
    assert!(reply.starts_with("file a.txt: error: Error::Other(") && reply.contains("•••"), "{reply}");
    for text in b.emu.texts(5) {
        assert!(!text.contains("TEST-TOKEN-secret") && !text.contains("123456:"), "the token leaked: {text}");
    }
    b.h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_front_end_downloads_are_unavailable() {
    let h = start(&probe()).await;
    h.rt.enqueue(5, &wharf::event::document(5, "BQACAgIAAxk", "stock.txt", None)).await.unwrap();
    h.idle().await;
    assert_eq!(
        h.sent(5).await,
        [r#"file stock.txt: error: Error::Unavailable("this host is not connected to Telegram")"#]
    );
    h.rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_without_the_files_grant_fails_to_load_naming_it() {
    let p = plugin(
        "probe",
        "probe",
        r#"grants = ["kv", "telegram.send", "telegram.members", "events", "scheduler"]
http = ["127.0.0.1"]"#,
    );
    let err = try_start_on(&Db::Sqlite, &p, "").await.err().expect("must not start");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(
            "plugin probe is not granted what it imports: wharf:bot/telegram@0.2.3 (function download-file) needs \
             \"telegram.files\". Fix: add \"telegram.files\" to grants under [plugins.probe] (config line 8)"
        ),
        "{msg}"
    );
    let p = plugin(
        "probe",
        "probe",
        r#"grants = ["kv", "telegram.send", "telegram.members", "telegram.files", "events", "scheduler"]
http = ["127.0.0.1"]"#,
    );
    try_start_on(&Db::Sqlite, &p, "").await.expect("the three grants are enough").rt.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_serves_files_like_telegram() {
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), TOKEN).await.unwrap();
    emu.send_document(5, "notes.txt", b"hello".to_vec(), Some("/import"));
    let client = reqwest::Client::new();
    let api = emu.api_url();
    let updates: serde_json::Value =
        client.get(format!("{api}bot{TOKEN}/getUpdates")).send().await.unwrap().json().await.unwrap();
    let message = &updates["result"][0]["message"];
    assert_eq!(message["caption"], "/import");
    assert_eq!(message["caption_entities"][0]["type"], "bot_command");
    assert_eq!(message["document"]["mime_type"], "text/plain");
    assert_eq!(message["document"]["file_size"], 5);
    let file_id = message["document"]["file_id"].as_str().unwrap();
    let file: serde_json::Value =
        post_json(format!("{api}bot{TOKEN}/getFile"), serde_json::json!({ "file_id": file_id })).await;
    assert_eq!(file["result"]["file_size"], 5, "{file}");
    let path = file["result"]["file_path"].as_str().unwrap();
    assert!(path.starts_with("documents/") && path.ends_with(".txt"), "{path}");
    let get = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let ok = get(format!("{api}file/bot{TOKEN}/{path}")).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.bytes().await.unwrap().as_ref(), b"hello");
    assert_eq!(get(format!("{api}file/bot{TOKEN}/documents/nope.txt")).await.status(), 404);
    assert_eq!(get(format!("{api}file/bot999:wrong/{path}")).await.status(), 401);
    let unknown: serde_json::Value =
        post_json(format!("{api}bot{TOKEN}/getFile"), serde_json::json!({ "file_id": "nope" })).await;
    assert_eq!(unknown["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wharf_chat_uploads_a_local_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stock.txt");
    std::fs::write(&file, "widget\ngadget\n").unwrap();
    let text = config_text(dir.path(), &Db::Sqlite, &probe(), "");
    let config = Config::parse(&text, dir.path()).unwrap();
    let script =
        format!("/upload {} \n/upload {} 3\n/upload /nonexistent/x.txt\n/quit\n", file.display(), file.display());
    let mut out = Vec::new();
    wharf::chat::run(&config, script.as_bytes(), &mut out).await.unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines = crate::common::transcript(&out);
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "bot: file stock.txt: 14 bytes, first line: widget");
    assert_eq!(
        lines[1],
        r#"bot: file stock.txt: error: Error::InvalidInput("the file is 14 bytes, over the limit of 3 bytes (max-bytes)")"#
    );
    assert!(lines[2].starts_with("-- cannot read /nonexistent/x.txt"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("  /upload PATH [caption]")), "the help mentions /upload");
}

/// POST `body` as JSON to `url`; the JSON answer.
async fn post_json(url: String, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap()
}
