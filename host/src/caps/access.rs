//! Who may use a capability. Each capability module states what importing each of its
//! functions requires ([`Requirement`], checked when a plugin is loaded) and checks it
//! again on every host call: the capability's view (`state.kv()`, `state.telegram()`, …)
//! decides its [`Access`] once, when the call arrives, for the plugin running at that
//! moment. That is the top of the plugin stack, not the plugin the store was made for: a
//! plugin calling another plugin's export runs the callee's code with the callee's
//! grants. `describe()` is denied everything with effects, an observer's `observe`
//! (everything running in its store) every message to Telegram, and an admin view
//! every write ([`Access::ReadOnly`]).

use super::PluginState;
use crate::config::{Grant, PluginName, PluginSpec};

/// What a plugin's config must say for it to import (and call) one function of a
/// capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// Always available.
    Nothing,
    /// This grant (`PluginSpec::has` also accepts the grants that imply it).
    Grant(Grant),
    /// At least one host under `http = [...]`.
    HttpHosts,
}

impl Requirement {
    /// Whether `spec` grants it.
    pub(crate) fn met_by(&self, spec: &PluginSpec) -> bool {
        match self {
            Self::Nothing => true,
            Self::Grant(g) => spec.has(g),
            Self::HttpHosts => !spec.http.is_empty(),
        }
    }
}

/// Whether the running plugin may use (a group of functions of) a capability in the
/// host call being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Access {
    /// Yes.
    Allowed,
    /// No: `describe()` is running, and may not have effects.
    Describing,
    /// No: an observer's `observe` is running, and may not send, edit or delete
    /// messages or answer button presses.
    Observing,
    /// No: an admin view is running, and may not write anything (`admin.view`).
    ReadOnly,
    /// No: the running plugin's config does not grant this. The load-time check keeps a
    /// plugin from importing what it was not granted, so only a host bug gets here.
    NotGranted(Requirement),
}

impl Access {
    /// `Ok` when allowed; otherwise the reason, for error cases that carry a message.
    /// `in_describe` says what `describe()` may not do. A refusal for a missing grant is
    /// logged: it means the load-time check was bypassed.
    pub(crate) fn check(&self, plugin: &PluginName, in_describe: &str) -> Result<(), String> {
        match self {
            Self::Allowed => Ok(()),
            Self::Describing => Err(in_describe.to_owned()),
            Self::Observing => Err(OBSERVING.to_owned()),
            Self::ReadOnly => Err(READ_ONLY.to_owned()),
            Self::NotGranted(need) => {
                let why = match need {
                    Requirement::Grant(g) => format!("plugin {plugin} is not granted \"{g}\""),
                    Requirement::HttpHosts | Requirement::Nothing => format!("plugin {plugin} is granted no HTTP host"),
                };
                tracing::warn!(target: "wharf.host", %plugin, reason = %why, "host call refused: grant missing at run time");
                Err(why)
            }
        }
    }
}

/// What an observer is told when `observe` tries to message Telegram.
pub(crate) const OBSERVING: &str =
    "observe() may not send, edit or delete messages or answer button presses (an observer only looks)";

/// What an admin view is told when it tries to write.
pub(crate) const READ_ONLY: &str = "an admin view is read-only: it may not write KV, send messages, emit events, set timers, record business events or make HTTP requests";

impl PluginState {
    /// The running plugin's access to what a function with effects (a write) needs:
    /// as [`PluginState::access`], and never in an admin view.
    pub(crate) fn write_access(&self, need: Requirement) -> Access {
        match self.access(need) {
            Access::Allowed if self.read_only => Access::ReadOnly,
            other => other,
        }
    }

    /// The running plugin's access to what `need` requires, as of now.
    pub(crate) fn access(&self, need: Requirement) -> Access {
        if self.describing {
            Access::Describing
        } else if need.met_by(&self.current().spec) {
            Access::Allowed
        } else {
            Access::NotGranted(need)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::caps::bindings::wharf::bot::config::Host as _;
    use crate::caps::bindings::wharf::bot::kv::{self, Host as _};
    use crate::caps::bindings::wharf::bot::log::{self, Host as _};
    use crate::caps::bindings::wharf::bot::scheduler::Host as _;
    use crate::caps::bindings::wharf::bot::telegram::{self, Host as _};
    use crate::caps::{HostServices, PluginCtx, TurnState};
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::storage::Storage;

    /// `caller` may call `callee` and send messages but has no KV; `callee` has KV only.
    fn plugins(dir: &Path) -> (Arc<PluginCtx>, Arc<PluginCtx>) {
        let text = format!(
            "[storage]\nurl = \"sqlite:{}\"\n\
             [plugins.caller]\npath = \"caller.wasm\"\ngrants = [\"telegram.send\", \"call:callee\"]\n\
             [plugins.callee]\npath = \"callee.wasm\"\ngrants = [\"kv\"]\n",
            dir.join("wharf.db").display()
        );
        let specs = Config::parse(&text, dir).expect("valid config").plugin_specs();
        let ctx = |name: &str| {
            let spec = specs.iter().find(|s| s.name.as_str() == name).expect("configured").clone();
            Arc::new(PluginCtx { spec, callback_prefix: None, settings_json: "{}".into() })
        };
        (ctx("caller"), ctx("callee"))
    }

    async fn state(dir: &Path, first: Arc<PluginCtx>) -> PluginState {
        let storage =
            Storage::open(&format!("sqlite:{}", dir.join("wharf.db").display()), None).await.expect("storage");
        let host = Arc::new(HostServices {
            storage,
            clock: Clock::manual(0),
            http: crate::caps::egress::client(Default::default()).expect("client"),
            http_max_body: 1 << 20,
            quotas: Default::default(),
            budgets: Default::default(),
            live: Arc::default(),
            admins: std::sync::RwLock::new(vec![1000]),
            metrics: Arc::default(),
        });
        PluginState::new(host, first, TurnState::new(Some(1), 5, 0), Instant::now() + Duration::from_secs(60))
    }

    fn denied_text(r: Result<(), telegram::Error>) -> String {
        match r {
            Err(telegram::Error::AccessDenied(m)) => m,
            other => panic!("expected access-denied, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_running_plugin_uses_its_own_grants_not_its_callers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (caller, callee) = plugins(dir.path());
        let mut state = state(dir.path(), caller.clone()).await;

        // The caller has no KV grant; it may answer a callback.
        let r = state.kv().set("k".into(), b"caller".to_vec()).await.expect("no trap");
        assert!(matches!(r, Err(kv::Error::AccessDenied)), "{r:?}");
        let r = state.telegram().answer_callback("cb".into(), None, false).await.expect("no trap");
        assert!(matches!(r, Ok(())), "{r:?}");

        // The caller calls the callee's export: the callee's grants apply, in its namespace.
        state.enter(callee.clone());
        let r = state.kv().set("k".into(), b"callee".to_vec()).await.expect("no trap");
        assert!(matches!(r, Ok(())), "{r:?}");
        let r = state.kv().get("k".into()).await.expect("no trap");
        assert!(r.as_ref().is_ok_and(|v| v.as_deref() == Some(&b"callee"[..])), "{r:?}");
        let refused = state.telegram().answer_callback("cb".into(), None, false).await.expect("no trap");
        assert_eq!(denied_text(refused), "plugin callee is not granted \"telegram.send\"");
        let now = state.scheduler().now().await;
        assert!(
            now.is_err_and(|e| e.to_string().contains("not granted \"scheduler\"")),
            "now() without the grant traps"
        );
        state.leave();

        // Back in the caller: still no KV, and the callee's write is not the caller's.
        let r = state.kv().get("k".into()).await.expect("no trap");
        assert!(matches!(r, Err(kv::Error::AccessDenied)), "{r:?}");
        let writes: Vec<_> = state.call.writes.keys().cloned().collect();
        assert_eq!(writes, [("callee".to_owned(), "k".to_owned())]);
        assert_eq!(state.call.outbox.len(), 1, "only the caller's answer was queued");
        assert_eq!(state.call.outbox[0].plugin, "caller");
    }

    #[tokio::test]
    async fn describe_is_denied_every_effect_but_may_read_config_and_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, callee) = plugins(dir.path());
        let mut state = state(dir.path(), callee).await;
        state.describing = true;

        let r = state.kv().get("k".into()).await.expect("no trap");
        assert!(matches!(r, Err(kv::Error::AccessDenied)), "{r:?}");
        let event = log::BusinessEvent { kind: "x".into(), user_id: None, fields: vec![] };
        let r = state.log().event(event).await.expect("no trap");
        assert!(matches!(r, Err(log::Error::AccessDenied)), "{r:?}");
        state.log().write(log::Level::Info, "hello".into(), vec![]).await.expect("diagnostics are allowed");
        assert_eq!(state.config().get_all().await.expect("settings are readable"), "{}");
        assert!(state.call.writes.is_empty() && state.call.log.is_empty());
    }

    #[test]
    fn the_telegram_grant_covers_its_parts_and_http_needs_a_host() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (caller, callee) = plugins(dir.path());
        let members = Requirement::Grant(Grant::TelegramMembers);
        assert!(!members.met_by(&caller.spec), "telegram.send is not telegram.members");
        let mut spec = caller.spec.clone();
        spec.grants.push(Grant::Telegram);
        assert!(members.met_by(&spec), "telegram covers telegram.members");
        assert!(Requirement::Nothing.met_by(&callee.spec));
        assert!(!Requirement::HttpHosts.met_by(&callee.spec));
    }
}
