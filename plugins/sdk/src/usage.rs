//! Usage reporting: tell the bot's analytics how much of something a user used, e.g.
//! the tokens a GPT answer cost. [`record`] emits the custom event [`TOPIC`] (`usage`,
//! grant `events`) with `{"user_id":7,"name":"tokens","n":120}`; the bundled analytics
//! plugin subscribes and adds `n` to the user's counter `name` for the day (UTC), kept
//! apart per reporting plugin (its config name is the event's source). Nothing is
//! recorded if the turn is discarded; a counter never sees message text, only the name
//! and the number.
//!
//! ```
//! use wharf_sdk::usage;
//!
//! fn after_answer(user: i64, tokens: u32) -> Result<(), wharf_sdk::Error> {
//!     usage::record(user, "tokens", i64::from(tokens))
//! }
//! ```

use serde::{Deserialize, Serialize};

use crate::Error;

/// The topic usage is reported on.
pub const TOPIC: &str = "usage";

/// Longest counter name, in bytes.
pub const MAX_NAME: usize = 32;

/// The payload of [`TOPIC`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Whose usage it is.
    pub user_id: i64,
    /// The counter: 1-32 characters of `a-z 0-9 _ . -`.
    pub name: String,
    /// How much was used (> 0).
    pub n: i64,
}

/// Whether `name` is a valid counter name (1-32 characters of `a-z 0-9 _ . -`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'))
}

/// Report that user `user_id` used `n` (> 0) of `name` (1-32 characters of
/// `a-z 0-9 _ . -`, e.g. `tokens`). It is delivered after the turn commits, once.
/// [`Error::InvalidInput`] for a bad name or `n`; [`Error::AccessDenied`] without the
/// `events` grant.
pub fn record(user_id: i64, name: &str, n: i64) -> Result<(), Error> {
    if !valid_name(name) {
        return Err(Error::InvalidInput(format!(
            "usage name {name:?} must be 1-{MAX_NAME} characters of a-z, 0-9, '_', '.', '-'"
        )));
    }
    if n <= 0 {
        return Err(Error::InvalidInput(format!("usage of {name:?} must be positive, got {n}")));
    }
    crate::events::emit(TOPIC, &Usage { user_id, name: name.to_owned(), n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::testing::Harness;

    struct Gpt;

    impl Plugin for Gpt {
        fn describe() -> Manifest {
            Manifest::new("gpt", "0.1.0")
        }

        fn handle(event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
            let Event::Message(m) = event else { return Ok(Flow::Continue) };
            let user = m.sender.map_or(0, |u| u.id);
            record(user, "tokens", 120)?;
            Ok(Flow::Stop)
        }
    }

    #[test]
    fn record_emits_the_documented_payload() {
        let mut bot = Harness::<Gpt>::new();
        bot.say(7, "hello").unwrap();
        let emitted = bot.emitted();
        assert_eq!(emitted.len(), 1);
        assert_eq!(emitted[0].topic, "usage");
        assert_eq!(String::from_utf8_lossy(&emitted[0].payload), r#"{"user_id":7,"name":"tokens","n":120}"#);
    }

    #[test]
    fn names_and_amounts_are_checked() {
        for bad in ["", "Tokens", "a b", "x".repeat(33).as_str(), "émoji"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for good in ["tokens", "gpt-4.tokens", "images_1"] {
            assert!(valid_name(good), "{good:?}");
        }
        let mut bot = Harness::<Gpt>::new();
        bot.run(|| {
            assert!(matches!(record(7, "Bad Name", 1), Err(Error::InvalidInput(_))));
            assert!(matches!(record(7, "tokens", 0), Err(Error::InvalidInput(_))));
        });
    }
}
