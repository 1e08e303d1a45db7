//! Which `wharf:bot` version a plugin's `handler` export speaks. The host calls 0.2
//! handlers directly and 0.1 handlers through the 0.1 bindings; events, contexts and
//! flows have the same Rust types in both, so only the manifest and the error convert.
//! An observer's `observer` export (0.2.2 and later) is found by [`ObserverPre`], and
//! the `admin` export (0.2.3 and later) by [`AdminPre`].

use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::caps::PluginState;
use crate::caps::bindings::admin::exports::wharf::bot::admin as adm;
use crate::caps::bindings::exports::wharf::bot::handler::{CommandSpec, Error, Manifest, SettingSpec};
use crate::caps::bindings::observer::exports::wharf::bot::observer as obs;
use crate::caps::bindings::v01::exports::wharf::bot::handler as old;
use crate::caps::bindings::wharf::bot::types::{Context, Event, Flow};
use crate::caps::bindings::{Plugin, PluginPre, v01};

/// A linked plugin, ready to instantiate, by the version of its `handler` export.
#[derive(Clone)]
pub(crate) enum HandlerPre {
    /// `wharf:bot/handler@0.2.x`.
    Current(PluginPre<PluginState>),
    /// `wharf:bot/handler@0.1.x`.
    V01(v01::PluginPre<PluginState>),
}

/// An instantiated plugin's `handler`.
pub(crate) enum Handler {
    Current(Plugin),
    V01(v01::Plugin),
}

impl HandlerPre {
    /// Find the `handler` export of a supported version; `None` if there is none.
    pub fn new(pre: InstancePre<PluginState>) -> Option<Self> {
        if let Ok(p) = PluginPre::new(pre.clone()) {
            return Some(Self::Current(p));
        }
        v01::PluginPre::new(pre).ok().map(Self::V01)
    }

    /// The untyped pre-instance.
    pub fn instance_pre(&self) -> &InstancePre<PluginState> {
        match self {
            Self::Current(p) => p.instance_pre(),
            Self::V01(p) => p.instance_pre(),
        }
    }

    /// Instantiate into `store`.
    pub async fn instantiate(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Handler> {
        Ok(match self {
            Self::Current(p) => Handler::Current(p.instantiate_async(store).await?),
            Self::V01(p) => Handler::V01(p.instantiate_async(store).await?),
        })
    }
}

impl Handler {
    /// Call `describe()`.
    pub async fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Manifest> {
        match self {
            Self::Current(p) => p.wharf_bot_handler().call_describe(store).await,
            Self::V01(p) => p.wharf_bot_handler().call_describe(store).await.map(manifest),
        }
    }

    /// Call `handle(event, ctx)`.
    pub async fn handle(
        &self,
        store: &mut Store<PluginState>,
        event: &Event,
        ctx: &Context,
    ) -> wasmtime::Result<Result<Flow, Error>> {
        match self {
            Self::Current(p) => p.wharf_bot_handler().call_handle(store, event, ctx).await,
            Self::V01(p) => {
                let r = p.wharf_bot_handler().call_handle(store, event, ctx).await?;
                Ok(r.map_err(|e| match e {
                    old::Error::InvalidInput(m) => Error::InvalidInput(m),
                    old::Error::AccessDenied(m) => Error::AccessDenied(m),
                    old::Error::Other(m) => Error::Other(m),
                }))
            }
        }
    }
}

/// The `observer` export of a plugin that has one, located once when it loads.
#[derive(Clone)]
pub(crate) struct ObserverPre {
    indices: obs::GuestIndices,
}

impl ObserverPre {
    /// Find `wharf:bot/observer` (any 0.2.x from 0.2.2) among `pre`'s exports; `None`
    /// when the plugin is not an observer.
    pub fn new(pre: &HandlerPre) -> Option<Self> {
        match pre {
            HandlerPre::Current(p) => obs::GuestIndices::new(p.instance_pre()).ok().map(|indices| Self { indices }),
            HandlerPre::V01(_) => None,
        }
    }

    /// Instantiate `pre` into `store` and call `observe(event, ctx)`.
    pub async fn observe(
        &self,
        pre: &HandlerPre,
        store: &mut Store<PluginState>,
        event: &Event,
        ctx: &Context,
    ) -> wasmtime::Result<Result<(), String>> {
        let instance = pre.instance_pre().instantiate_async(&mut *store).await?;
        let guest = self.indices.load(&mut *store, &instance)?;
        guest.call_observe(&mut *store, event, ctx).await
    }
}

/// The `admin` export of a plugin that has one, located once when it loads.
#[derive(Clone)]
pub(crate) struct AdminPre {
    indices: adm::GuestIndices,
}

impl AdminPre {
    /// Find `wharf:bot/admin` (any 0.2.x from 0.2.3) among `pre`'s exports; `None` when
    /// the plugin offers no admin views or actions.
    pub fn new(pre: &HandlerPre) -> Option<Self> {
        match pre {
            HandlerPre::Current(p) => adm::GuestIndices::new(p.instance_pre()).ok().map(|indices| Self { indices }),
            HandlerPre::V01(_) => None,
        }
    }

    async fn guest(&self, pre: &HandlerPre, store: &mut Store<PluginState>) -> wasmtime::Result<adm::Guest> {
        let instance = pre.instance_pre().instantiate_async(&mut *store).await?;
        self.indices.load(&mut *store, &instance)
    }

    /// Instantiate `pre` into `store` and call `spec()`.
    pub async fn spec(&self, pre: &HandlerPre, store: &mut Store<PluginState>) -> wasmtime::Result<adm::AdminSpec> {
        let guest = self.guest(pre, store).await?;
        guest.call_spec(&mut *store).await
    }

    /// Instantiate `pre` into `store` and call `view(name, params, page, ctx)`.
    pub async fn view(
        &self,
        pre: &HandlerPre,
        store: &mut Store<PluginState>,
        name: &str,
        params: &[adm::Param],
        page: Option<&str>,
        ctx: &Context,
    ) -> wasmtime::Result<Result<adm::Output, adm::Error>> {
        let guest = self.guest(pre, store).await?;
        guest.call_view(&mut *store, name, params, page, ctx).await
    }

    /// Instantiate `pre` into `store` and call `act(name, params, ctx)`.
    pub async fn act(
        &self,
        pre: &HandlerPre,
        store: &mut Store<PluginState>,
        name: &str,
        params: &[adm::Param],
        ctx: &Context,
    ) -> wasmtime::Result<Result<adm::Output, adm::Error>> {
        let guest = self.guest(pre, store).await?;
        guest.call_act(&mut *store, name, params, ctx).await
    }
}

fn manifest(m: old::Manifest) -> Manifest {
    Manifest {
        name: m.name,
        version: m.version,
        commands: m
            .commands
            .into_iter()
            .map(|c| CommandSpec { name: c.name, description: c.description, admin_only: c.admin_only })
            .collect(),
        callback_prefix: m.callback_prefix,
        topics: m.topics,
        settings: m
            .settings
            .into_iter()
            .map(|s| SettingSpec { name: s.name, description: s.description, required: s.required })
            .collect(),
    }
}
