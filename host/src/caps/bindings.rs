//! The `bindgen!` calls for the `wharf:bot` WIT package: the current version (0.2, `wit/`)
//! re-exported for every capability, and the previous one (0.1, the pinned copy in
//! `wit/compat/0.1.0`) in [`v01`], which `caps::compat` links to adapters; and the
//! world `observer-plugin` in [`observer`], whose `observer` export the runtime calls
//! (`runtime::abi`); and the world `admin-plugin` in [`admin`], whose `admin` export the
//! host's admin surfaces call (`runtime::panel`).

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

/// Bindings of the world `observer-plugin` (0.2.2 and later): the `observer` export that observers
/// add to `handler`. Its imports and types are those of the current version.
pub mod observer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wharf:bot/observer-plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "wharf:bot/types": crate::caps::bindings::wharf::bot::types,
            "wharf:bot/telegram": crate::caps::bindings::wharf::bot::telegram,
            "wharf:bot/kv": crate::caps::bindings::wharf::bot::kv,
            "wharf:bot/log": crate::caps::bindings::wharf::bot::log,
            "wharf:bot/events": crate::caps::bindings::wharf::bot::events,
            "wharf:bot/scheduler": crate::caps::bindings::wharf::bot::scheduler,
            "wharf:bot/http": crate::caps::bindings::wharf::bot::http,
            "wharf:bot/config": crate::caps::bindings::wharf::bot::config,
        },
    });
}

/// Bindings of the world `admin-plugin` (0.2.3): the `admin` export with a plugin's views
/// and actions. Its imports and types are those of the current version.
pub mod admin {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wharf:bot/admin-plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "wharf:bot/types": crate::caps::bindings::wharf::bot::types,
            "wharf:bot/telegram": crate::caps::bindings::wharf::bot::telegram,
            "wharf:bot/kv": crate::caps::bindings::wharf::bot::kv,
            "wharf:bot/log": crate::caps::bindings::wharf::bot::log,
            "wharf:bot/events": crate::caps::bindings::wharf::bot::events,
            "wharf:bot/scheduler": crate::caps::bindings::wharf::bot::scheduler,
            "wharf:bot/http": crate::caps::bindings::wharf::bot::http,
            "wharf:bot/config": crate::caps::bindings::wharf::bot::config,
        },
    });
}
