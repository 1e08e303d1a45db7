//! README.md's example sessions, run against the bundled wallet and shop through the
//! emulator: every line a session types must get an answer, and no answer may be an
//! error or a usage hint. The sessions are read from README.md itself (each is the
//! fenced block after a `<!-- chat session -->` line), so they cannot drift from the bot.
//!
//! Lines are what `wharf chat` takes: `/admin` and `/as ID` switch user, `/upload PATH
//! CAPTION` sends a file (PATH from the repository root), a number presses that button
//! of the newest message (when it has one), anything else is sent as text. Two spaces
//! start a comment.

use std::path::{Path, PathBuf};

use wharf::telegram::emulator::{Emulator, Sent};

use crate::market::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The lines of every fenced block that follows a line reading `marker`.
fn blocks(readme: &str, marker: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != marker {
            continue;
        }
        let fence = lines.next().map(str::trim);
        assert_eq!(fence, Some("```"), "a fenced block must follow {marker}");
        out.push(lines.by_ref().take_while(|l| l.trim() != "```").map(|l| l.trim().to_owned()).collect());
    }
    out
}

/// A session line without its comment.
fn typed(line: &str) -> &str {
    line.split("  ").next().unwrap_or_default().trim()
}

/// Whether an answer says something went wrong.
fn is_error(text: &str) -> bool {
    const SIGNS: [&str; 12] = [
        "Usage:",
        "Sorry",
        "for admins",
        "Not enough",
        "no longer",
        "unknown",
        "already",
        "No product matches",
        "There is no",
        "first chance",
        "Cannot",
        "not available",
    ];
    let t = text.trim_start();
    t.starts_with('⚠') || t.starts_with('❌') || SIGNS.iter().any(|s| text.contains(s))
}

/// Buttons of `user`'s newest message: (message id, callback data).
fn newest_buttons(emu: &Emulator, user: i64) -> Vec<(i32, String)> {
    let sent = emu.sent(user);
    let Some(m) = sent.iter().rev().find(|m| !m.deleted) else { return Vec::new() };
    buttons(m).into_iter().map(|(_, data)| (m.message_id, data)).collect()
}

/// Wait until update `id` was received and handled and its messages were delivered.
async fn settle(m: &Market, id: i64) {
    let storage = m.h.rt.storage();
    until("the update was never received", || async {
        storage.telegram_state("offset").await.unwrap().unwrap_or(0) > id
    })
    .await;
    until("the bot never settled", || async {
        m.h.idle().await;
        m.h.outbox_len().await == 0
    })
    .await;
}

/// Run one session in a fresh bot; panics naming the first line answered badly.
async fn run(session: &[String]) {
    let m = market("").await;
    let mut user = 1;
    for line in session {
        let line = typed(line);
        if line.is_empty() {
            continue;
        }
        if line == "/admin" {
            user = ADMIN;
            continue;
        }
        if let Some(id) = line.strip_prefix("/as ") {
            user = id.trim().parse().unwrap_or_else(|_| panic!("{line:?}: /as takes a user id"));
            continue;
        }
        let before: Vec<(i32, u32)> = m.emu.sent(user).iter().map(|s| (s.message_id, s.edits)).collect();
        let popups = m.emu.answered().len();
        let pressed =
            line.parse::<usize>().ok().and_then(|n| newest_buttons(&m.emu, user).get(n.wrapping_sub(1)).cloned());
        let update = if let Some(rest) = line.strip_prefix("/upload ") {
            let (path, caption) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
            let bytes = std::fs::read(root().join(path)).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let name = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
            m.emu.send_document(user, &name, bytes, Some(caption.trim()).filter(|c| !c.is_empty()))
        } else if let Some((message, data)) = pressed {
            m.emu.press(user, message, &data)
        } else {
            m.emu.send_text(user, line)
        };
        settle(&m, update).await;
        let fresh: Vec<Sent> =
            m.emu.sent(user).into_iter().filter(|s| !s.deleted && !before.contains(&(s.message_id, s.edits))).collect();
        let mut answers: Vec<String> = fresh.iter().map(|s| s.text.clone()).collect();
        answers.extend(m.emu.answered().into_iter().skip(popups).filter_map(|(_, text)| text));
        assert!(!answers.is_empty(), "user {user} typed {line:?} and got no answer");
        for a in &answers {
            assert!(!is_error(a), "user {user} typed {line:?} and was answered: {a}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_session_runs_without_an_error() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sessions = blocks(&readme, "<!-- chat session -->");
    assert!(sessions.len() >= 3, "README.md shows {} chat sessions", sessions.len());
    // Every command of the wallet and the shop is shown in a session.
    let typed_commands: Vec<&str> = sessions
        .iter()
        .flatten()
        .filter_map(|l| typed(l).strip_prefix('/'))
        .filter_map(|c| c.split_whitespace().next())
        .collect();
    let all = [
        "wallet",
        "deposits",
        "balance",
        "credit",
        "debit",
        "reject",
        "reconcile",
        "shop",
        "orders",
        "import",
        "discount",
        "price",
        "describe",
        "inventory",
        "report",
    ];
    for c in all {
        let shown =
            typed_commands.contains(&c) || (c == "import" && readme.contains("/upload plugins/shop/seed.txt /import"));
        assert!(shown, "no README session shows /{c}");
    }
    for session in &sessions {
        run(session).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_import_example_imports() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = blocks(&readme, "<!-- import lines -->");
    assert_eq!(examples.len(), 1);
    let m = market("").await;
    let answer = m.say(ADMIN, &format!("/import\n{}", examples[0].join("\n")), "mport").await;
    assert!(answer.text.starts_with("✅ Imported 1 item: 1 new product"), "{}", answer.text);
}

#[test]
fn errors_are_recognised() {
    for bad in ["⚠️ The product is missing\n\nUsage: /price PRODUCT AMOUNT", "❌ Nothing was imported: 1 bad line."]
    {
        assert!(is_error(bad), "{bad}");
    }
    assert!(!is_error("🧾 Deposit request #2\n\n❌ Rejected by 1000"), "a decision shown on a request");
    assert_eq!(typed("/credit 1 200 welcome     give user 1 some money"), "/credit 1 200 welcome");
    let md = "x\n<!-- m -->\n```\na  b\n c\n```\n<!-- m -->\n```\n```\n";
    assert_eq!(blocks(md, "<!-- m -->"), [vec!["a  b".to_owned(), "c".to_owned()], vec![]]);
}
