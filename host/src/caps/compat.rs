//! `wharf:bot@0.1.0` for components built against the previous WIT: its imports are
//! adapters over the 0.2 implementation, served by the same capability views (`Kv`,
//! `Telegram`, …), so both versions obey the same rules, grants and quotas.
//!
//! - `types`, `log`, `config` and `http` did not change: the 0.2 implementation is linked
//!   under the 0.1 names as it is.
//! - `kv`, `events`, `scheduler`: 0.2 added the `quota-exceeded` error case, which a 0.1
//!   component cannot receive; it arrives as `other("quota exceeded: …")`.
//! - `telegram`: sends return nothing (the handle is dropped), and `edit-message` and
//!   `delete-message` take a Telegram message id, which must be one of the plugin's own
//!   messages as in 0.2.

use wasmtime::Result;
use wasmtime::component::Linker;

use super::PluginState;
use super::bindings::v01::wharf::bot as v01;
use super::bindings::wharf::bot as v02;
use super::config::ConfigCap;
use super::events::{Events, EventsCap};
use super::http::HttpCap;
use super::kv::{Kv, KvCap};
use super::log::LogCap;
use super::scheduler::{Scheduler, SchedulerCap};
use super::telegram::TelegramCap;

/// Add the 0.1 imports without effects (`types`, `log`, `config`) to `linker`.
pub(crate) fn add_pure_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    linker.instance("wharf:bot/types@0.1.0")?;
    v02::log::add_to_linker_instance::<_, LogCap>(&mut linker.instance("wharf:bot/log@0.1.0")?, PluginState::log)?;
    v02::config::add_to_linker_instance::<_, ConfigCap>(
        &mut linker.instance("wharf:bot/config@0.1.0")?,
        PluginState::config,
    )
}

/// Add every `wharf:bot/*@0.1.0` import to `linker`, served by the same views as 0.2.
pub(crate) fn add_to_linker(linker: &mut Linker<PluginState>) -> Result<()> {
    add_pure_to_linker(linker)?;
    v02::http::add_to_linker_instance::<_, HttpCap>(&mut linker.instance("wharf:bot/http@0.1.0")?, PluginState::http)?;
    v01::telegram::add_to_linker::<_, TelegramCap>(linker, PluginState::telegram)?;
    v01::kv::add_to_linker::<_, KvCap>(linker, PluginState::kv)?;
    v01::events::add_to_linker::<_, EventsCap>(linker, PluginState::events)?;
    v01::scheduler::add_to_linker::<_, SchedulerCap>(linker, PluginState::scheduler)?;
    Ok(())
}

/// Maps a 0.2 error of `kv`, `events` or `scheduler` to its 0.1 form.
macro_rules! old_error {
    ($iface:ident, $e:expr) => {
        match $e {
            v02::$iface::Error::AccessDenied => v01::$iface::Error::AccessDenied,
            v02::$iface::Error::InvalidInput(m) => v01::$iface::Error::InvalidInput(m),
            v02::$iface::Error::QuotaExceeded(m) => v01::$iface::Error::Other(format!("quota exceeded: {m}")),
            v02::$iface::Error::Other(m) => v01::$iface::Error::Other(m),
        }
    };
}

/// 0.1 functions whose arguments did not change, forwarded to the 0.2 implementation
/// with only the error mapped (an associated-items macro for `impl v01::X::Host`).
macro_rules! forward {
    ($iface:ident: $(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(async fn $name(&mut self, $($arg: $ty),*) -> Result<std::result::Result<$ret, v01::$iface::Error>> {
            let r = <Self as v02::$iface::Host>::$name(self, $($arg),*).await?;
            Ok(r.map_err(|e| old_error!($iface, e)))
        })*
    };
}

impl v01::kv::Host for Kv<'_> {
    forward!(kv:
        fn get(key: String) -> Option<Vec<u8>>;
        fn set(key: String, value: Vec<u8>) -> ();
        fn delete(key: String) -> ();
        fn exists(key: String) -> bool;
        fn increment(key: String, delta: i64) -> i64;
        fn get_many(keys: Vec<String>) -> Vec<Option<Vec<u8>>>;
        fn set_many(entries: Vec<(String, Vec<u8>)>) -> ();
        fn delete_many(keys: Vec<String>) -> ();
    );

    async fn list_keys(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<std::result::Result<v01::kv::KeyPage, v01::kv::Error>> {
        let r = <Self as v02::kv::Host>::list_keys(self, prefix, cursor, limit).await?;
        Ok(r.map(|p| v01::kv::KeyPage { keys: p.keys, cursor: p.cursor }).map_err(|e| old_error!(kv, e)))
    }
}

impl v01::events::Host for Events<'_> {
    forward!(events:
        fn emit(topic: String, payload: Vec<u8>) -> ();
    );
}

impl v01::scheduler::Host for Scheduler<'_> {
    forward!(scheduler:
        fn schedule_at(name: String, at_ms: i64, payload: Vec<u8>) -> ();
        fn schedule_after(name: String, delay_ms: u64, payload: Vec<u8>) -> ();
        fn repeat_every(name: String, interval_ms: u64, payload: Vec<u8>) -> ();
        fn cancel(name: String) -> bool;
    );

    async fn now(&mut self) -> Result<i64> {
        <Self as v02::scheduler::Host>::now(self).await
    }
}

mod telegram;
