//! # Wharf: a Telegram bot runtime with sandboxed WebAssembly plugins
//!
//! The host owns everything that touches the outside world (Telegram, storage, time,
//! HTTP, logs) and runs business logic as WebAssembly components that react to events
//! through the `wharf:bot` WIT interface (see `wit/`).
//!
//! | module | what it is for |
//! |---|---|
//! | [`alerts`] | `[alerts]`: built-in alert rules, fired / repeated / resolved, to the channel, admins and a webhook |
//! | [`config`] | `config.toml`: schema, validation, resolved plugin specs |
//! | [`storage`] | SQLite/PostgreSQL: KV, inbox, outbox, timers, event log; group commit |
//! | [`runtime`] | plugin loading, sandboxed calls, turns, dispatcher, timers, reload |
//! | [`chat`] | `wharf chat`: the bot and the emulator driven from a terminal |
//! | [`caps`] | the host side of every WIT interface, one module each |
//! | [`explorer`] | an Esplora-compatible explorer emulator (and CoinGecko-style rates) for the crypto plugin |
//! | [`event`] | building events (for tests and the Telegram front end) |
//! | [`inbox`] | the versioned wire format of inbox entries |
//! | [`metrics`] | Prometheus metrics (`/metrics`): the `wharf_*` families, process metrics |
//! | [`admin`] | the admin HTTP listener: `/metrics`, `/healthz`, `/readyz` and the dashboard |
//! | [`dashboard`] | the web dashboard: sign-in, overview, plugins, event log, dead letters, plugins' views and actions |
//! | [`panel`] | plugins' admin views and actions (`wharf:bot/admin`) as every admin surface sees them |
//! | [`clock`] | the injectable host clock |
//! | [`validate`] | limits on what plugins hand back (Telegram's own) |
//! | [`secret`] | masking of secrets in logs and errors |
//! | [`sink`] | the log sink: digests of the event log to the admin log channel |
//! | [`logs`] | `wharf logs`: the event log from the terminal (filters, JSON lines, follow, counts) |
//! | [`telegram`] | Telegram I/O: client, polling, webhook, outbox sender, Bot API emulator |
//! | [`testkit`] | component-level plugin tests: conversation scripts run through `wharf chat` (`wharf test`) |
//! | [`scaffold`] | `wharf new`: a new plugin crate outside this repository |

pub mod admin;
pub mod alerts;
pub mod caps;
pub mod chat;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod event;
pub mod explorer;
pub mod inbox;
pub mod logs;
pub mod metrics;
pub mod panel;
pub mod runtime;
pub mod scaffold;
pub mod secret;
pub mod sink;
pub mod storage;
pub mod telegram;
pub mod testkit;
pub mod validate;

pub use runtime::{Runtime, RuntimeOptions};
