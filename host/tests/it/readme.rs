//! README.md's example sessions, run through `wharf chat` with the bundled
//! `config.toml`, as a reader would type them: every number must press a button the
//! session showed, every line sent must be answered, and no answer may be an error or
//! a usage hint. The sessions are read from README.md itself (each is the fenced block
//! after a `<!-- chat session -->` line), so they cannot drift from the bot. Two spaces
//! start a comment on a line.

use std::path::{Path, PathBuf};

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

/// The bundled `config.toml` as `wharf chat` runs it, in `dir`: its own database, the
/// built plugins, the tests' compile cache.
fn bundled_config(dir: &Path) -> PathBuf {
    let plugins = Path::new(env!("WHARF_PLUGIN_DIR"));
    let text = std::fs::read_to_string(root().join("config.toml"))
        .unwrap()
        .replace("target/plugins/wasm32-wasip2/release/", &format!("{}/", plugins.display()))
        .replace("\"data/cache\"", &format!("\"{}\"", plugins.join("../../../wharf-test-cache").display()));
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Run one session through `wharf chat` with the bundled config, from the repository
/// root (so `/upload` paths resolve); panics naming what went wrong. Every number typed
/// must press a button the session showed, no answer may be an error, and every line
/// sent to the bot must be answered.
fn run(session: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let config = bundled_config(dir.path());
    let lines: Vec<&str> = session.iter().map(|l| typed(l)).filter(|l| !l.is_empty()).collect();
    let script = lines.join("\n") + "\n/quit\n";
    let out = crate::cli::chat_in(&root(), &config, script.as_bytes());
    assert!(!out.contains("-- no button ["), "a number names no button shown:\n{out}");
    let answers: Vec<&str> = out.lines().filter(|l| l.starts_with("bot")).collect();
    for a in &answers {
        assert!(!is_error(a), "an answer is an error: {a}\n{out}");
    }
    let sent = lines.iter().filter(|l| **l != "/admin" && !l.starts_with("/as ")).count();
    assert!(answers.len() >= sent, "{sent} lines sent, {} answers:\n{out}", answers.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_readme_session_runs_without_an_error() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sessions = blocks(&readme, "<!-- chat session -->");
    assert!(sessions.len() >= 3, "README.md shows {} chat sessions", sessions.len());
    // Every command of the bundled plugins is shown in a session.
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
        "crypto",
        "stats",
        "forgetme",
    ];
    for c in all {
        let shown =
            typed_commands.contains(&c) || (c == "import" && readme.contains("/upload plugins/shop/seed.txt /import"));
        assert!(shown, "no README session shows /{c}");
    }
    for session in &sessions {
        run(session);
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
