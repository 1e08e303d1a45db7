//! Account public keys and the addresses derived from them (to be written).
