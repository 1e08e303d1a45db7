//! Live file downloads for plugins (`telegram.download-file`), available once the
//! Telegram front end is connected: `getFile`, then the file itself from
//! `{api_url}file/bot{token}/{file_path}`, capped in size and time.
//!
//! The bot token is part of the download URL, so no error built here carries a URL,
//! and every message is passed through [`redact`] as well.

use std::time::Duration;

use teloxide_core::Bot;
use teloxide_core::errors::{ApiError, RequestError};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::FileId;

use super::live::{LiveBot, NOT_CONNECTED};
use crate::secret::redact;

/// The largest file plugins may download, in bytes (the host's limit; a plugin's
/// `max-bytes` is clamped to it).
pub const MAX_DOWNLOAD_BYTES: u32 = 1 << 20;

/// Why a download failed. Messages never contain the bot token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    /// Not connected, or no answer in time.
    #[error("{0}")]
    Unavailable(String),
    /// A bad file id, or a file over the limit (the message names size and limit).
    #[error("{0}")]
    Invalid(String),
    /// Telegram refused or the transfer failed.
    #[error("{0}")]
    Other(String),
}

impl LiveBot {
    /// Download the file `file_id`, accepting at most `max_bytes` (clamped to
    /// [`MAX_DOWNLOAD_BYTES`]), within `timeout` for both requests together.
    pub async fn download(&self, file_id: &str, max_bytes: u32, timeout: Duration) -> Result<Vec<u8>, DownloadError> {
        if file_id.is_empty() || file_id.len() > 256 {
            return Err(DownloadError::Invalid(format!("file id must be 1-256 bytes, got {}", file_id.len())));
        }
        let Some((bot, token)) = self.get() else {
            return Err(DownloadError::Unavailable(NOT_CONNECTED.into()));
        };
        let limit = Limit::new(max_bytes);
        match tokio::time::timeout(timeout, fetch(&bot, &token, file_id, limit)).await {
            Err(_) => Err(DownloadError::Unavailable("Telegram did not answer in time".into())),
            Ok(r) => r,
        }
    }
}

/// The effective size limit and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Limit {
    bytes: u32,
    host: bool,
}

impl Limit {
    fn new(max_bytes: u32) -> Self {
        if max_bytes > MAX_DOWNLOAD_BYTES {
            Self { bytes: MAX_DOWNLOAD_BYTES, host: true }
        } else {
            Self { bytes: max_bytes, host: false }
        }
    }

    /// The `invalid-input` text for a file of `size` bytes (`None`: more than the limit,
    /// exact size unknown).
    fn exceeded(self, size: Option<u64>) -> DownloadError {
        let size = size.map_or_else(|| format!("more than {} bytes", self.bytes), |s| format!("{s} bytes"));
        let whose = if self.host { "the host's limit" } else { "max-bytes" };
        DownloadError::Invalid(format!("the file is {size}, over the limit of {} bytes ({whose})", self.bytes))
    }
}

async fn fetch(bot: &Bot, token: &str, file_id: &str, limit: Limit) -> Result<Vec<u8>, DownloadError> {
    let file = bot.get_file(FileId(file_id.to_owned())).send().await.map_err(|e| request_error(&e, token))?;
    // teloxide reports an unknown size as u32::MAX.
    if file.meta.size != u32::MAX && file.meta.size > limit.bytes {
        return Err(limit.exceeded(Some(u64::from(file.meta.size))));
    }
    let mut url = bot.api_url();
    url.path_segments_mut()
        .map_err(|()| DownloadError::Other("the Bot API URL cannot hold a file path".into()))?
        .pop_if_empty()
        .push("file")
        .push(&format!("bot{token}"))
        .extend(file.path.split('/'));
    let transfer = |e: reqwest::Error| DownloadError::Other(format!("file download failed: {}", network(&e, token)));
    let mut response = bot.client().get(url).send().await.map_err(transfer)?;
    let status = response.status();
    if !status.is_success() {
        return Err(DownloadError::Other(format!("file download failed: HTTP {}", status.as_u16())));
    }
    if let Some(len) = response.content_length()
        && len > u64::from(limit.bytes)
    {
        return Err(limit.exceeded(Some(len)));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transfer)? {
        if body.len() + chunk.len() > usize::try_from(limit.bytes).unwrap_or(usize::MAX) {
            return Err(limit.exceeded(None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn request_error(e: &RequestError, token: &str) -> DownloadError {
    match e {
        RequestError::Api(ApiError::FileIdInvalid | ApiError::WrongFileId) => {
            DownloadError::Invalid("Telegram does not know this file id".into())
        }
        RequestError::Network(n) => DownloadError::Other(format!("getFile failed: {}", network(n, token))),
        other => DownloadError::Other(redact(&format!("getFile failed: {other}"), token)),
    }
}

/// A client error's text without its URL (which holds the token), and the token masked
/// in case it shows elsewhere.
fn network(e: &reqwest::Error, token: &str) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "").replace(url.as_str(), "the Bot API");
    }
    redact(&text, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_size_and_whose_limit() {
        assert_eq!(Limit::new(64), Limit { bytes: 64, host: false });
        assert_eq!(Limit::new(u32::MAX), Limit { bytes: MAX_DOWNLOAD_BYTES, host: true });
        assert_eq!(
            Limit::new(64).exceeded(Some(100)).to_string(),
            "the file is 100 bytes, over the limit of 64 bytes (max-bytes)"
        );
        assert_eq!(
            Limit::new(u32::MAX).exceeded(None).to_string(),
            "the file is more than 1048576 bytes, over the limit of 1048576 bytes (the host's limit)"
        );
    }

    #[tokio::test]
    async fn unconnected_and_bad_ids() {
        let d = LiveBot::default();
        let r = d.download("abc", 10, Duration::from_secs(1)).await;
        assert!(matches!(r, Err(DownloadError::Unavailable(_))), "{r:?}");
        let r = d.download("", 10, Duration::from_secs(1)).await;
        assert!(matches!(r, Err(DownloadError::Invalid(_))), "{r:?}");
    }

    /// A Bot API server that reports no file size and streams 100 bytes chunked (no
    /// `Content-Length`), so only the cap on bytes read can stop the download. Returns its
    /// URL and the request lines it saw.
    async fn chunked_server() -> (reqwest::Url, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = reqwest::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let mut stream = BufReader::new(stream);
                let (mut head, mut line, mut len) = (String::new(), String::new(), 0usize);
                stream.read_line(&mut head).await.unwrap();
                while stream.read_line(&mut line).await.unwrap() > 2 {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    line.clear();
                }
                let mut body = vec![0; len];
                stream.read_exact(&mut body).await.unwrap();
                log.lock().unwrap().push(head.trim().to_owned());
                let reply = if head.contains("/file/") {
                    format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n64\r\n{}\r\n0\r\n\r\n",
                        "z".repeat(100)
                    )
                } else {
                    let json =
                        r#"{"ok":true,"result":{"file_id":"abc","file_unique_id":"u","file_path":"documents/f.txt"}}"#;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                        json.len()
                    )
                };
                stream.get_mut().write_all(reply.as_bytes()).await.unwrap();
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn the_bytes_read_are_capped_when_the_size_is_unknown() {
        let (url, seen) = chunked_server().await;
        let token = "123456:SECRET-token";
        let d = LiveBot::default();
        d.connect(Bot::new(token).set_api_url(url), token);
        let err = d.download("abc", 64, Duration::from_secs(10)).await.unwrap_err();
        assert_eq!(err.to_string(), "the file is more than 64 bytes, over the limit of 64 bytes (max-bytes)");
        assert_eq!(d.download("abc", 100, Duration::from_secs(10)).await.unwrap(), vec![b'z'; 100]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[1], format!("GET /file/bot{token}/documents/f.txt HTTP/1.1"), "{seen:?}");
    }

    #[tokio::test]
    async fn a_network_error_does_not_carry_the_token() {
        // Nothing listens there: the client's error would name the URL, token included.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let token = "123456:SECRET-token";
        let url = reqwest::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let d = LiveBot::default();
        d.connect(Bot::new(token).set_api_url(url), token);
        let err = d.download("abc", 10, Duration::from_secs(10)).await.unwrap_err();
        assert!(matches!(err, DownloadError::Other(_)), "{err:?}");
        assert!(!err.to_string().contains("SECRET") && !err.to_string().contains("123456"), "{err}");
    }
}
