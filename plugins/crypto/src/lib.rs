//! # crypto: Bitcoin and Litecoin deposits (work in progress)

pub mod keys;

use wharf_sdk::prelude::*;

/// The plugin.
pub struct Crypto;

impl Plugin for Crypto {
    fn describe() -> Manifest {
        Manifest::new("crypto", env!("CARGO_PKG_VERSION"))
    }

    fn handle(_event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
        Ok(Flow::Continue)
    }
}

wharf_sdk::export_plugin!(Crypto);
