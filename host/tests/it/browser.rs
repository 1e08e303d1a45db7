//! The dashboard in a real headless Chromium driven through chromedriver (WebDriver,
//! from Rust with fantoccini): sign in through the link the bot sent, disable a plugin
//! through a confirmed form, a form stripped of its CSRF token refused, a used and an
//! expired link refused. Screenshots of every step are saved under
//! `target/screenshots/` as test artifacts. Without chromium and chromedriver the test
//! fails and says how to install them (`.ci/run` does).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use wharf::config::AdminConfig;

use crate::common::*;
use crate::dashboard::{link_for, serve};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the browser tests need Debian's chromium and chromium-driver \
         (apt-get install chromium chromium-driver; .ci/run installs them)"
    );
}

async fn start_browser() -> (Driver, Client) {
    require(CHROMIUM);
    require(CHROMEDRIVER);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: profile };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("{}/status", driver.url)).await.ok();
        if let Some(r) = ready
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not answer on port {port} within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", driver._profile.path().display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client =
        ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a browser session");
    (driver, client)
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Wait (20 s at most) until the element `css` holds text containing `want`: a click
/// that navigates returns before the next page is there, and the old page's element
/// may be read, or go stale, meanwhile.
async fn until_text(c: &Client, css: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if text.contains(want) {
                return;
            }
            last = text;
        }
        assert!(Instant::now() < deadline, "{css} did not come to show {want:?} (last: {last:?})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_signs_in_by_the_bots_link_and_forms_need_the_csrf_token() {
    let h = start(&plugin("probe", "probe", ALL)).await;
    let server = serve(&h, AdminConfig::loopback(0)).await;
    let (_driver, c) = start_browser().await;

    // Sign in through the link the bot sent.
    let link = link_for(&h, 1000).await;
    c.goto(&link).await.unwrap();
    shot(&c, "01-link").await;
    c.wait().for_element(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    until_text(&c, "h1", "Overview").await;
    until_text(&c, "header .signout span", "1000 via web").await;
    shot(&c, "02-overview").await;

    // A confirmed form: disable the probe plugin.
    c.goto(&format!("http://{}/plugins", server.local_addr())).await.unwrap();
    c.wait().for_element(Locator::Css("#plugin-probe button")).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
    until_text(&c, "#plugin-probe .state", "disabled").await;
    assert!(h.rt.observer().plugins().iter().any(|p| p.name == "probe" && p.disabled));
    shot(&c, "03-plugin-disabled").await;

    // The same kind of form without its CSRF token: refused, nothing changes.
    c.execute(
        "const f = document.querySelector('#plugin-probe form'); f.querySelector('input[name=csrf]').remove(); f.submit();",
        vec![],
    )
    .await
    .unwrap();
    until_text(&c, "h1", "Refused").await;
    until_text(&c, "p.message", "nothing was changed").await;
    assert!(h.rt.observer().plugins().iter().any(|p| p.name == "probe" && p.disabled));
    shot(&c, "04-csrf-refused").await;

    // The used link, in a fresh session: refused.
    c.delete_all_cookies().await.unwrap();
    c.goto(&link).await.unwrap();
    until_text(&c, "h1", "Link used or expired").await;
    shot(&c, "05-link-used").await;

    // A link past its 10 minutes: refused.
    let late = link_for(&h, 1000).await;
    h.rt.clock().advance(Duration::from_millis(wharf::dashboard::LINK_TTL_MS as u64));
    c.goto(&late).await.unwrap();
    until_text(&c, "h1", "Link used or expired").await;
    shot(&c, "06-link-expired").await;
    c.goto(&format!("http://{}/overview", server.local_addr())).await.unwrap();
    until_text(&c, "h1", "Sign in").await;

    c.close().await.unwrap();
    server.stop().await;
}

/// Type `text` into the field `css` (after clearing it).
async fn type_into(c: &Client, css: &str, text: &str) {
    let field = c.wait().for_element(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Click `css` and accept the confirmation it asks for.
async fn click_confirmed(c: &Client, css: &str) {
    c.wait().for_element(Locator::Css(css)).await.unwrap().click().await.unwrap();
    c.accept_alert().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_discounts_warsaw_and_approves_a_deposit_in_the_browser() {
    use crate::market::{ADMIN, WAIT, market};
    let m = market("").await;
    m.import(
        "Warsaw | Mokotów | Gift cards | Steam 50 | 50.00 | STEAM-1\n\
         Warsaw | Wola | Games | PSN 20 | 20.00 | PSN-1\n\
         Kraków | Old Town | Gift cards | Xbox 10 | 10.00 | XBOX-1",
    )
    .await;
    let deposit = crate::wallet::request_deposit(&m, 7, "50", "BLIK-REF-777").await;
    let server = serve(&m.h, AdminConfig::loopback(0)).await;
    let base = format!("http://{}", server.local_addr());
    let (_driver, c) = start_browser().await;

    // The link the bot sent through Telegram (the emulator).
    let sent = m.say(ADMIN, "/dashboard", "sign-in link").await;
    let link = sent.text[sent.text.find("http://").unwrap()..].trim().to_owned();
    c.goto(&link).await.unwrap();
    c.wait().for_element(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    until_text(&c, "h1", "Overview").await;

    // Products in Warsaw, all selected, 30 % off.
    c.goto(&format!("{base}/plugin/shop/view/products")).await.unwrap();
    type_into(&c, "form.params input[name=city]", "Warsaw").await;
    c.find(Locator::Css("form.params button")).await.unwrap().click().await.unwrap();
    until_text(&c, "p.text", "2 products match").await;
    shot(&c, "10-warsaw-products").await;
    c.find(Locator::Css("input.select-all")).await.unwrap().click().await.unwrap();
    let rows = c.find_all(Locator::Css("input.row")).await.unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert!(r.is_selected().await.unwrap(), "select all selects every row");
    }
    type_into(&c, "input[name='discount.percent']", "30").await;
    shot(&c, "11-warsaw-selected").await;
    click_confirmed(&c, "button[name=_action][value=discount]").await;
    until_text(&c, "#done", "Done").await;
    shot(&c, "12-discount-applied").await;

    // The bot shows those products discounted to a user; Kraków keeps its price.
    let card = m.open_product(7, ["Warsaw", "Mokotów", "Gift cards", "Steam 50"]).await;
    assert!(card.text.contains("35 PLN") && card.text.contains("−30%"), "{}", card.text);
    let psn = m.open_product(7, ["Warsaw", "Wola", "Games", "PSN 20"]).await;
    assert!(psn.text.contains("14 PLN"), "{}", psn.text);
    let xbox = m.open_product(7, ["Kraków", "Old Town", "Gift cards", "Xbox 10"]).await;
    assert!(!xbox.text.contains('%'), "{}", xbox.text);

    // The pending deposit, approved; the user is told.
    c.goto(&format!("{base}/plugin/wallet/view/pending")).await.unwrap();
    until_text(&c, "table", &format!("#{deposit}")).await;
    shot(&c, "13-pending-deposit").await;
    c.find(Locator::Css("input.row")).await.unwrap().click().await.unwrap();
    click_confirmed(&c, "button[name=_action][value=approve]").await;
    until_text(&c, "#done", "Done").await;
    shot(&c, "14-deposit-approved").await;
    let told = m.emu.wait_sent(WAIT, |e| e.texts(7).iter().any(|t| t.contains("was approved"))).await;
    assert!(told, "the user was told");
    assert_eq!(m.balance(7).await, 5_000);

    // The discount form without its CSRF token: refused, nothing changes.
    c.goto(&format!("{base}/plugin/shop/view/products?city=Krak%C3%B3w&run=1")).await.unwrap();
    until_text(&c, "p.text", "1 products match").await;
    c.execute(
        "const f = document.querySelector('form.selection'); \
         f.querySelector('input[name=csrf]').remove(); \
         for (const b of f.querySelectorAll('input.row')) b.checked = true; \
         f.querySelector(\"input[name='discount.percent']\").value = '50'; \
         const go = document.createElement('input'); go.type = 'hidden'; go.name = '_action'; go.value = 'discount'; \
         f.appendChild(go); f.submit();",
        vec![],
    )
    .await
    .unwrap();
    until_text(&c, "h1", "Refused").await;
    shot(&c, "15-no-csrf-refused").await;
    let xbox = m.open_product(7, ["Kraków", "Old Town", "Gift cards", "Xbox 10"]).await;
    assert!(!xbox.text.contains('%'), "{}", xbox.text);

    // Audited with the admin's id.
    let log = m.h.rt.storage().event_log().await.unwrap();
    let acts: Vec<_> = log.iter().filter(|e| e.kind == "admin.action").collect();
    assert_eq!(acts.len(), 2, "{acts:?}");
    assert!(acts.iter().all(|e| e.user_id == Some(ADMIN) && e.fields["by"] == format!("{ADMIN} via web")));
    c.close().await.unwrap();
    server.stop().await;
}
