//! `wharf:bot/http`: outbound requests to granted hosts only (a grant without a port
//! covers ports 80 and 443), reached by name only at public addresses (see `egress`),
//! never following redirects (a redirect could leave the granted hosts), with a timeout
//! clamped to the call's remaining budget and a cap on the response body. Every request
//! that leaves is counted in `wharf_plugin_http_requests_total{plugin, host, outcome}`.

use std::time::Duration;

use wasmtime::Result;
use wasmtime::component::{HasData, Linker};

use super::bindings::wharf::bot::http::{self as wit, Error, Host, Method, Request, Response};
use super::{Access, PluginState, Requirement};
use crate::metrics::HttpOutcome;

/// Limits on one request.
#[derive(Clone, Copy, Debug)]
struct HttpQuotas {
    /// Longest timeout a plugin may ask for, in milliseconds.
    max_timeout_ms: u64,
    /// Largest response body, in bytes (`http_max_body` in `[runtime]`).
    max_body: u64,
}

/// Importing `http` needs at least one host under `http = [...]`; which hosts a request
/// may reach is checked per request.
pub(super) fn requirement(_func: &str) -> Requirement {
    Requirement::HttpHosts
}

/// `http` as the running plugin may use it in one host call.
pub(crate) struct Http<'a> {
    state: &'a mut PluginState,
    access: Access,
    quotas: HttpQuotas,
}

impl PluginState {
    /// The `http` view for this host call.
    pub(super) fn http(&mut self) -> Http<'_> {
        let quotas = HttpQuotas { max_timeout_ms: 30_000, max_body: self.host.http_max_body };
        Http { access: self.write_access(requirement("fetch")), quotas, state: self }
    }
}

/// [`HasData`] for linking `http` to [`Http`] views.
pub(super) struct HttpCap;

impl HasData for HttpCap {
    type Data<'a> = Http<'a>;
}

/// Link `wharf:bot/http` (the current version) to [`Http`] views.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    wit::add_to_linker::<_, HttpCap>(linker, PluginState::http)
}

impl Host for Http<'_> {
    async fn fetch(&mut self, req: Request) -> Result<std::result::Result<Response, Error>> {
        let plugin = self.state.current().clone();
        if let Err(why) = self.access.check(plugin.name(), "describe() may not make requests") {
            return Ok(Err(Error::AccessDenied(why)));
        }
        let url = match reqwest::Url::parse(&req.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(u) => return Ok(Err(Error::InvalidInput(format!("scheme {:?} is not http or https", u.scheme())))),
            Err(e) => return Ok(Err(Error::InvalidInput(format!("bad URL: {e}")))),
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(0);
        if !plugin.spec.http.iter().any(|h| h.allows(&host, port)) {
            let hint = if plugin.spec.http.iter().any(|h| h.allows(&host, 443)) {
                format!(
                    "port {port} of host {host:?} is not granted (a grant without a port covers 80 and 443); add \"{host}:{port}\""
                )
            } else {
                format!("host {host:?} is not granted; add it")
            };
            return Ok(Err(Error::AccessDenied(format!("{hint} to http = [...] under [plugins.{}]", plugin.name()))));
        }
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            Method::Patch => reqwest::Method::PATCH,
            Method::Head => reqwest::Method::HEAD,
        };
        let max_timeout = self.quotas.max_timeout_ms;
        let wanted = req.timeout_ms.map_or(max_timeout, u64::from).min(max_timeout);
        let timeout = Duration::from_millis(wanted.min(self.state.remaining_ms()).max(1));
        let mut builder = self.state.host.http.request(method, url).timeout(timeout);
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let request = match builder.build() {
            Ok(r) => r,
            Err(e) => return Ok(Err(Error::InvalidInput(format!("bad request: {e}")))),
        };
        let cap = self.quotas.max_body;
        let client = self.state.host.http.clone();
        let result = async move {
            let mut resp = client.execute(request).await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                if (body.len() + chunk.len()) as u64 > cap {
                    return Ok(Err(Error::TooLarge(cap)));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Ok(Response { status, headers, body }))
        };
        let answer = match tokio::time::timeout(timeout, result).await {
            Err(_) => Err(Error::Timeout),
            Ok(Ok(r)) => r,
            Ok(Err::<_, reqwest::Error>(e)) if e.is_timeout() => Err(Error::Timeout),
            Ok(Err(e)) => match super::egress::refusal(&e) {
                Some(refused) => Err(Error::AccessDenied(refused.to_string())),
                None => Err(Error::Other(format!("request failed: {}", e.without_url()))),
            },
        };
        let outcome = match &answer {
            Ok(r) => HttpOutcome::of_status(r.status),
            Err(Error::Timeout) => HttpOutcome::Timeout,
            Err(Error::TooLarge(_)) => HttpOutcome::TooLarge,
            Err(Error::AccessDenied(_) | Error::InvalidInput(_)) => HttpOutcome::Refused,
            Err(Error::Other(_)) => HttpOutcome::Failed,
        };
        self.state.host.metrics.plugin_http(plugin.name().as_str(), &host, outcome);
        Ok(answer)
    }
}
