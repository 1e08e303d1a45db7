//! `wharf chat` as a person uses it: what the bot sends to anyone appears as it
//! arrives (timers too), labelled when it is not for the current user; `/as N` shows
//! what N missed; numbers press buttons that were printed; messages of several lines.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use wharf::chat::Options;
use wharf::clock::Clock;
use wharf::config::Config;

use crate::common::*;

/// How long one expected line may take to appear.
const WAIT: Duration = Duration::from_secs(90);

/// The session's output, shared with the test, which can wait for text to appear.
#[derive(Clone, Default)]
struct Screen(Arc<(Mutex<Vec<u8>>, Notify)>);

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.0.lock().unwrap().extend_from_slice(buf);
        self.0.1.notify_waiters();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8(self.0.0.lock().unwrap().clone()).unwrap()
    }
}

/// A chat session running on its own task, typed into line by line.
struct Live {
    keyboard: tokio::io::DuplexStream,
    screen: Screen,
    /// How much of the output the test has read.
    read: usize,
    /// The session runs on a thread and runtime of its own, as `wharf chat` would; its
    /// result arrives here.
    session: Option<tokio::sync::oneshot::Receiver<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Live {
    /// A session over these plugin tables with admin 1000, on `clock`.
    fn start(plugins: &str, clock: Clock) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse(&config_text(dir.path(), &Db::Sqlite, plugins, ""), dir.path()).unwrap();
        let (keyboard, input) = tokio::io::duplex(1 << 16);
        let screen = Screen::default();
        let out = screen.clone();
        let opts = Options { clock, ..Options::default() };
        let (done, session) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            let result = rt.block_on(wharf::chat::run_with(&config, opts, tokio::io::BufReader::new(input), out));
            let _ = done.send(result);
        });
        Self { keyboard, screen, read: 0, session: Some(session), _dir: dir }
    }

    async fn type_line(&mut self, line: &str) {
        self.keyboard.write_all(format!("{line}\n").as_bytes()).await.unwrap();
    }

    /// Wait until `needle` appears in output not read yet; the output up to its end,
    /// which is then read.
    async fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let changed = self.screen.0.1.notified();
            let text = self.screen.text();
            if let Some(at) = text[self.read..].find(needle) {
                let end = self.read + at + needle.len();
                let seen = text[self.read..end].to_owned();
                self.read = end;
                return seen;
            }
            if let Some(Ok(result)) = self.session.as_mut().map(|s| s.try_recv()) {
                panic!("the session ended ({result:?}) without {needle:?}:\n{text}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if tokio::time::timeout(left, changed).await.is_err() {
                panic!("no {needle:?} within {WAIT:?} after:\n{}", &text[self.read..]);
            }
        }
    }

    /// Type `line` and wait for `needle`.
    async fn say(&mut self, line: &str, needle: &str) -> String {
        self.type_line(line).await;
        self.expect(needle).await
    }

    /// Leave; the whole output.
    async fn quit(mut self) -> String {
        self.type_line("/quit").await;
        let session = self.session.take().unwrap();
        tokio::time::timeout(WAIT, session).await.unwrap().unwrap().unwrap();
        self.screen.text()
    }
}

/// The wallet and the shop, as the market tests run them.
fn market_plugins() -> String {
    crate::market::plugins(&wasm("shop"), "")
}

/// A user asks for a BLIK deposit of `amount` PLN; the output of the last step.
async fn ask_deposit(s: &mut Live, amount: &str, reference: &str) -> String {
    s.say("/wallet", "     [1] ➕ Deposit\n").await;
    s.say("1", "How do you want to pay?\n").await;
    // The Deposit button keeps [1]: the methods come after it.
    s.expect("     [2] BLIK  [3] Bank transfer\n").await;
    s.say("2", "Send the amount").await;
    // A number that names no button is text (the amount), and chat says so.
    let amount_answer = s.say(amount, "payment reference").await;
    let note = format!("\n-- no button [{amount}] is shown for you: sent {amount} as text\n");
    assert!(amount_answer.contains(&note), "{amount_answer}");
    s.say(reference, "sent for approval").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_deposit_reaches_its_user_without_further_input() {
    let mut s = Live::start(&market_plugins(), Clock::manual(T0));
    ask_deposit(&mut s, "50", "REF-A").await;
    // The admin's copy appears at once, for admin 1000, its buttons not numbered.
    let request = s.expect("     buttons: ✅ Approve | ❌ Reject (/as 1000 to press them)\n").await;
    assert!(request.contains("bot → user 1000: 🧾 Deposit request #"), "{request}");
    assert!(request.contains("Reference: REF-A"), "{request}");
    s.say("/as 2", "-- you are user 2\n").await;
    ask_deposit(&mut s, "70", "REF-B").await;
    s.expect("(/as 1000 to press them)\n").await;

    // The admin sees both requests they missed, numbered apart.
    let recap = s.say("/admin", "     [3] ✅ Approve  [4] ❌ Reject\n").await;
    let first = recap.find("Reference: REF-A").expect("REF-A's request is shown");
    let second = recap.find("Reference: REF-B").expect("REF-B's request is shown");
    assert!(recap.starts_with("-- you are admin 1000; 2 messages you have not seen:\nbot: 🧾 Deposit request #"));
    assert!(first < recap.find("[1] ✅ Approve  [2] ❌ Reject").unwrap() && second > first, "{recap}");

    // [3] approves REF-B's deposit. Nothing is typed after it: user 2's notice must
    // appear on its own.
    s.type_line("3").await;
    let approved = s.expect("bot → user 2: ✅ Your deposit #").await;
    let rest = s.expect("\n").await;
    assert!(rest.contains("of 70 PLN was approved. Balance: 70 PLN"), "{rest}");
    assert!(approved.contains("bot (popup): Approved"), "{approved}");
    assert!(approved.contains("bot (edited): 🧾 Deposit request #"), "the admin's copy shows the decision");
    assert!(approved.contains("✅ Approved by 1000"), "{approved}");
    assert!(!approved.contains("REF-A"), "REF-A's request is untouched: {approved}");

    // What each user missed since they left, and nothing more.
    let user2 = s.say("/as 2", "-- you are user 2; 1 message you have not seen:\n").await;
    assert!(user2.starts_with("-- you are"), "{user2}");
    s.expect("bot: ✅ Your deposit #").await;
    s.say("/as 1", "-- you are user 1\n").await;
    s.say("/as 2", "-- you are user 2\n").await;
    let out = s.quit().await;
    assert_eq!(out.matches("was approved").count(), 2, "user 2's notice: live, then as missed:\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timer_messages_appear_live_for_anyone() {
    let clock = Clock::manual(T0);
    let mut s = Live::start(&plugin("probe", "probe", ALL), clock.clone());
    s.type_line("/after ping 60000").await;
    // Lines are handled in order: once /get is answered, the timer is set.
    s.say("/get x", "bot: x=none\n").await;
    s.say("/as 2", "-- you are user 2\n").await;
    s.type_line("/after pong 30000").await;
    s.say("/get y", "bot: y=none\n").await;

    // Only the clock moves; nothing is typed.
    clock.advance(Duration::from_secs(30));
    assert_eq!(s.expect("bot: timer pong fired\n").await, "bot: timer pong fired\n");
    clock.advance(Duration::from_secs(30));
    assert_eq!(s.expect("bot → user 1: timer ping fired\n").await, "bot → user 1: timer ping fired\n");

    s.say("/as 1", "-- you are user 1; 1 message you have not seen:\nbot: timer ping fired\n").await;
    let out = s.quit().await;
    assert_eq!(out.matches("timer pong fired").count(), 1, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_imports_a_block_buys_and_gives_the_same_output_every_time() {
    let script = "/admin\n\
        /import <<<\n\
        # two items, one product\n\
        Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-AAAA-1111\n\
        \n\
        Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-AAAA-2222\n\
        >>>\n\
        /credit 1 200 welcome\n\
        /as 1\n/shop\n1\n1\n1\n1\n1\n3\n9\n1\n/inventory <<<\n";
    let mut outputs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse(&config_text(dir.path(), &Db::Sqlite, &market_plugins(), ""), dir.path()).unwrap();
        let opts = Options { clock: Clock::manual(T0), ..Options::default() };
        let mut out = Vec::new();
        wharf::chat::run_with(&config, opts, script.as_bytes(), &mut out).await.unwrap();
        outputs.push(String::from_utf8(out).unwrap());
    }
    let out = &outputs[0];
    assert_eq!(outputs[0], outputs[1], "the same script, the same output");
    for expected in [
        // The block is one message: its lines numbered from the /import line.
        "bot: ✅ Imported 2 items",
        "bot → user 1: Your wallet was credited 200 PLN",
        "-- you are user 1; 1 message you have not seen:\nbot: Your wallet was credited 200 PLN",
        // The reservation's buttons do not take the numbers of the product's, still shown.
        "     [1] 🛒 Buy  [2] ⬅ Back\nbot: 🛒 Steam 50 is reserved for you",
        "     [3] ✅ Confirm and pay  [4] ✖ Cancel\nbot: ✅ Order #",
        "-- no button [9] is shown for you: sent 9 as text\n",
        "-- the input ended inside a message of 1 line(s) (no >>>); not sent\n",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // After a typed message the numbers start again: 1 was text, no note, no press.
    let after_nine = out.split("sent 9 as text\n").nth(1).unwrap();
    assert_eq!(after_nine, "-- the input ended inside a message of 1 line(s) (no >>>); not sent\n", "{out}");
}
