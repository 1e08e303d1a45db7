//! Test a plugin with plain `cargo test`: no wasm build, no runtime.
//!
//! In a native build (any target but `wasm32`) the SDK's host calls go to an in-process
//! fake host instead of the WIT imports. A [`Harness`] loads one plugin on it, hands it
//! events ([`Harness::send`], [`Harness::say`], [`Harness::click`], timers through
//! [`Harness::advance`]) and shows what it did: messages per chat, the Telegram calls,
//! KV contents, timers, emitted and business events, log lines. An observer is loaded
//! with [`Harness::observer`], which runs `handle` and `observe` as the host does
//! (updates that are not the plugin's own reach it through `observe` only), or driven
//! with [`Harness::observe`].
//! Admin views and actions ([`crate::admin::Admin`]) run with [`Harness::view`]
//! (read-only: every write is `access-denied`, as on the host) and [`Harness::act`] (a
//! turn: kept on `Ok`, dropped on `Err`).
//!
//! ```
//! use wharf_sdk::{kv, prelude::*, telegram};
//! use wharf_sdk::testing::Harness;
//!
//! struct Counter;
//!
//! impl Plugin for Counter {
//!     fn describe() -> Manifest {
//!         Manifest::new("counter", "0.1.0").command("count", "Count")
//!     }
//!
//!     fn handle(event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
//!         let Event::Message(msg) = event else { return Ok(Flow::Continue) };
//!         let n = kv::increment("count", 1)?;
//!         telegram::send_text(msg.chat.id, &format!("{n}"))?;
//!         Ok(Flow::Stop)
//!     }
//! }
//!
//! let mut bot = Harness::<Counter>::new();
//! bot.say(7, "/count").unwrap();
//! bot.say(7, "/count").unwrap();
//! assert_eq!(bot.texts(7), ["1", "2"]);
//! assert_eq!(bot.kv::<i64>("count"), Some(2));
//! ```
//!
//! ## Where the fake host differs from the real one
//!
//! It keeps the rules authors depend on: one event is one turn whose effects are all
//! kept or (on `Err` or a panic) all dropped; reads see the turn's own writes; the
//! host's checks on messages (length, keyboard shape, callback data with the prefix,
//! URLs), keys, values, timer and topic names, payload sizes and per-turn counts; only
//! the plugin's own messages can be edited or deleted; `describe()` gets only `config`
//! and `log`; the manifest is checked as the host checks it on load; a timer set while
//! handling one of the plugin's own timers fires at least a second later; events emitted
//! on topics the plugin subscribes to come back to it as the next turns (with its
//! manifest name as the source), at most 8 hops deep (a deeper emit is `QuotaExceeded`).
//!
//! It does not: parse HTML or MarkdownV2 (the host refuses broken markup; the
//! component-level test with `wharf test` catches it), check grants (every interface is
//! available), keep budgets across turns or KV quotas, re-run turns after conflicts
//! (there is one plugin and no concurrency), or route events to other plugins. Message
//! ids are given at once (the host learns them when Telegram accepts the message) and
//! handles are small numbers. `std::time::SystemTime` is the machine's clock, not the
//! harness's: use `scheduler::now()` or `Context::now_ms`. The host advances repeating
//! jobs by whole intervals when it wakes late; [`Harness::advance`] fires each interval.

mod admin;
mod checks;
pub(crate) mod fake;
mod harness;
mod make;
mod observe;
mod records;
pub(crate) mod state;
#[cfg(test)]
mod tests;
mod view;

pub use harness::{Harness, T0};
pub use make::{custom, document, group, member, message_in, parse_command, press, private_chat, text, user};
pub use records::{Answer, Call, Emitted, LogLine, SentFile, Shown, Timer};
/// `json!({...})` for [`Harness::with_settings`] (serde_json's macro).
pub use serde_json::json;
