//! The HTTP capability against a real local server: granted hosts only, no redirects
//! followed, timeouts and a response-size cap.

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
    let h = start_on(
        &Db::Sqlite,
        &plugin("probe", "probe", &format!("{ALL}\nlimits = {{ timeout_ms = 5000 }}")),
        "http_max_body = 1000",
    )
    .await;
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
    h.rt.shutdown().await;
}
