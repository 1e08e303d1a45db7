//! Loading plugins: compile (cached), check every import against the plugin's grants,
//! link cross-plugin imports to the exporting plugin, call `describe()` and validate the
//! manifest. The result is an immutable [`PluginSet`] that turns share; a reload builds
//! a new set and swaps it in.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};

use super::abi::{AdminPre, HandlerPre, ObserverPre};
use super::engine::compile_cached;
use super::sandbox;
use crate::caps::bindings::exports::wharf::bot::handler::Manifest;
use crate::caps::{HostServices, PluginCtx, PluginState, Requirement};
use crate::config::{Grant, PluginName, PluginSpec};
use crate::validate::name_like;

const HOST_PACKAGE: &str = "wharf:bot/";
/// WIT versions this host links: the current one and, through adapters, the previous one.
const HOST_VERSION_PREFIXES: [&str; 2] = ["0.2.", "0.1."];

/// A plugin ready to run.
/// A plugin's `admin` export with its checked spec.
#[derive(Clone)]
pub(crate) struct Admin {
    /// The export.
    pub pre: AdminPre,
    /// Its views and actions, from `spec()` at load.
    pub spec: crate::panel::PanelSpec,
}

pub(crate) struct LoadedPlugin {
    pub ctx: Arc<PluginCtx>,
    pub manifest: Manifest,
    pub component: Component,
    pub hash: [u8; 32],
    pub pre: HandlerPre,
    /// Its `observer` export, when it is an observer (world `observer-plugin`).
    pub observer: Option<ObserverPre>,
    /// Its `admin` export and the views and actions it declared (world `admin-plugin`).
    pub admin: Option<Admin>,
    /// Exporting plugins to instantiate into the same store first (transitive, in order).
    pub deps: Vec<Arc<LoadedPlugin>>,
}

impl LoadedPlugin {
    pub fn name(&self) -> &PluginName {
        self.ctx.name()
    }
}

/// The plugins of one generation, in run order.
#[derive(Default)]
pub(crate) struct PluginSet {
    pub plugins: Vec<Arc<LoadedPlugin>>,
}

impl PluginSet {
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPlugin>> {
        self.plugins.iter().find(|p| p.name().as_str() == name)
    }
}

/// A plugin that could not be (re)loaded, and why.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The plugin.
    pub plugin: PluginName,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A compiled candidate for one plugin.
#[derive(Clone)]
struct Candidate {
    component: Component,
    hash: [u8; 32],
}

/// Build a plugin set. With `prev`, a plugin whose new module fails any check keeps its
/// previous module (and the failure is reported); without `prev` it is left out.
pub(crate) async fn build(
    engine: &Engine,
    host: &Arc<HostServices>,
    base: &Linker<PluginState>,
    specs: &[PluginSpec],
    cache_dir: &std::path::Path,
    prev: Option<&PluginSet>,
) -> (PluginSet, Vec<LoadError>) {
    let mut errors = Vec::new();
    // Phase 1: read and compile (or reuse) every module.
    let mut candidates: HashMap<PluginName, Vec<Candidate>> = HashMap::new();
    for spec in specs {
        let old = prev.and_then(|s| s.get(spec.name.as_str()));
        let mut list = Vec::new();
        match read_and_compile(engine, spec, cache_dir, old).await {
            Ok(c) => list.push(c),
            Err(e) => errors.push(LoadError { plugin: spec.name.clone(), message: format!("{e:#}") }),
        }
        if let Some(old) = old
            && list.first().is_none_or(|c| c.hash != old.hash)
        {
            list.push(Candidate { component: old.component.clone(), hash: old.hash });
        }
        candidates.insert(spec.name.clone(), list);
    }
    // Phase 2: link and describe, exporters before their callers.
    let order = match link_order(engine, specs, &candidates) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            specs.iter().collect()
        }
    };
    // A new module whose swap would unload another running plugin (it no longer links
    // against it) is rejected too, and the set is built again with its running version.
    let mut pinned: HashMap<PluginName, String> = HashMap::new();
    loop {
        let (mut loaded, errs) = link_all(engine, host, base, specs, &order, &candidates, prev, &pinned).await;
        let mut blamed = false;
        for old in prev.iter().flat_map(|s| s.plugins.iter()).filter(|o| !loaded.contains_key(o.name())) {
            let why = errs.iter().find(|e| e.plugin == *old.name()).map_or("", |e| e.message.as_str());
            for dep in &old.deps {
                if loaded.get(dep.name()).is_some_and(|now| now.hash != dep.hash) && !pinned.contains_key(dep.name()) {
                    let reason = format!(
                        "plugin {}: the running plugin {} would no longer load with it: {why}",
                        dep.name(),
                        old.name()
                    );
                    pinned.insert(dep.name().clone(), reason);
                    blamed = true;
                }
            }
        }
        if !blamed {
            errors.extend(errs);
            errors.extend(pinned.into_iter().map(|(plugin, message)| LoadError { plugin, message }));
            let plugins = specs.iter().filter_map(|s| loaded.remove(&s.name)).collect();
            return (PluginSet { plugins }, errors);
        }
    }
}

/// Link and describe every plugin in `order`, trying its candidates in turn (only the
/// running one for `pinned` plugins). Each candidate is checked against the plugins
/// decided so far and, for those not decided yet, against the version now running: a
/// clash rejects the candidate (the running version is tried next), never a plugin
/// already in the set.
#[allow(clippy::too_many_arguments)]
async fn link_all(
    engine: &Engine,
    host: &Arc<HostServices>,
    base: &Linker<PluginState>,
    specs: &[PluginSpec],
    order: &[&PluginSpec],
    candidates: &HashMap<PluginName, Vec<Candidate>>,
    prev: Option<&PluginSet>,
    pinned: &HashMap<PluginName, String>,
) -> (HashMap<PluginName, Arc<LoadedPlugin>>, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut loaded: HashMap<PluginName, Arc<LoadedPlugin>> = HashMap::new();
    for spec in order {
        let running = prev.and_then(|s| s.get(spec.name.as_str()));
        let list = candidates
            .get(&spec.name)
            .into_iter()
            .flatten()
            .filter(|c| !pinned.contains_key(&spec.name) || running.is_some_and(|r| r.hash == c.hash));
        for (i, cand) in list.cloned().enumerate() {
            let result = match link_and_describe(engine, host, base, spec, cand, specs, &loaded).await {
                Ok(p) => {
                    let others = loaded.values().map(Arc::as_ref).chain(
                        prev.iter()
                            .flat_map(|s| s.plugins.iter())
                            .filter(|o| o.name() != &spec.name && !loaded.contains_key(o.name()))
                            .map(Arc::as_ref),
                    );
                    let reloading = prev.is_some().then_some(running.map(Arc::as_ref));
                    super::clash::check(engine, &p, others, reloading, specs)
                        .map(|()| p)
                        .map_err(|m| anyhow!("plugin {}: {m}", spec.name))
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(p) => {
                    loaded.insert(spec.name.clone(), Arc::new(p));
                    break;
                }
                Err(e) if i == 0 => errors.push(LoadError { plugin: spec.name.clone(), message: format!("{e:#}") }),
                Err(e) => {
                    tracing::error!(target: "wharf.plugin", plugin = %spec.name, error = %format!("{e:#}"), "previous version no longer links")
                }
            }
        }
    }
    (loaded, errors)
}

async fn read_and_compile(
    engine: &Engine,
    spec: &PluginSpec,
    cache_dir: &std::path::Path,
    old: Option<&Arc<LoadedPlugin>>,
) -> anyhow::Result<Candidate> {
    let bytes = tokio::fs::read(&spec.path).await.with_context(|| {
        format!("cannot read {} (path under [plugins.{}], line {})", spec.path.display(), spec.name, spec.line)
    })?;
    let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&bytes).into();
    if let Some(old) = old.filter(|o| o.hash == hash) {
        return Ok(Candidate { component: old.component.clone(), hash });
    }
    let (engine, dir) = (engine.clone(), cache_dir.to_owned());
    let component = tokio::task::spawn_blocking(move || compile_cached(&engine, &dir, &bytes))
        .await?
        .with_context(|| format!("{} is not a valid WebAssembly component", spec.path.display()))?;
    Ok(Candidate { component, hash })
}

/// Names of the non-handler interfaces a component exports.
pub(super) fn exported_interfaces(engine: &Engine, c: &Component) -> Vec<String> {
    c.component_type()
        .exports(engine)
        .filter(|(name, item)| {
            matches!(item.ty, ComponentItem::ComponentInstance(_)) && !name.starts_with(HOST_PACKAGE)
        })
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Plugins ordered so that every exporter comes before the plugins that import from it.
fn link_order<'a>(
    engine: &Engine,
    specs: &'a [PluginSpec],
    candidates: &HashMap<PluginName, Vec<Candidate>>,
) -> Result<Vec<&'a PluginSpec>, LoadError> {
    let first = |s: &PluginSpec| candidates.get(&s.name).and_then(|l| l.first()).map(|c| c.component.clone());
    // Every plugin's exported interfaces, in config order.
    let exports: Vec<(&PluginName, Vec<String>)> =
        specs.iter().filter_map(|s| Some((&s.name, exported_interfaces(engine, &first(s)?)))).collect();
    // An importer waits for the exporter its grant names; when that choice fails, for
    // every exporter, so the load error can name them all.
    let deps: HashMap<&PluginName, Vec<PluginName>> = specs
        .iter()
        .map(|s| {
            let mut d = Vec::new();
            if let Some(c) = first(s) {
                for (iface, _) in c.component_type().imports(engine) {
                    // Exporters of a semver-compatible version of it.
                    let all: Vec<&PluginName> = exports
                        .iter()
                        .filter(|(_, e)| super::link::export_for(e, iface).is_some())
                        .map(|(n, _)| *n)
                        .collect();
                    match choose_exporter(s, iface, &all) {
                        Ok(e) => d.push(e.clone()),
                        Err(_) => d.extend(all.iter().map(|e| (*e).clone())),
                    }
                }
            }
            (&s.name, d)
        })
        .collect();
    let mut out: Vec<&PluginSpec> = Vec::new();
    let mut done: HashSet<&PluginName> = HashSet::new();
    while out.len() < specs.len() {
        let before = out.len();
        for s in specs {
            if !done.contains(&s.name) && deps[&s.name].iter().all(|d| done.contains(d) || *d == s.name) {
                done.insert(&s.name);
                out.push(s);
            }
        }
        if out.len() == before {
            let stuck = specs.iter().find(|s| !done.contains(&s.name)).map(|s| s.name.clone());
            return Err(LoadError {
                plugin: stuck.clone().unwrap_or_else(|| specs[0].name.clone()),
                message: "plugins import each other's interfaces in a cycle; break the cycle".into(),
            });
        }
    }
    Ok(out)
}

/// Check imports against grants, build the linker, describe, validate.
async fn link_and_describe(
    engine: &Engine,
    host: &Arc<HostServices>,
    base: &Linker<PluginState>,
    spec: &PluginSpec,
    cand: Candidate,
    specs: &[PluginSpec],
    loaded: &HashMap<PluginName, Arc<LoadedPlugin>>,
) -> anyhow::Result<LoadedPlugin> {
    let mut linker = base.clone();
    let mut deps: Vec<Arc<LoadedPlugin>> = Vec::new();
    // Every missing grant at once, so one edit of the config fixes them all.
    let mut missing: Vec<(Missing, String)> = Vec::new();
    for (name, item) in cand.component.component_type().imports(engine) {
        if let Some(rest) = name.strip_prefix(HOST_PACKAGE) {
            missing
                .extend(check_host_import(engine, spec, name, rest, &item.ty)?.into_iter().map(|m| (m, name.into())));
        }
    }
    // Imports of other plugins' interfaces whose `call:NAME` grant is missing or
    // ambiguous, reported together with the missing host grants.
    let mut unlinked: Vec<String> = Vec::new();
    for (name, item) in cand.component.component_type().imports(engine) {
        if name.starts_with("wasi:") || name.starts_with(HOST_PACKAGE) {
            continue;
        }
        // Another plugin's interface: from the exporter the importer's `call:NAME` names,
        // among those exporting a semver-compatible version (see `link::serves`).
        let exports: Vec<(&PluginName, Vec<String>)> = specs
            .iter()
            .filter_map(|s| loaded.get(&s.name))
            .map(|p| (p.name(), exported_interfaces(engine, &p.component)))
            .collect();
        let exporters: Vec<&PluginName> =
            exports.iter().filter(|(_, e)| super::link::export_for(e, name).is_some()).map(|(n, _)| *n).collect();
        let chosen = match choose_exporter(spec, name, &exporters) {
            Ok(chosen) => chosen,
            Err(problem) => {
                // A granted plugin that exports the interface at a version that cannot
                // serve this import says so rather than "no plugin exports it".
                let mismatch = exports
                    .iter()
                    .filter(|(n, _)| spec.has(&Grant::Call((*n).clone())))
                    .find_map(|(n, e)| super::link::version_mismatch(spec.name.as_str(), n.as_str(), e, name));
                unlinked.push(mismatch.unwrap_or(problem));
                continue;
            }
        };
        if !missing.is_empty() {
            continue;
        }
        let Some(exporter) = loaded.get(chosen).cloned() else {
            bail!("plugin {} imports {name} from plugin {chosen}, which is not loaded", spec.name);
        };
        let ComponentItem::ComponentInstance(ty) = item.ty else {
            bail!("plugin {} imports {name} as something other than an interface", spec.name);
        };
        super::link::forward_interface(&mut linker, engine, name, &ty, &exporter)?;
        for d in exporter.deps.iter().chain(std::iter::once(&exporter)) {
            if !deps.iter().any(|x| x.name() == d.name()) {
                deps.push(d.clone());
            }
        }
    }
    match (missing.is_empty(), unlinked.as_slice()) {
        (true, []) => {}
        (true, [one]) => bail!("{one}"),
        (true, many) => bail!("{}", many.join("; and ")),
        (false, rest) => {
            let host = missing_error(spec, &missing);
            if rest.is_empty() {
                return Err(host);
            }
            bail!("{host}; and {}", rest.join("; and "))
        }
    }
    let pre = linker
        .instantiate_pre(&cand.component)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("plugin {} cannot be linked", spec.name))?;
    let pre = HandlerPre::new(pre).with_context(|| {
        format!(
            "plugin {} does not export wharf:bot/handler@0.2 or @0.1.0 (build it with wharf-sdk's export_plugin!)",
            spec.name
        )
    })?;
    let settings_json = serde_json::Value::Object(spec.settings.clone()).to_string();
    let provisional =
        Arc::new(PluginCtx { spec: spec.clone(), callback_prefix: None, settings_json: settings_json.clone() });
    // describe() gets a linker of its own, without effectful imports.
    let describe_pre = crate::caps::describe_linker(engine, &cand.component)
        .and_then(|l| l.instantiate_pre(&cand.component))
        .map_err(anyhow::Error::from)
        .with_context(|| format!("plugin {} cannot be linked for describe()", spec.name))?;
    let describe_pre = HandlerPre::new(describe_pre).context("the handler export vanished")?;
    let budget = Duration::from_millis(spec.timeout_ms.max(1_000));
    let manifest = sandbox::describe(engine, host, &provisional, &describe_pre, Instant::now() + budget)
        .await
        .map_err(|e| at_setting(spec, e))
        .with_context(|| format!("plugin {}: describe() failed", spec.name))?;
    check_manifest(spec, &manifest)?;
    // Components built against 0.1 never promised their settings list was complete.
    if matches!(describe_pre, HandlerPre::Current(_)) {
        check_setting_keys(spec, &manifest)?;
    }
    let ctx =
        Arc::new(PluginCtx { spec: spec.clone(), callback_prefix: manifest.callback_prefix.clone(), settings_json });
    let observer = ObserverPre::new(&pre);
    let admin = match AdminPre::new(&pre) {
        None => None,
        Some(admin_pre) => {
            let declared = sandbox::admin_spec(engine, host, &ctx, &describe_pre, &admin_pre, Instant::now() + budget)
                .await
                .with_context(|| format!("plugin {}: admin spec() failed", spec.name))?;
            let checked = crate::panel::spec::check(declared).map_err(|e| anyhow!("plugin {}: {e}", spec.name))?;
            Some(Admin { pre: admin_pre, spec: checked })
        }
    };
    Ok(LoadedPlugin { ctx, manifest, component: cand.component, hash: cand.hash, pre, observer, admin, deps })
}

/// Which of the plugins exporting `iface` (`exporters`, in config order) `importer` links
/// to: the one its `call:NAME` grants name, which must be exactly one.
fn choose_exporter<'a>(
    importer: &PluginSpec,
    iface: &str,
    exporters: &[&'a PluginName],
) -> Result<&'a PluginName, String> {
    let p = &importer.name;
    let line = importer.line;
    let others: Vec<&'a PluginName> = exporters.iter().copied().filter(|e| *e != p).collect();
    let granted: Vec<&'a PluginName> =
        others.iter().copied().filter(|e| importer.has(&Grant::Call((*e).clone()))).collect();
    let list = |names: &[&PluginName]| {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let verb = if names.len() == 2 { "both" } else { "all" };
        format!("{} {verb}", names.join(" and "))
    };
    let grants = |names: &[&PluginName]| names.iter().map(|n| format!("\"call:{n}\"")).collect::<Vec<_>>().join(", ");
    match (granted.as_slice(), others.as_slice()) {
        ([one], _) => Ok(one),
        ([], []) => Err(format!(
            "plugin {p} imports {iface}, which no enabled plugin exports (is the exporting plugin enabled and loaded?)"
        )),
        ([], [only]) => Err(format!(
            "plugin {p} imports {iface} from plugin {only} but is not granted \"call:{only}\": add \"call:{only}\" to grants under [plugins.{p}] (config line {line})"
        )),
        ([], many) => Err(format!(
            "plugin {p} imports {iface}, which plugins {} export, and none is named by a grant: add the one to call ({}) to grants under [plugins.{p}] (config line {line})",
            list(many),
            grants(many)
        )),
        (many, _) => Err(format!(
            "plugin {p} imports {iface}, which plugins {} export, and is granted {}: keep only the grant of the one to call under [plugins.{p}] (config line {line})",
            list(many),
            grants(many)
        )),
    }
}

fn check_host_import(
    engine: &Engine,
    spec: &PluginSpec,
    full: &str,
    rest: &str,
    item: &ComponentItem,
) -> anyhow::Result<Vec<Missing>> {
    let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
    if !HOST_VERSION_PREFIXES.iter().any(|p| version.starts_with(p)) {
        bail!(
            "plugin {} imports {full}, but this host provides wharf:bot@0.2.x and @0.1.x; rebuild the plugin with a matching wharf-sdk",
            spec.name
        );
    }
    let funcs: Vec<String> = match item {
        ComponentItem::ComponentInstance(ty) => ty
            .exports(engine)
            .filter(|(_, e)| matches!(e.ty, ComponentItem::ComponentFunc(_)))
            .map(|(n, _)| n.to_owned())
            .collect(),
        _ => Vec::new(),
    };
    let mut missing = Vec::new();
    for f in &funcs {
        let Some(need) = crate::caps::requirement(iface, f) else {
            bail!("plugin {} imports {full}, which this host does not provide", spec.name);
        };
        if need.met_by(spec) {
            continue;
        }
        let lack = match need {
            Requirement::Grant(grant) => Missing::Grant(grant.to_string(), f.clone()),
            Requirement::HttpHosts | Requirement::Nothing => Missing::HttpHost,
        };
        let known = missing.iter().any(|m| match (m, &lack) {
            (Missing::Grant(a, _), Missing::Grant(b, _)) => a == b,
            (a, b) => a == b,
        });
        if !known {
            missing.push(lack);
        }
    }
    Ok(missing)
}

/// What a plugin lacks to link one host import.
#[derive(Debug, PartialEq, Eq)]
enum Missing {
    /// A grant (e.g. `kv`), and the first function of the import that needs it.
    Grant(String, String),
    /// At least one `http` host.
    HttpHost,
}

/// One error naming everything a plugin lacks, and the one edit that fixes it all.
fn missing_error(spec: &PluginSpec, missing: &[(Missing, String)]) -> anyhow::Error {
    let (p, line) = (&spec.name, spec.line);
    let mut grants: Vec<String> = Vec::new();
    let mut needs = Vec::new();
    for (lack, import) in missing {
        match lack {
            Missing::Grant(g, f) => {
                let g = format!("\"{g}\"");
                if !grants.contains(&g) {
                    needs.push(format!("{import} (function {f}) needs {g}"));
                    grants.push(g);
                }
            }
            Missing::HttpHost => needs.push(format!("{import} needs an http host")),
        }
    }
    let mut fixes = Vec::new();
    if !grants.is_empty() {
        fixes.push(format!("add {} to grants", grants.join(", ")));
    }
    if missing.iter().any(|(m, _)| *m == Missing::HttpHost) {
        fixes.push("add http = [\"api.example.com\"] (the hosts it may reach)".into());
    }
    anyhow!(
        "plugin {p} is not granted what it imports: {}. Fix: {} under [plugins.{p}] (config line {line})",
        needs.join("; "),
        fixes.join(" and ")
    )
}

/// A plugin that declares settings declares all it reads: any other key under
/// `[plugins.NAME.settings]` is a mistake (a typo, a setting of another plugin), reported
/// with its line and column and the closest declared name.
fn check_setting_keys(spec: &PluginSpec, m: &Manifest) -> anyhow::Result<()> {
    if m.settings.is_empty() {
        return Ok(());
    }
    let p = &spec.name;
    for (key, line, column) in &spec.setting_keys {
        if m.settings.iter().any(|s| s.name == *key) {
            continue;
        }
        let closest = m.settings.iter().map(|s| (edit_distance(key, &s.name), &s.name)).min();
        let hint = match closest {
            Some((d, name)) if d <= 2.max(key.len() / 3) => format!(" Did you mean {name:?}?"),
            _ => String::new(),
        };
        let known: Vec<&str> = m.settings.iter().map(|s| s.name.as_str()).collect();
        bail!(
            "config line {line}, column {column}: [plugins.{p}.settings] {key:?} is not a setting of plugin {p}.{hint} \
             Its settings: {}.",
            known.join(", ")
        );
    }
    Ok(())
}

/// A `describe()` failure that names a setting the way wharf-sdk's typed settings do
/// (``setting `KEY`: …``) points at that key's line and column in the config file.
fn at_setting(spec: &PluginSpec, e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    // `methods[0].name` is at the `methods` key.
    let named = text.split("setting `").skip(1).find_map(|rest| {
        let path = rest.split('`').next()?;
        let key = path.split(['.', '[']).next()?;
        spec.setting_keys.iter().find(|(k, _, _)| k == key)
    });
    match named {
        Some((key, line, column)) => {
            e.context(format!("config line {line}, column {column}: [plugins.{}.settings] {key}", spec.name))
        }
        None => e,
    }
}

/// Levenshtein distance (in characters), for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn check_manifest(spec: &PluginSpec, m: &Manifest) -> anyhow::Result<()> {
    let p = &spec.name;
    let fail = |what: String| anyhow!("plugin {p}: manifest {what}");
    if m.name.is_empty() || m.name.len() > 64 {
        return Err(fail(format!("name must be 1-64 bytes, got {}", m.name.len())));
    }
    if m.version.is_empty() || m.version.len() > 32 {
        return Err(fail(format!("version must be 1-32 bytes, got {}", m.version.len())));
    }
    if m.commands.len() > 100 || m.topics.len() > 64 || m.settings.len() > 100 {
        return Err(fail("declares too many commands (100), topics (64) or settings (100)".into()));
    }
    for c in &m.commands {
        name_like("command", &c.name, 32, &[]).map_err(fail)?;
        let n = c.description.chars().count();
        if n == 0 || n > 256 {
            return Err(fail(format!("description of /{} must be 1-256 characters", c.name)));
        }
    }
    if let Some(prefix) = &m.callback_prefix {
        name_like("callback prefix", prefix, 16, &['-']).map_err(fail)?;
        if prefix == "wharf" {
            return Err(fail(
                "callback prefix \"wharf\" is the host's (its greeting buttons and the /admin menu)".into(),
            ));
        }
    }
    for t in &m.topics {
        name_like("topic", t, 64, &['.', '-']).map_err(fail)?;
    }
    for s in &m.settings {
        if s.name.is_empty() || s.name.len() > 64 || s.description.len() > 1024 {
            return Err(fail("has a setting with an empty or overlong name or description".into()));
        }
        if s.required && !spec.settings.contains_key(&s.name) {
            bail!(
                "plugin {p} requires the setting {:?} ({}): add it under [plugins.{p}.settings] (config line {})",
                s.name,
                s.description,
                spec.line
            );
        }
    }
    Ok(())
}
