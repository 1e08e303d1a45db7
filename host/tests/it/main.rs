//! Black-box tests of the Wharf host: real components, real SQLite (and PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set), driven through the runtime's public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod admin_cli;
mod admin_menu;
mod admin_plugins;
mod alerts;
mod analytics;
mod answers;
mod browser;
mod capabilities;
mod chat;
mod cli;
mod compat;
mod config_golden;
mod config_reload;
mod crash;
mod cross_plugin;
mod crypto;
mod dashboard;
mod deposit_topic;
mod events_timers;
mod explorer;
mod fairness;
mod files;
mod gate;
mod hostile;
mod http_cap;
mod hygiene;
mod inbox_format;
mod ledger;
mod log_sink;
mod logs;
mod market;
mod noisy;
mod observability;
mod observers;
mod operator;
mod outbox_rows;
mod ownership;
mod panel;
mod readme;
mod referral;
mod reload;
mod scaffold;
mod sender;
mod shop;
mod shop_text;
mod storage_suite;
mod telegram;
mod testkit;
mod turns;
mod wallet;
