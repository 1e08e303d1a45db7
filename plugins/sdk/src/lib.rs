//! # wharf-sdk: write plugins for the Wharf bot runtime
//!
//! A plugin is a Rust crate built for `wasm32-wasip2`. It implements [`Plugin`] and
//! calls [`export_plugin!`] once (an observer, which also sees every update after the
//! other plugins, implements [`Observer`] too and calls [`export_observer_plugin!`]).
//! Everything else here is optional help:
//!
//! | module | what it gives you |
//! |---|---|
//! | [`kv`] | typed (serde/JSON) and raw reads and writes in the plugin's own namespace, key listing by page |
//! | [`telegram`] | sending text, photos and documents, editing and deleting them (by [`telegram::MessageHandle`]), the [`Outgoing`] and [`Keyboard`] builders, member lookups, downloading a [`Document`] |
//! | [`scheduler`] | the host clock ([`scheduler::now`]), one-shot timers, repeating jobs, cancelling |
//! | [`events`] | emitting custom events to other plugins, decoding them |
//! | [`http`] | outbound HTTP to granted hosts |
//! | [`command`] | splitting command arguments, quotes included |
//! | [`escape`] | HTML and MarkdownV2 escaping |
//! | [`callback`] | packing and unpacking callback data within Telegram's 64 bytes |
//! | [`settings`] | typed access to `[plugins.NAME.settings]`, the bot's admins, the bot's own account, when a user was first seen |
//! | [`log`] | diagnostics and business events (secret fields are masked by the host) |
//! | [`time`] | UTC dates: formatting timestamps, parsing `YYYY-MM-DD` |
//! | [`money`] | integer minor units: parsing, display, discounts with one rounding rule |
//! | [`admin`] | admin views (read-only reports) and actions for the host's `/admin`, `wharf admin` and web dashboard: [`admin::Admin`], [`export_admin!`], spec and output builders, typed parameters |
//! | [`usage`] | reporting how much of something a user used (`usage::record(user, "tokens", n)`) to the analytics |
//! | `testing` | (native builds only) a fake host and its `Harness`, for `cargo test` of a plugin |
//! | [`bindings`] | the raw generated WIT bindings (not served by the fake host in tests) |
//!
//! ```
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

/// Raw bindings generated from the `wharf:bot` WIT package. Prefer the modules above:
/// in a native build (tests) the raw imports abort, while the modules go to the fake
/// host of `testing`.
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
        additional_derives: [PartialEq, Eq],
    });
}

/// Raw bindings of the `observer` export (the part of the world `observer-plugin` that
/// the world `plugin` lacks). Its types are those of [`bindings`]; a component exporting
/// both ([`export_observer_plugin!`]) is an `observer-plugin`.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod observer_bindings {
    // The two `@0.2.3` below follow `package wharf:bot@…` in `wit/world.wit` (WIT needs
    // the version); change them with it.
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package wharf:sdk-observer; world observer-part { export wharf:bot/observer@0.2.3; }",
        world: "wharf:sdk-observer/observer-part",
        pub_export_macro: true,
        export_macro_name: "__export_observer_world",
        default_bindings_module: "wharf_sdk::observer_bindings",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
        with: {
            "wharf:bot/types@0.2.3": crate::bindings::wharf::bot::types,
        },
    });
}

/// Raw bindings of the `admin` export (the part of the world `admin-plugin` that the
/// world `plugin` lacks). Its types are those of [`bindings`]; [`export_admin!`] exports
/// it. Prefer [`admin`]: its builders and its [`admin::Admin`] trait.
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod admin_bindings {
    // `@0.2.3` follows `package wharf:bot@…` in `wit/world.wit`; change them together.
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "package wharf:sdk-admin; world admin-part { export wharf:bot/admin@0.2.3; }",
        world: "wharf:sdk-admin/admin-part",
        pub_export_macro: true,
        export_macro_name: "__export_admin_world",
        default_bindings_module: "wharf_sdk::admin_bindings",
        runtime_path: "wharf_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
        with: {
            "wharf:bot/types@0.2.3": crate::bindings::wharf::bot::types,
        },
    });
}

pub mod admin;
pub mod callback;
pub mod command;
pub mod escape;
pub mod events;
pub mod http;
pub mod kv;
pub mod log;
pub mod money;
pub mod scheduler;
pub mod settings;
pub mod telegram;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod text;
pub mod time;
pub mod usage;

mod error;
mod host;
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
/// What an observer implements besides [`Plugin`]: `observe(event, ctx)`, called with
/// every update from Telegram after the other plugins handled it (see
/// [`export_observer_plugin!`]).
pub use observer_bindings::exports::wharf::bot::observer::Guest as Observer;

/// Everything a typical plugin needs, in one `use`.
pub mod prelude {
    pub use crate::admin::{Admin, AdminError, AdminSpec, Output, Param, Params};
    pub use crate::{
        CallbackQuery, Command, Context, CustomEvent, Document, Event, Flow, HandlerError, Keyboard, Lifecycle,
        Manifest, ManifestExt, MemberUpdate, Message, Observer, Outgoing, OutgoingExt, Plugin, TimerFired,
    };
}

/// Export `$ty` (which implements [`Plugin`]) as this component's `handler`.
///
/// Only a `wasm32` build exports anything; a native build (tests, `cargo check`) only
/// checks that `$ty` implements [`Plugin`], so a crate with `crate-type = ["cdylib",
/// "rlib"]` also builds natively.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin_world!($ty with_types_in $crate::bindings);
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #[used]
            static DESCRIBE: fn() -> $crate::Manifest = <$ty as $crate::Plugin>::describe;
        };
    };
}

/// Export `$ty` (which implements [`Plugin`] and [`Observer`]) as this component's
/// `handler` and `observer`: the world `observer-plugin`.
///
/// The host then calls `observe` with every update from Telegram (messages, button
/// presses, member updates) after the other plugins handled it, even one they stopped,
/// as a turn of its own in which the plugin may not send, edit or delete messages; and
/// calls `handle` only with what is the plugin's own (its commands, its buttons, its
/// timers and topics, lifecycle). As with [`export_plugin!`], a native build only
/// checks the traits (`testing::Harness::observer` runs both natively).
///
/// ```
/// use wharf_sdk::{kv, prelude::*};
///
/// struct Count;
///
/// impl Plugin for Count {
///     fn describe() -> Manifest {
///         Manifest::new("count", "0.1.0")
///     }
///
///     fn handle(_event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
///         Ok(Flow::Continue)
///     }
/// }
///
/// impl Observer for Count {
///     fn observe(event: Event, _ctx: Context) -> Result<(), String> {
///         if matches!(event, Event::Message(_)) {
///             kv::increment("messages", 1)?;
///         }
///         Ok(())
///     }
/// }
///
/// wharf_sdk::export_observer_plugin!(Count);
/// ```
#[macro_export]
macro_rules! export_observer_plugin {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_plugin_world!($ty with_types_in $crate::bindings);
        #[cfg(target_arch = "wasm32")]
        $crate::observer_bindings::__export_observer_world!($ty with_types_in $crate::observer_bindings);
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            #[used]
            static DESCRIBE: fn() -> $crate::Manifest = <$ty as $crate::Plugin>::describe;
            #[used]
            static OBSERVE: fn($crate::Event, $crate::Context) -> ::core::result::Result<(), ::std::string::String> =
                <$ty as $crate::Observer>::observe;
        };
    };
}

/// Export `$ty` (which implements [`admin::Admin`]) as this component's `admin`: its
/// views and actions for the bot's admins. Call it besides [`export_plugin!`] or
/// [`export_observer_plugin!`] (a component may export `handler`, `observer` and
/// `admin`): the component is then a `wharf:bot/admin-plugin`.
///
/// As with [`export_plugin!`], a native build exports nothing and only checks `$ty`
/// (`testing::Harness::view` and `testing::Harness::act` run views and actions natively).
///
/// ```
/// use wharf_sdk::{kv, prelude::*};
///
/// struct Notes;
///
/// impl Plugin for Notes {
///     fn describe() -> Manifest {
///         Manifest::new("notes", "0.1.0")
///     }
///
///     fn handle(_event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
///         Ok(Flow::Continue)
///     }
/// }
///
/// impl Admin for Notes {
///     fn spec() -> AdminSpec {
///         AdminSpec::new().view("count", "Notes").action("add", "Add a note").param(Param::text("text", "Text").required())
///     }
///
///     fn view(_name: &str, _params: &Params, _page: Option<&str>, _ctx: &Context) -> Result<Output, AdminError> {
///         let n: i64 = kv::get("count")?.unwrap_or(0);
///         Ok(Output::key_values([("Notes", n.to_string())]))
///     }
///
///     fn act(_name: &str, params: &Params, _ctx: &Context) -> Result<Output, AdminError> {
///         let text = params.required_text("text")?;
///         let n = kv::increment("count", 1)?;
///         kv::set(&format!("note:{n}"), text)?;
///         Ok(Output::text(format!("Note {n} added")))
///     }
/// }
///
/// wharf_sdk::export_plugin!(Notes);
/// wharf_sdk::export_admin!(Notes);
/// ```
#[macro_export]
macro_rules! export_admin {
    ($ty:ident) => {
        const _: () = {
            use $crate::admin_bindings::exports::wharf::bot::admin as __raw;
            impl __raw::Guest for $ty {
                fn spec() -> __raw::AdminSpec {
                    <$ty as $crate::admin::Admin>::spec().into()
                }
                fn view(
                    name: ::std::string::String,
                    params: ::std::vec::Vec<__raw::Param>,
                    page: ::core::option::Option<::std::string::String>,
                    ctx: $crate::Context,
                ) -> ::core::result::Result<__raw::Output, __raw::Error> {
                    let params = $crate::admin::Params::from(params);
                    <$ty as $crate::admin::Admin>::view(&name, &params, page.as_deref(), &ctx)
                }
                fn act(
                    name: ::std::string::String,
                    params: ::std::vec::Vec<__raw::Param>,
                    ctx: $crate::Context,
                ) -> ::core::result::Result<__raw::Output, __raw::Error> {
                    let params = $crate::admin::Params::from(params);
                    <$ty as $crate::admin::Admin>::act(&name, &params, &ctx)
                }
            }
        };
        #[cfg(target_arch = "wasm32")]
        $crate::admin_bindings::__export_admin_world!($ty with_types_in $crate::admin_bindings);
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            use $crate::admin_bindings::exports::wharf::bot::admin as __raw;
            #[used]
            static SPEC: fn() -> __raw::AdminSpec = <$ty as __raw::Guest>::spec;
            #[used]
            static VIEW: fn(
                ::std::string::String,
                ::std::vec::Vec<__raw::Param>,
                ::core::option::Option<::std::string::String>,
                $crate::Context,
            ) -> ::core::result::Result<__raw::Output, __raw::Error> = <$ty as __raw::Guest>::view;
            #[used]
            static ACT: fn(
                ::std::string::String,
                ::std::vec::Vec<__raw::Param>,
                $crate::Context,
            ) -> ::core::result::Result<__raw::Output, __raw::Error> = <$ty as __raw::Guest>::act;
        };
    };
}

/// The snippets of `README.md`, compiled (and run) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeSnippets;

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
