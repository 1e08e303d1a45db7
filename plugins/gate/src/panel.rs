//! The gate's admin view (the `admin` export): `status`: its settings, its channels as
//! resolved, how many membership answers are cached (fresh or stale) and the latest
//! checks. Read-only; the summary over records is unit-tested below.

use wharf_sdk::admin::{Admin, AdminError, AdminSpec, Output, Params};
use wharf_sdk::prelude::*;
use wharf_sdk::{kv, time};

use crate::GatePlugin;
use crate::check::Resolved;
use crate::rules::Cached;
use crate::settings::{Gate, Require};

/// Latest checks listed.
pub const LATEST: usize = 20;

/// The view.
pub fn spec() -> AdminSpec {
    AdminSpec::new().view("status", "Status").describe("Settings, channels, cached answers and the latest checks")
}

/// View `status` over the resolved channels and the cache `(user, chat, answer)`.
pub fn status(
    gate: &Gate,
    resolved: &[(String, Option<Resolved>)],
    cache: &[(i64, i64, Cached)],
    now_ms: i64,
) -> Output {
    let require = match gate.require {
        Require::All => "every channel",
        Require::Any => "any channel",
    };
    let fresh = cache.iter().filter(|(_, _, c)| c.fresh(now_ms, gate)).count();
    let settings = Output::key_values([
        ("Channels", gate.channels.len().to_string()),
        ("Require", require.to_owned()),
        ("Cache", format!("{} min (refusals {} s)", gate.cache_ms / 60_000, gate.negative_ms / 1000)),
        ("When Telegram cannot answer", gate.fail.as_str().to_owned()),
        ("Exempt commands", gate.exempt_commands.join(", ")),
        ("Cached answers", format!("{} ({fresh} fresh)", cache.len())),
    ]);
    let mut channels = Output::table(["Channel", "Id", "Title", "Link", "Resolved"]);
    for (spec, r) in resolved {
        let cells = match r {
            Some(r) => [
                spec.clone(),
                r.id.to_string(),
                r.title.clone().unwrap_or_default(),
                r.link.clone().unwrap_or_default(),
                if r.ok { time::date_time(r.at_ms) } else { "getChat failed".into() },
            ],
            None => [spec.clone(), String::new(), String::new(), String::new(), "not yet".into()],
        };
        channels = channels.plain_row(cells);
    }
    let mut latest: Vec<&(i64, i64, Cached)> = cache.iter().collect();
    latest.sort_by_key(|c| std::cmp::Reverse(c.2.at_ms));
    let mut checks = Output::table(["User", "Chat", "Passed", "Status", "At"]);
    for (user, chat, c) in latest.into_iter().take(LATEST) {
        let passed = if c.ok { "yes" } else { "no" };
        checks = checks.plain_row([
            user.to_string(),
            chat.to_string(),
            passed.into(),
            c.status.clone(),
            time::date_time(c.at_ms),
        ]);
    }
    settings.and(channels).and(Output::text("Latest checks")).and(checks)
}

impl Admin for GatePlugin {
    fn spec() -> AdminSpec {
        spec()
    }

    fn view(name: &str, _params: &Params, _page: Option<&str>, ctx: &Context) -> Result<Output, AdminError> {
        if name != "status" {
            return Err(wharf_sdk::admin::unknown(name));
        }
        let gate = Gate::load().map_err(AdminError::Other)?;
        let mut resolved = Vec::new();
        for c in &gate.channels {
            resolved.push((c.spec.clone(), kv::get::<Resolved>(&format!("chan:{}", c.spec))?));
        }
        let mut cache = Vec::new();
        for key in kv::keys("m:")? {
            let mut parts = key.split(':').skip(1).map(str::parse::<i64>);
            let (Some(Ok(user)), Some(Ok(chat))) = (parts.next(), parts.next()) else { continue };
            if let Some(c) = kv::get::<Cached>(&key)? {
                cache.push((user, chat, c));
            }
        }
        Ok(status(&gate, &resolved, &cache, ctx.now_ms))
    }

    fn act(name: &str, _params: &Params, _ctx: &Context) -> Result<Output, AdminError> {
        Err(wharf_sdk::admin::unknown(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn status_counts_fresh_answers_and_lists_the_latest_first() {
        let settings: Settings = serde_json::from_value(serde_json::json!({"channels": ["@news"]})).unwrap();
        let gate = settings.check().unwrap();
        let now = 10_000_000;
        let cache = vec![
            (1, -100, Cached { ok: true, status: "member".into(), at_ms: now - 1_000 }),
            (2, -100, Cached { ok: false, status: "left".into(), at_ms: now - 100_000_000 }),
        ];
        let out = status(&gate, &[("@news".into(), None)], &cache, now);
        assert_eq!(out.value("Cached answers"), Some("2 (1 fresh)"));
        assert_eq!(out.value("Channels"), Some("1"));
        let tables: Vec<_> = out
            .blocks
            .iter()
            .filter_map(|b| if let wharf_sdk::admin::Block::Table(t) = b { Some(t) } else { None })
            .collect();
        assert_eq!(tables[0].rows[0].cells[4], "not yet");
        assert_eq!(tables[1].rows[0].cells[0], "1", "the latest check first");
    }
}
