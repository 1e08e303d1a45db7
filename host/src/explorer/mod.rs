//! An Esplora-compatible block explorer emulator served on loopback, for tests and
//! `wharf chat`: the API of blockstream.info, mempool.space and litecoinspace.org under
//! `/api`, and CoinGecko-style exchange rates under `/coingecko/api/v3`.
//!
//! The chain starts with a genesis block and 100 more (or [`Explorer::start_at`] a
//! height of your choosing). The control side (this module's [`Explorer`] methods, or
//! `/control/…` over HTTP) pays addresses with new mempool transactions, mines blocks,
//! reorganises the last blocks (their transactions back to the mempool, or gone as
//! double-spent), replaces a mempool transaction (RBF) or evicts it, sets rates, and
//! injects [`Fault`]s (delays, statuses, malformed bodies) into the Esplora and rates
//! routes; it counts the requests those routes served. Addresses are opaque strings,
//! so any coin works.
//!
//! Esplora routes (see `api.rs` for the exact answers): `/blocks/tip/height`,
//! `/blocks/tip/hash`, `/block-height/:h`, `/block/:hash`, `/block/:hash/status`,
//! `/block/:hash/txids`, `/tx/:txid`, `/tx/:txid/status`, `/address/:a`,
//! `/address/:a/txs`, `/address/:a/txs/chain[/:last_seen_txid]`, `/address/:a/txs/mempool`.
//! Rates: `/coingecko/api/v3/simple/price?ids=bitcoin,litecoin&vs_currencies=pln`.
//!
//! Control routes (JSON bodies and answers; bad input is `400 {"error": "…"}`):
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /control/pay` | `{"outputs":[{"address","value"}]}` | `{"txid"}` |
//! | `POST /control/mine` | `{"blocks"?}` (1) | `{"hashes","tip"}` |
//! | `POST /control/reorg` | `{"depth","drop"?}` | `{"hashes","tip"}` |
//! | `POST /control/replace` | `{"txid","outputs"}` | `{"txid"}` |
//! | `POST /control/drop` | `{"txid"}` | `{"dropped"}` |
//! | `POST /control/fault` | a [`Fault`] | `{"ok"}` |
//! | `DELETE /control/fault` | — | `{"ok"}` |
//! | `POST /control/rate` | `{"coin","currency","value"}` | `{"ok"}` |
//! | `GET /control/stats` | — | `{"tip","tip_hash","mempool","requests","faults"}` |

mod api;
mod chain;
mod control;
mod faults;
mod rates;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use tokio::sync::oneshot;

pub use chain::ChainError;
pub use faults::Fault;
pub use rates::RateError;

use chain::Chain;
use faults::Traffic;
use rates::Rates;

/// The height of the tip a new explorer starts with ([`Explorer::start`]).
pub const START_HEIGHT: u64 = 100;

/// The state the routes and the handles share.
struct Shared {
    chain: Mutex<Chain>,
    traffic: Mutex<Traffic>,
    rates: Mutex<Rates>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn chain(&self) -> MutexGuard<'_, Chain> {
        lock(&self.chain)
    }

    fn traffic(&self) -> MutexGuard<'_, Traffic> {
        lock(&self.traffic)
    }

    fn rates(&self) -> MutexGuard<'_, Rates> {
        lock(&self.rates)
    }
}

/// The server behind the handles: stopped when the last handle drops.
struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Dropping the sender stops the server (gracefully: answers in progress finish).
        drop(lock(&self.stop).take());
    }
}

/// A running explorer. Clones are handles to the same one; the server stops when the
/// last handle drops, or at [`Explorer::shutdown`].
#[derive(Clone)]
pub struct Explorer {
    server: Arc<Server>,
}

impl Explorer {
    /// Serve on `addr` (port 0: any free port) a chain whose tip is at height
    /// [`START_HEIGHT`].
    pub async fn start(addr: SocketAddr) -> anyhow::Result<Explorer> {
        Self::start_at(addr, START_HEIGHT).await
    }

    /// Serve on `addr` a chain whose tip is at `height` (a genesis block and `height`
    /// more, the last one mined now and the others 10 minutes apart before it).
    pub async fn start_at(addr: SocketAddr, height: u64) -> anyhow::Result<Explorer> {
        anyhow::ensure!(height <= 10_000_000, "start height {height}: at most 10000000");
        let shared = Arc::new(Shared {
            chain: Mutex::new(Chain::new(height, rand::random())),
            traffic: Mutex::new(Traffic::default()),
            rates: Mutex::new(Rates::default()),
        });
        let served = api::routes()
            .merge(rates::routes())
            .layer(axum::middleware::from_fn_with_state(shared.clone(), faults::apply));
        let app: Router = served.merge(control::routes()).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(target: "wharf.explorer", error = %e, "the explorer emulator stopped");
            }
        });
        let server = Server { shared, addr, stop: Mutex::new(Some(stop)), task: Mutex::new(Some(task)) };
        Ok(Explorer { server: Arc::new(server) })
    }

    fn shared(&self) -> &Shared {
        &self.server.shared
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `http://HOST:PORT` (loopback when it listens on every interface).
    fn base(&self) -> String {
        let mut addr = self.server.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// The Esplora base URL, `http://127.0.0.1:PORT/api` (no trailing slash).
    pub fn url(&self) -> String {
        format!("{}/api", self.base())
    }

    /// The CoinGecko-style base URL, `http://127.0.0.1:PORT/coingecko/api/v3`.
    pub fn rates_url(&self) -> String {
        format!("{}/coingecko/api/v3", self.base())
    }

    /// A new mempool transaction paying `outputs` (address, sats) as vout 0, 1, … in
    /// order, plus a change output to an address of its own; its txid.
    pub fn pay(&self, outputs: &[(&str, u64)]) -> String {
        self.shared().chain().pay(outputs)
    }

    /// Mine `blocks` blocks; the first confirms every mempool transaction. Their hashes.
    pub fn mine(&self, blocks: u32) -> Vec<String> {
        self.shared().chain().mine(blocks)
    }

    /// Replace the last `depth` blocks (never the genesis) with as many new, empty
    /// ones. Their transactions go back to the mempool (not mined again); the old blocks
    /// stay known, `in_best_chain: false`. The new hashes.
    pub fn reorg(&self, depth: u32) -> Vec<String> {
        self.shared().chain().reorg(depth, false)
    }

    /// As [`Explorer::reorg`], but the reorganised-out transactions vanish (double-spent):
    /// `/tx/:txid` says 404 from then on.
    pub fn reorg_dropping(&self, depth: u32) -> Vec<String> {
        self.shared().chain().reorg(depth, true)
    }

    /// Replace (RBF) the mempool transaction `txid`: it is gone, and a new one spending
    /// the same input pays `outputs` (plus change) at a higher fee. The new txid; an
    /// error when `txid` is not in the mempool.
    pub fn replace(&self, txid: &str, outputs: &[(&str, u64)]) -> anyhow::Result<String> {
        Ok(self.shared().chain().replace(&txid.to_ascii_lowercase(), outputs)?)
    }

    /// Evict `txid` from the mempool (it is never seen again); false when it is not there.
    pub fn drop_tx(&self, txid: &str) -> bool {
        self.shared().chain().drop_tx(&txid.to_ascii_lowercase())
    }

    /// The best chain's tip height.
    pub fn tip_height(&self) -> u64 {
        self.shared().chain().tip()
    }

    /// Add a fault; faults apply in the order added, the first matching a request wins.
    pub fn fault(&self, f: Fault) {
        self.shared().traffic().faults.push(f);
    }

    /// Remove every fault.
    pub fn clear_faults(&self) {
        self.shared().traffic().faults.clear();
    }

    /// Esplora and rates requests served (faulted ones too) since start or
    /// [`Explorer::reset_counts`].
    pub fn requests(&self) -> u64 {
        self.shared().traffic().total
    }

    /// Those of [`Explorer::requests`] whose path starts with `path_prefix`
    /// (e.g. `/api/address/`).
    pub fn requests_to(&self, path_prefix: &str) -> u64 {
        self.shared().traffic().to_prefix(path_prefix)
    }

    /// Start counting requests from zero.
    pub fn reset_counts(&self) {
        let mut t = self.shared().traffic();
        t.total = 0;
        t.by_path.clear();
    }

    /// Set the rate of `coin_id` (CoinGecko's id: `bitcoin`, `litecoin`) in `vs_currency`
    /// (`pln`) to `value`, a decimal such as `400000.00`. A value that is not one is
    /// ignored with a warning (the control route answers 400 instead).
    pub fn set_rate(&self, coin_id: &str, vs_currency: &str, value: &str) {
        if let Err(e) = self.shared().rates().set(coin_id, vs_currency, value) {
            tracing::warn!(target: "wharf.explorer", error = %e, "set_rate ignored");
        }
    }

    /// Stop the server (for every handle): answers in progress get a second to finish.
    pub async fn shutdown(self) {
        drop(lock(&self.server.stop).take());
        let task = lock(&self.server.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(1), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}
