//! One-time sign-in links. `/dashboard` in Telegram (an admin, a private chat) gets
//! `{public_url}/login/{token}`; the token says who and until when (10 minutes) and is
//! signed with a key only this process holds (HMAC-SHA-256), so nothing is stored when
//! it is handed out (the host answers `/dashboard` without a database round trip, in
//! the commit of the update). Using it stores the SHA-256 of the token under
//! `_dashboard/link:HASH` through a commit that reads that key as absent
//! (compare-and-swap): a second use, here or in a concurrent request, conflicts and is
//! refused. The token itself is never stored or logged. A restart changes the key, so
//! links handed out before it no longer work (send /dashboard again).

use std::sync::{Arc, Mutex, PoisonError, Weak};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::storage::{CommitOutcome, KeyRead, Storage, TurnCommit};

/// How long a link works.
pub const LINK_TTL_MS: i64 = 10 * 60 * 1000;
/// The host's KV namespace for used links.
pub const NS: &str = "_dashboard";

/// Signs and checks links for one dashboard.
pub(crate) struct Signer {
    key: [u8; 32],
    /// Where admins' browsers reach the dashboard (no trailing `/`).
    pub base_url: String,
}

/// Why a link does not sign anyone in (shown as one page: "used or expired").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not a token this process made.
    Unknown,
    /// Past its 10 minutes.
    Expired,
    /// Used before.
    Used,
    /// The database did not answer.
    Storage,
}

impl Refusal {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Used => "used",
            Self::Storage => "storage",
        }
    }
}

type HmacSha256 = Hmac<Sha256>;
const PAYLOAD: usize = 8 + 8 + 16;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

impl Signer {
    pub(crate) fn new(base_url: String) -> Self {
        Self { key: rand::random(), base_url }
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(payload);
        mac
    }

    /// A token for `user`, valid until `now_ms` + [`LINK_TTL_MS`].
    pub(crate) fn token(&self, user: i64, now_ms: i64) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD + 32);
        bytes.extend_from_slice(&user.to_be_bytes());
        bytes.extend_from_slice(&(now_ms + LINK_TTL_MS).to_be_bytes());
        bytes.extend_from_slice(&rand::random::<[u8; 16]>());
        let tag = self.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        B64.encode(bytes)
    }

    /// The admin a token names, if this process signed it and it is not past its time
    /// (not whether it was used: see [`Signer::redeem`]).
    pub(crate) fn check(&self, token: &str, now_ms: i64) -> Result<i64, Refusal> {
        let bytes = B64.decode(token.as_bytes()).map_err(|_| Refusal::Unknown)?;
        if bytes.len() != PAYLOAD + 32 {
            return Err(Refusal::Unknown);
        }
        let (payload, tag) = bytes.split_at(PAYLOAD);
        self.mac(payload).verify_slice(tag).map_err(|_| Refusal::Unknown)?;
        let mut n = [0u8; 8];
        n.copy_from_slice(&payload[..8]);
        let user = i64::from_be_bytes(n);
        n.copy_from_slice(&payload[8..16]);
        if now_ms >= i64::from_be_bytes(n) {
            return Err(Refusal::Expired);
        }
        Ok(user)
    }

    /// Whether a token was used already (a read; [`Signer::redeem`] decides).
    pub(crate) async fn used(&self, storage: &Storage, token: &str) -> Result<bool, Refusal> {
        match storage.kv_get(NS, &used_key(token)).await {
            Ok((found, _)) => Ok(found.is_some()),
            Err(_) => Err(Refusal::Storage),
        }
    }

    /// Check a token and mark it used, once: the admin it names.
    pub(crate) async fn redeem(&self, storage: &Storage, token: &str, now_ms: i64) -> Result<i64, Refusal> {
        let user = self.check(token, now_ms)?;
        let key = used_key(token);
        let commit = TurnCommit {
            reads: vec![KeyRead { ns: NS.into(), key: key.clone(), version: 0 }],
            writes: vec![(NS.into(), key, Some(now_ms.to_string().into_bytes()))],
            now_ms,
            ..TurnCommit::default()
        };
        match storage.commit(commit).await {
            Ok(CommitOutcome::Committed) => Ok(user),
            Ok(CommitOutcome::Conflict) => Err(Refusal::Used),
            Ok(other) => {
                tracing::warn!(target: "wharf.dashboard", outcome = ?other, "cannot mark a sign-in link used");
                Err(Refusal::Storage)
            }
            Err(e) => {
                tracing::warn!(target: "wharf.dashboard", error = %e, "cannot mark a sign-in link used");
                Err(Refusal::Storage)
            }
        }
    }
}

/// Where a used token's hash is kept.
fn used_key(token: &str) -> String {
    format!("link:{}", hex(&Sha256::digest(token.as_bytes())))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The dashboards this process serves, by runtime ([`crate::runtime::Observer::key`]).
static SERVED: Mutex<Vec<(usize, Weak<Signer>)>> = Mutex::new(Vec::new());

/// Serve links for the runtime `key` while the returned handle lives.
pub(crate) fn register(key: usize, signer: &Arc<Signer>) {
    let mut served = SERVED.lock().unwrap_or_else(PoisonError::into_inner);
    served.retain(|(k, s)| *k != key && s.strong_count() > 0);
    served.push((key, Arc::downgrade(signer)));
}

/// The reply to an admin's `/dashboard` on the runtime `key`.
pub(crate) fn reply(key: usize, user: i64, now_ms: i64) -> String {
    let signer = {
        let served = SERVED.lock().unwrap_or_else(PoisonError::into_inner);
        served.iter().find(|(k, _)| *k == key).and_then(|(_, s)| s.upgrade())
    };
    match signer {
        Some(s) => format!(
            "Your sign-in link to the dashboard (works once, for 10 minutes; do not forward it):\n{}/login/{}",
            s.base_url,
            s.token(user, now_ms)
        ),
        None => "The web dashboard is not served by this bot (it needs an [admin] table in config.toml).".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_admin_until_it_expires_and_a_changed_one_is_unknown() {
        let s = Signer::new("http://x".into());
        let t = s.token(42, 1_000);
        assert_eq!(s.check(&t, 1_000), Ok(42));
        assert_eq!(s.check(&t, 1_000 + LINK_TTL_MS), Err(Refusal::Expired));
        let mut forged = t.into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.check(&String::from_utf8(forged).unwrap(), 1_000), Err(Refusal::Unknown));
        let other = Signer::new("http://x".into());
        assert_eq!(other.check(&s.token(42, 1_000), 1_000), Err(Refusal::Unknown));
    }
}
