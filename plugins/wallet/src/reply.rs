//! What people read when the wallet refuses something: a typed [`Refusal`] whose `Display`
//! is the sentence shown (never an internal label such as `invalid input:`), the
//! [`CommandError`] that keeps refusals apart from failures, and counted nouns.

use wharf_sdk::money::Currency;
pub use wharf_sdk::text::{count, plain, quote};

/// Why a command was refused. Nothing was written; the admin sees the sentence and the
/// command's usage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A required argument is missing (`what`: "the user id", "the reason").
    #[error("{what} is missing")]
    Missing {
        /// What is missing, with its article.
        what: &'static str,
    },
    /// An argument is not what the command takes.
    #[error("{} is not {what}", quote(got))]
    Invalid {
        /// What was expected, with its article ("a user id").
        what: &'static str,
        /// What was typed.
        got: String,
    },
    /// An amount that does not parse, in the SDK's words (`"x" is not an amount like 12`).
    #[error("{0}")]
    Amount(String),
    /// Anything else, as a sentence.
    #[error("{0}")]
    Other(String),
}

/// How a command ended when it did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Refused before anything was written: the admin is told why.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A host or storage failure: the turn is discarded (the host tells the admin).
    #[error(transparent)]
    Failed(#[from] wharf_sdk::Error),
}

/// Parse an amount typed by a person; a bad one is a [`Refusal::Amount`] in the SDK's words.
pub fn amount(cur: &Currency, text: &str) -> Result<i64, Refusal> {
    cur.parse(text).map_err(|e| Refusal::Amount(plain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_carry_no_internal_labels() {
        let pln = Currency::new("PLN", 2);
        assert_eq!(amount(&pln, "ten").unwrap_err().to_string(), "\"ten\" is not an amount like 12 or 12.50");
        assert_eq!(amount(&pln, "1.234").unwrap_err().to_string(), "\"1.234\" has more than 2 digits after the point");
        let bad = Refusal::Invalid { what: "a user id", got: "bob".into() };
        assert_eq!(bad.to_string(), "\"bob\" is not a user id");
        assert_eq!(Refusal::Missing { what: "the reason" }.to_string(), "the reason is missing");
        assert_eq!(quote(&"x".repeat(50)), format!("\"{}…\"", "x".repeat(40)));
        for e in [bad, Refusal::Missing { what: "the reason" }] {
            assert!(!e.to_string().contains("invalid input"), "{e}");
        }
    }
}
