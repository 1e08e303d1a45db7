//! Where the helpers' host calls go: the WIT imports in a component (`wasm32`), the
//! in-process fake host of [`crate::testing`] in a native build, so that a plugin's
//! `cargo test` runs natively. Both sides have the bindings' signatures and types.

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::wharf::bot::{config, events, http, kv, log, scheduler, telegram};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::fake::{config, events, http, kv, log, scheduler, telegram};
