//! # wharf-sdk: write plugins for the Wharf bot runtime
//!
//! A plugin is a Rust crate built for `wasm32-wasip2`. It implements [`Plugin`] and
//! calls [`export_plugin!`] once. Everything else here is optional help:
//!
//! | module | what it gives you |
//! |---|---|
//! | [`kv`] | typed (serde/JSON) reads and writes in the plugin's own namespace |
//! | [`telegram`] | sending, editing and deleting messages (by [`telegram::MessageHandle`]), a builder for [`Outgoing`], the [`Keyboard`] builder, downloading a [`Document`] |
//! | [`command`] | splitting command arguments, quotes included |
//! | [`escape`] | HTML and MarkdownV2 escaping |
//! | [`callback`] | packing and unpacking callback data within Telegram's 64 bytes |
//! | [`settings`] | typed access to `[plugins.NAME.settings]` |
//! | [`log`] | diagnostics and business events (secret fields are masked by the host) |
//! | [`time`] | UTC dates: formatting timestamps, parsing `YYYY-MM-DD` |
//! | [`money`] | integer minor units: parsing, display, discounts with one rounding rule |
//! | [`bindings`] | the raw generated WIT bindings, for everything else |
//!
//! ```ignore
//! use wharf_sdk::{prelude::*, telegram};
//!
//! struct Echo;
//!
//! impl Plugin for Echo {
//!     fn describe() -> Manifest {
//!         Manifest::new("echo", env!("CARGO_PKG_VERSION")).command("echo", "Repeat your words")
//!     }
//!
//!     fn handle(event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
//!         let Event::Message(msg) = event else { return Ok(Flow::Continue) };
//!         let Some(cmd) = msg.command.filter(|c| c.name == "echo") else { return Ok(Flow::Continue) };
//!         telegram::send_text(msg.chat.id, &cmd.args)?;
//!         Ok(Flow::Stop)
//!     }
//! }
//!
//! wharf_sdk::export_plugin!(Echo);
//! ```
#![deny(missing_docs)]

extern crate self as wharf_sdk;

/// Raw bindings generated from the `wharf:bot` WIT package.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "wharf:bot/plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "wharf_sdk::bindings",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
        generate_all,
    });
}

pub mod callback;
pub mod command;
pub mod escape;
pub mod kv;
pub mod log;
pub mod money;
pub mod settings;
pub mod telegram;
pub mod time;

mod error;
mod manifest;

pub use error::Error;
pub use manifest::ManifestExt;
pub use telegram::{Keyboard, OutgoingExt};

pub use bindings::exports::wharf::bot::handler::{
    CommandSpec, Error as HandlerError, Guest as Plugin, Manifest, SettingSpec,
};
pub use bindings::wharf::bot::telegram::Outgoing;
pub use bindings::wharf::bot::types::{
    CallbackQuery, Chat, ChatKind, Command, Context, CustomEvent, Document, Event, Flow, Lifecycle, MemberStatus,
    MemberUpdate, Message, TimerFired, User,
};

/// Everything a typical plugin needs, in one `use`.
pub mod prelude {
    pub use crate::{
        CallbackQuery, Command, Context, CustomEvent, Document, Event, Flow, HandlerError, Keyboard, Lifecycle,
        Manifest, ManifestExt, MemberUpdate, Message, Outgoing, OutgoingExt, Plugin, TimerFired,
    };
}

/// Export `$ty` (which implements [`Plugin`]) as this component's `handler`.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ident) => {
        $crate::bindings::__export_plugin_world!($ty with_types_in $crate::bindings);
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
