//! The wasmtime engine: pooling allocator sized from the concurrency bound, epoch
//! interruption driven by a ticker thread, and an on-disk cache of compiled components.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; a running plugin yields to other tasks at each tick
/// and is interrupted at the first tick past its deadline.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Build the engine; `concurrency` bounds how many stores exist at once.
pub(crate) fn new_engine(concurrency: usize) -> anyhow::Result<Engine> {
    let slots = u32::try_from(concurrency.saturating_mul(4)).unwrap_or(u32::MAX).clamp(64, 10_000);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_memories(slots)
        .total_tables(slots)
        .total_stacks(slots)
        .total_core_instances(slots.saturating_mul(8))
        // Reset a slot's first pages with memset instead of madvise: fewer syscalls and
        // TLB-shootdown interrupts per instance, which dominate at high turn rates.
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(128 << 10)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&cfg).map_err(anyhow::Error::from).context("creating the wasmtime engine")?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wharf-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .context("starting the epoch ticker")?;
    Ok(engine)
}

/// Compile a component, or load it from `cache_dir` if this exact module was compiled
/// by a compatible engine before.
pub(crate) fn compile_cached(engine: &Engine, cache_dir: &Path, bytes: &[u8]) -> anyhow::Result<Component> {
    let mut compat = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut compat);
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(compat.finish().to_le_bytes());
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let path = cache_dir.join(format!("{key}.cwasm"));
    if path.exists() {
        match load_precompiled(engine, &path) {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::warn!(target: "wharf.cache", path = %path.display(), error = %e, "discarding unusable cache entry")
            }
        }
    }
    let component = Component::new(engine, bytes)?;
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(cache_dir)?;
        let tmp = cache_dir.join(format!("{key}.tmp{}", std::process::id()));
        let data = component.serialize().map_err(std::io::Error::other)?;
        std::fs::write(&tmp, data)?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        tracing::warn!(target: "wharf.cache", dir = %cache_dir.display(), error = %e, "cannot write compile cache");
    }
    Ok(component)
}

#[allow(unsafe_code)]
fn load_precompiled(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: the file is one this host wrote into its own cache directory from a
    // component it compiled; its name is the hash of the source bytes and the engine's
    // compatibility hash, and wasmtime re-checks the header on load.
    Ok(unsafe { Component::deserialize_file(engine, path) }?)
}
