//! The `bindgen!` calls for the `wharf:bot` WIT package: the current version (0.2, `wit/`)
//! re-exported for every capability, and the previous one (0.1, the pinned copy in
//! `wit/compat/0.1.0`) in [`v01`], which `caps::compat` links to adapters.

#![allow(unsafe_code, missing_docs, clippy::all)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "wharf:bot/plugin",
    imports: { default: async | trappable },
    exports: { default: async },
    additional_derives: [serde::Serialize, serde::Deserialize],
});

/// Bindings of `wharf:bot@0.1.0`. Interfaces that did not change in 0.2 share the 0.2
/// Rust types (and host implementations), so events reach a 0.1 handler unconverted.
pub mod v01 {
    wasmtime::component::bindgen!({
        path: "../wit/compat/0.1.0",
        world: "wharf:bot/plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "wharf:bot/types": crate::caps::bindings::wharf::bot::types,
            "wharf:bot/log": crate::caps::bindings::wharf::bot::log,
            "wharf:bot/config": crate::caps::bindings::wharf::bot::config,
            "wharf:bot/http": crate::caps::bindings::wharf::bot::http,
        },
    });
}
