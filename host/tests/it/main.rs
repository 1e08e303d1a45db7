//! Black-box tests of the Wharf host: real components, real SQLite (and PostgreSQL when
//! `WHARF_TEST_DATABASE_URL` is set), driven through the runtime's public API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod admin_menu;
mod alerts;
mod analytics;
mod answers;
mod capabilities;
mod chat;
mod cli;
mod compat;
mod config_golden;
mod crash;
mod cross_plugin;
mod crypto;
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
