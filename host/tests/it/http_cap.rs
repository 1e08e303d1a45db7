//! The HTTP capability against a real local server: granted hosts and ports only, names
//! that lead to non-public addresses refused, no redirects followed, timeouts and a
//! response-size cap.

use std::time::Duration;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use crate::common::*;

async fn serve() -> u16 {
    let app = Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route("/big", get(|| async { "x".repeat(5_000) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route("/redirect", get(|| async { Redirect::temporary("http://example.com/") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_granted_hosts_are_reached_within_limits() {
    let port = serve().await;
    let grants = format!(
        "grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = [\"127.0.0.1:{port}\"]\nlimits = {{ timeout_ms = 5000 }}"
    );
    let h = start_on(&Db::Sqlite, &plugin("probe", "probe", &grants), "http_max_body = 1000").await;
    let cases = [
        (format!("http://127.0.0.1:{port}/ok"), "200 hello"),
        (format!("http://127.0.0.1:{port}/redirect"), "307 "),
        (
            format!("http://localhost:{port}/ok"),
            "error: Error::AccessDenied(\"host \\\"localhost\\\" is not granted; add it to http = [...] under [plugins.probe]\")",
        ),
        (format!("http://127.0.0.1:{port}/big"), "error: Error::TooLarge(1000)"),
        (format!("http://127.0.0.1:{port}/slow"), "error: Error::Timeout"),
        ("ftp://127.0.0.1/x".to_string(), "error: Error::InvalidInput(\"scheme \\\"ftp\\\" is not http or https\")"),
    ];
    for (url, expect) in cases {
        h.say(5, &format!("/http {url}")).await;
        h.idle().await;
        let got: String = h.kv("probe", "http").await.unwrap();
        assert_eq!(got, expect, "{url}");
    }
    // Requests that left are counted per plugin, granted host and outcome; refused ones
    // never left.
    let count = |o| h.rt.metrics().plugin_http_count("probe", "127.0.0.1", o);
    use wharf::metrics::HttpOutcome;
    assert_eq!(
        [count(HttpOutcome::Ok), count(HttpOutcome::TooLarge), count(HttpOutcome::Timeout)],
        [2, 1, 1],
        "{}",
        h.rt.metrics().encode(&Default::default()).unwrap()
    );
    assert!(
        h.rt.metrics()
            .encode(&Default::default())
            .unwrap()
            .contains("wharf_plugin_http_requests_total{plugin=\"probe\",host=\"127.0.0.1\",outcome=\"timeout\"} 1")
    );
    h.rt.shutdown().await;
}

/// A probe with `http` grants whose HTTP client resolves `names` to fixed addresses.
async fn start_resolving(http: &str, names: &[(&str, &str)]) -> (wharf::Runtime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let grants = format!(
        "grants = [\"kv\", \"telegram\", \"events\", \"scheduler\"]\nhttp = {http}\nlimits = {{ timeout_ms = 5000 }}"
    );
    let text = config_text(dir.path(), &Db::Sqlite, &plugin("probe", "probe", &grants), "");
    let config = wharf::config::Config::parse(&text, dir.path()).unwrap();
    let dns_overrides = names.iter().map(|(n, ip)| (n.to_string(), vec![ip.parse().unwrap()])).collect();
    let opts = wharf::RuntimeOptions { clock: wharf::clock::Clock::manual(T0), dns_overrides, ..Default::default() };
    (wharf::Runtime::start(&config, opts).await.unwrap(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_name_reaches_only_public_addresses_and_granted_ports() {
    let port = serve().await;
    let other = serve().await;
    let names = [
        ("rebind.test", "127.0.0.1"),
        ("mapped.test", "::ffff:127.0.0.1"),
        ("metadata.test", "169.254.169.254"),
        ("intranet.test", "10.0.0.7"),
    ];
    let http = format!(
        "[\"rebind.test:{port}\", \"mapped.test:{port}\", \"metadata.test\", \"intranet.test:{port}\", \"localhost:{port}\", \"127.0.0.1:{port}\", \"127.0.0.1\"]"
    );
    let (rt, _dir) = start_resolving(&http, &names).await;
    let denied = |what: &str| {
        format!(
            "error: Error::AccessDenied(\"{what}; plugins reach only public addresses by name (grant the IP literal or \\\"localhost\\\" to reach a local service)\")"
        )
    };
    let cases = [
        (format!("http://rebind.test:{port}/ok"), denied("rebind.test resolves to 127.0.0.1, a loopback address")),
        (
            format!("http://mapped.test:{port}/ok"),
            denied("mapped.test resolves to ::ffff:127.0.0.1, a loopback address"),
        ),
        (
            "http://metadata.test/latest/meta-data/".into(),
            denied("metadata.test resolves to 169.254.169.254, a cloud metadata address"),
        ),
        (format!("http://intranet.test:{port}/ok"), denied("intranet.test resolves to 10.0.0.7, a private address")),
        // Named explicitly, loopback is reachable.
        (format!("http://localhost:{port}/ok"), "200 hello".into()),
        (format!("http://127.0.0.1:{port}/ok"), "200 hello".into()),
        // A grant without a port covers 80 and 443 only.
        (
            format!("http://127.0.0.1:{other}/ok"),
            format!(
                "error: Error::AccessDenied(\"port {other} of host \\\"127.0.0.1\\\" is not granted (a grant without a port covers 80 and 443); add \\\"127.0.0.1:{other}\\\" to http = [...] under [plugins.probe]\")"
            ),
        ),
    ];
    for (url, expect) in cases {
        rt.enqueue(5, &wharf::event::text(5, &format!("/http {url}"))).await.unwrap();
        rt.wait_idle(IDLE).await.unwrap();
        let (got, _) = rt.storage().kv_get("probe", "http").await.unwrap();
        let got: String = serde_json::from_slice(&got.unwrap()).unwrap();
        assert_eq!(got, expect, "{url}");
    }
    rt.shutdown().await;
}
