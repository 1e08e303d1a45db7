//! Admin views and actions: what a plugin offers the bot's admins in Telegram (`/admin`),
//! on the command line (`wharf admin`) and in the web dashboard. The host renders them;
//! the plugin only describes them ([`AdminSpec`]) and answers with structured
//! [`Output`] (text, tables with selectable rows, key/values, series).
//!
//! - A **view** is a read-only report: it may read KV, settings and the clock and log
//!   diagnostics; every write (KV, messages, events, timers, business events, HTTP) is
//!   refused with `access-denied` and nothing it did is kept. It may page: return a
//!   cursor with [`Output::next_page`] and the host calls it again with `page`.
//! - An **action** is a turn of its own, queued in the inbox and run exactly once: its
//!   effects commit together when it returns `Ok`, none on `Err`. The host records it in
//!   the event log (`admin.action`) with who asked. Derive an idempotency key from
//!   `ctx.turn_id` when the action must not apply twice across plugins.
//!
//! Implement [`Admin`] and call [`export_admin!`](crate::export_admin) besides
//! [`export_plugin!`](crate::export_plugin).
//!
//! ```
//! use wharf_sdk::prelude::*;
//!
//! fn spec() -> AdminSpec {
//!     AdminSpec::new()
//!         .view("products", "Products")
//!         .param(Param::choice("city", "City", &["Warsaw", "Kraków"]))
//!         .action("discount", "Discount")
//!         .describe("Lower the selected products' prices")
//!         .param(Param::ids("products", "Products"))
//!         .param(Param::integer("percent", "Percent").required().help("1-90"))
//! }
//!
//! let out = Output::table(["Name", "Price"]).row("p1", ["Tea", "4.00"]).actions(["discount"]);
//! assert_eq!(spec().views[0].params[0].name, "city");
//! assert_eq!(out.rows().len(), 1);
//! ```

mod output;
mod params;
mod spec;

pub use params::Params;
pub use spec::{AdminSpec, Param};

/// The raw WIT types of the `admin` interface.
pub use crate::admin_bindings::exports::wharf::bot::admin as raw;
/// Why a view or an action did not run: `InvalidInput` (shown next to the form),
/// `AccessDenied`, `NotFound`, `Other`. SDK helper errors convert with `?`.
pub use raw::Error as AdminError;
/// What a view or action returns (see its builders).
pub use raw::Output;
/// A parameter's value as the host parsed it.
pub use raw::Value;
pub use raw::{Block, KeyValue, Line, Row, Series, Table};

use crate::{Context, HandlerError};

/// A plugin's admin views and actions (export it with
/// [`export_admin!`](crate::export_admin)).
pub trait Admin {
    /// The views and actions, with their parameters. Called once per load, with no
    /// effects allowed.
    fn spec() -> AdminSpec;

    /// Show view `name` (read-only; writes are refused). `params` hold what the spec
    /// declares, already checked by the host; `page` is a cursor a previous page returned.
    fn view(name: &str, params: &Params, page: Option<&str>, ctx: &Context) -> Result<Output, AdminError>;

    /// Run action `name` as a turn: its effects commit when it returns `Ok`.
    /// `ctx.user_id` is the admin's Telegram id when known.
    fn act(name: &str, params: &Params, ctx: &Context) -> Result<Output, AdminError>;
}

impl From<crate::Error> for AdminError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::AccessDenied(m) => Self::AccessDenied(m),
            crate::Error::InvalidInput(m) => Self::InvalidInput(m),
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<HandlerError> for AdminError {
    fn from(e: HandlerError) -> Self {
        match e {
            HandlerError::AccessDenied(m) => Self::AccessDenied(m),
            HandlerError::InvalidInput(m) => Self::InvalidInput(m),
            HandlerError::Other(m) => Self::Other(m),
        }
    }
}

/// The answer to a view or action name the plugin does not have (the host only asks
/// for names in the spec, so this means the spec and the code disagree).
pub fn unknown(name: &str) -> AdminError {
    AdminError::NotFound(format!("no view or action {name:?}"))
}
