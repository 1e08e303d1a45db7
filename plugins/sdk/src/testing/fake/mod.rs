//! The fake host: the WIT imports with the bindings' signatures, served from the
//! harness's state. The SDK's helpers call these instead of the imports in a native
//! build (see `crate::host`).

pub(crate) mod telegram;

/// `wharf:bot/kv`: the plugin's namespace in a sorted map; reads see the turn's writes.
pub(crate) mod kv {
    pub(crate) use crate::bindings::wharf::bot::kv::{Error, KeyPage};

    use crate::testing::checks;
    use crate::testing::state::{State, effect};

    fn check(key: &str) -> Result<(), Error> {
        checks::key(key).map_err(Error::InvalidInput)
    }

    fn write(s: &mut State, key: &str, value: Option<&[u8]>) -> Result<(), Error> {
        if s.turn.read_only {
            return Err(Error::AccessDenied);
        }
        check(key)?;
        if let Some(v) = value.filter(|v| v.len() > checks::MAX_VALUE) {
            return Err(Error::InvalidInput(format!("value is {} bytes; at most {}", v.len(), checks::MAX_VALUE)));
        }
        match value {
            Some(v) => s.fx.kv.insert(key.to_owned(), v.to_vec()),
            None => s.fx.kv.remove(key),
        };
        Ok(())
    }

    pub(crate) fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        check(key)?;
        Ok(effect("kv.get", |s| s.fx.kv.get(key).cloned()))
    }

    pub(crate) fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        effect("kv.set", |s| write(s, key, Some(value)))
    }

    pub(crate) fn delete(key: &str) -> Result<(), Error> {
        effect("kv.delete", |s| write(s, key, None))
    }

    pub(crate) fn exists(key: &str) -> Result<bool, Error> {
        check(key)?;
        Ok(effect("kv.exists", |s| s.fx.kv.contains_key(key)))
    }

    pub(crate) fn list_keys(prefix: &str, cursor: Option<&str>, limit: u32) -> Result<KeyPage, Error> {
        let limit = usize::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        effect("kv.list-keys", |s| {
            let mut keys: Vec<String> =
                s.fx.kv
                    .keys()
                    .filter(|k| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c))
                    .take(limit + 1)
                    .cloned()
                    .collect();
            let more = keys.len() > limit;
            keys.truncate(limit);
            let cursor = if more { keys.last().cloned() } else { None };
            Ok(KeyPage { keys, cursor })
        })
    }

    pub(crate) fn increment(key: &str, delta: i64) -> Result<i64, Error> {
        check(key)?;
        effect("kv.increment", |s| {
            let current = match s.fx.kv.get(key) {
                None => 0,
                Some(bytes) => std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .ok_or_else(|| Error::InvalidInput(format!("value under {key:?} is not a decimal integer")))?,
            };
            let next = current
                .checked_add(delta)
                .ok_or_else(|| Error::InvalidInput(format!("{current} + {delta} overflows a 64-bit integer")))?;
            write(s, key, Some(next.to_string().as_bytes()))?;
            Ok(next)
        })
    }

    pub(crate) fn get_many(keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        keys.iter().map(|k| get(k)).collect()
    }

    /// All or nothing, as on the host.
    fn write_all(call: &str, entries: &[(&str, Option<&[u8]>)]) -> Result<(), Error> {
        effect(call, |s| {
            let before = s.fx.kv.clone();
            for (k, v) in entries {
                if let Err(e) = write(s, k, *v) {
                    s.fx.kv = before;
                    return Err(e);
                }
            }
            Ok(())
        })
    }

    pub(crate) fn set_many(entries: &[(String, Vec<u8>)]) -> Result<(), Error> {
        let entries: Vec<(&str, Option<&[u8]>)> = entries.iter().map(|(k, v)| (k.as_str(), Some(&v[..]))).collect();
        write_all("kv.set-many", &entries)
    }

    pub(crate) fn delete_many(keys: &[String]) -> Result<(), Error> {
        let entries: Vec<(&str, Option<&[u8]>)> = keys.iter().map(|k| (k.as_str(), None)).collect();
        write_all("kv.delete-many", &entries)
    }
}

/// `wharf:bot/config`: the harness's settings and admins.
pub(crate) mod config {
    pub(crate) use crate::bindings::wharf::bot::config::{BotIdentity, Error};

    use crate::testing::state::with;

    pub(crate) fn get(key: &str) -> Result<Option<String>, Error> {
        if key.is_empty() || key.len() > 64 {
            return Err(Error::InvalidInput(format!("setting keys are 1-64 bytes, got {}", key.len())));
        }
        Ok(with("config.get", |s| s.settings.get(key).map(ToString::to_string)))
    }

    pub(crate) fn get_all() -> String {
        with("config.get-all", |s| serde_json::Value::Object(s.settings.clone()).to_string())
    }

    pub(crate) fn admins() -> Vec<i64> {
        with("config.admins", |s| s.admins.clone())
    }

    pub(crate) fn bot() -> Option<BotIdentity> {
        with("config.bot", |s| s.bot.clone())
    }

    pub(crate) fn user_first_seen(user_id: i64) -> Option<i64> {
        with("config.user-first-seen", |s| s.first_seen.get(&user_id).copied())
    }
}

/// `wharf:bot/log`: diagnostics are kept at once; business events with the turn.
pub(crate) mod log {
    pub(crate) use crate::bindings::wharf::bot::log::{Error, Field, Level, TitledEvent};

    use crate::testing::LogLine;
    use crate::testing::state::with;

    pub(crate) fn write(level: Level, message: &str, fields: &[Field]) {
        with("log.write", |s| {
            s.logs.push(LogLine { level, message: message.to_owned(), fields: fields.to_vec() });
        });
    }

    pub(crate) fn record_event(event: &TitledEvent) -> Result<(), Error> {
        with("log.record-event", |s| {
            if s.in_describe || s.turn.read_only {
                return Err(Error::AccessDenied);
            }
            if s.turn.business >= 100 {
                return Err(Error::InvalidInput("a turn may record at most 100 business events".into()));
            }
            s.turn.business += 1;
            s.fx.business.push(event.clone());
            Ok(())
        })
    }
}

/// `wharf:bot/events`: emitted events are kept (and delivered back to the plugin when it
/// subscribes to the topic).
pub(crate) mod events {
    pub(crate) use crate::bindings::wharf::bot::events::Error;

    use crate::testing::state::effect;
    use crate::testing::{Emitted, checks};

    pub(crate) fn emit(topic: &str, payload: &[u8]) -> Result<(), Error> {
        checks::name_like("topic", topic, 64, &['.', '-']).map_err(Error::InvalidInput)?;
        if topic.starts_with("telegram.") {
            return Err(Error::InvalidInput(format!(
                "topics under \"telegram.\" are the host's; {topic:?} cannot be emitted"
            )));
        }
        if payload.len() > checks::MAX_PAYLOAD {
            let (n, max) = (payload.len(), checks::MAX_PAYLOAD);
            return Err(Error::InvalidInput(format!("payload is {n} bytes; at most {max}")));
        }
        effect("events.emit", |s| {
            if s.turn.read_only {
                return Err(Error::AccessDenied);
            }
            if s.turn.events >= checks::MAX_PER_TURN {
                return Err(Error::InvalidInput(format!("a turn may emit at most {} events", checks::MAX_PER_TURN)));
            }
            let hops = s.turn.hops + 1;
            if hops > checks::MAX_HOPS {
                let max = checks::MAX_HOPS;
                return Err(Error::QuotaExceeded(format!(
                    "the event would be {hops} hops deep in a chain of events; at most {max}"
                )));
            }
            s.turn.events += 1;
            let chat_id = (s.turn.lane != 0).then_some(s.turn.lane);
            s.fx.emitted.push(Emitted { topic: topic.to_owned(), payload: payload.to_vec(), chat_id });
            Ok(())
        })
    }
}

/// `wharf:bot/scheduler`: timers in a map by name, on the harness's manual clock.
pub(crate) mod scheduler {
    pub(crate) use crate::bindings::wharf::bot::scheduler::Error;

    use crate::testing::state::{effect, with};
    use crate::testing::{Timer, checks};

    pub(crate) fn now() -> i64 {
        with("scheduler.now", |s| {
            assert!(!s.in_describe, "wharf-sdk: describe() called `scheduler.now`; the component would trap");
            s.now_ms
        })
    }

    fn set(call: &str, name: &str, due: Option<i64>, interval_ms: Option<u64>, payload: &[u8]) -> Result<(), Error> {
        checks::name_like("timer name", name, 64, &['.', '-', ':']).map_err(Error::InvalidInput)?;
        if payload.len() > checks::MAX_PAYLOAD {
            let (n, max) = (payload.len(), checks::MAX_PAYLOAD);
            return Err(Error::InvalidInput(format!("payload is {n} bytes; at most {max}")));
        }
        effect(call, |s| {
            if s.turn.read_only {
                return Err(Error::AccessDenied);
            }
            if s.turn.timers >= checks::MAX_PER_TURN {
                return Err(Error::InvalidInput(format!("a turn may change at most {} timers", checks::MAX_PER_TURN)));
            }
            let after = |ms: u64| i64::try_from(ms).ok().and_then(|ms| s.now_ms.checked_add(ms));
            let Some(mut due_ms) = due.or_else(|| after(interval_ms.unwrap_or(0))) else {
                return Err(Error::InvalidInput("delay is out of range".into()));
            };
            if s.turn.own_timer {
                due_ms = due_ms.max(s.now_ms.saturating_add(checks::REARM_DELAY_MS));
            }
            s.turn.timers += 1;
            let chat_id = (s.turn.lane != 0).then_some(s.turn.lane);
            let timer = Timer { name: name.to_owned(), due_ms, interval_ms, payload: payload.to_vec(), chat_id };
            s.fx.timers.insert(name.to_owned(), timer);
            Ok(())
        })
    }

    pub(crate) fn schedule_at(name: &str, at_ms: i64, payload: &[u8]) -> Result<(), Error> {
        set("scheduler.schedule-at", name, Some(at_ms), None, payload)
    }

    pub(crate) fn schedule_after(name: &str, delay_ms: u64, payload: &[u8]) -> Result<(), Error> {
        let now = now();
        let due = i64::try_from(delay_ms)
            .ok()
            .and_then(|d| now.checked_add(d))
            .ok_or_else(|| Error::InvalidInput(format!("delay of {delay_ms} ms is out of range")))?;
        set("scheduler.schedule-after", name, Some(due), None, payload)
    }

    pub(crate) fn repeat_every(name: &str, interval_ms: u64, payload: &[u8]) -> Result<(), Error> {
        if interval_ms < checks::MIN_INTERVAL_MS {
            return Err(Error::InvalidInput(format!("interval must be at least {} ms", checks::MIN_INTERVAL_MS)));
        }
        set("scheduler.repeat-every", name, None, Some(interval_ms), payload)
    }

    pub(crate) fn cancel(name: &str) -> Result<bool, Error> {
        effect("scheduler.cancel", |s| {
            if s.turn.read_only {
                return Err(Error::AccessDenied);
            }
            Ok(s.fx.timers.remove(name).is_some())
        })
    }
}

/// `wharf:bot/http`: answered by the test's responder ([`Harness::on_http`](crate::testing::Harness::on_http)).
pub(crate) mod http {
    pub(crate) use crate::bindings::wharf::bot::http::{Error, Request, Response};

    use crate::testing::checks;
    use crate::testing::state::effect;

    pub(crate) fn fetch(request: &Request) -> Result<Response, Error> {
        checks::url(&request.url, &["https", "http"]).map_err(Error::InvalidInput)?;
        // The responder runs without the state borrowed, so it may look at anything.
        if effect("http.fetch", |s| s.turn.read_only) {
            return Err(Error::AccessDenied("an admin view is read-only".into()));
        }
        let responder = effect("http.fetch", |s| s.http.take());
        let Some(mut respond) = responder else {
            return Err(Error::Other(format!(
                "no HTTP in the test harness: answer {} with Harness::on_http",
                request.url
            )));
        };
        let response = respond(request);
        effect("http.fetch", |s| s.http = Some(respond));
        response
    }
}
