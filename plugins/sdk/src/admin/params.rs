//! [`Params`]: typed access to the parameters of a view or an action.

use super::{AdminError, Value, raw};

/// The parameters the host passed, by name. The host checked them against the spec: a
/// required one is present and of its kind, so `Option`s are for optional parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<raw::Param>);

impl From<Vec<raw::Param>> for Params {
    fn from(params: Vec<raw::Param>) -> Self {
        Self(params)
    }
}

impl<'a> FromIterator<(&'a str, Value)> for Params {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value)>>(iter: I) -> Self {
        Self(iter.into_iter().map(|(name, value)| raw::Param { name: name.to_owned(), value }).collect())
    }
}

fn missing(name: &str) -> AdminError {
    AdminError::InvalidInput(format!("{name} is required"))
}

impl Params {
    /// No parameters.
    pub fn none() -> Self {
        Self::default()
    }

    /// The raw value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    /// All of them, as passed.
    pub fn all(&self) -> &[raw::Param] {
        &self.0
    }

    /// A `text` or `choice` parameter (empty text counts as absent).
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Text(t) | Value::Choice(t) => Some(t.as_str()).filter(|t| !t.trim().is_empty()),
            _ => None,
        }
    }

    /// An `integer` parameter.
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// An `amount` parameter, in minor units.
    pub fn amount(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::Amount(n) => Some(*n),
            _ => None,
        }
    }

    /// A `date` parameter, `YYYY-MM-DD`.
    pub fn date(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Date(d) => Some(d.as_str()),
            _ => None,
        }
    }

    /// A `date` parameter as the Unix milliseconds of its midnight UTC.
    pub fn date_ms(&self, name: &str) -> Result<Option<i64>, AdminError> {
        self.date(name)
            .map(|d| crate::time::parse_date(d).map_err(|e| AdminError::InvalidInput(format!("{name}: {e}"))))
            .transpose()
    }

    /// A `user-id` parameter.
    pub fn user_id(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Value::UserId(n) => Some(*n),
            _ => None,
        }
    }

    /// An `ids` parameter (empty when absent).
    pub fn ids(&self, name: &str) -> &[String] {
        match self.get(name) {
            Some(Value::Ids(ids)) => ids,
            _ => &[],
        }
    }

    /// [`text`](Self::text), or `invalid-input` when absent.
    pub fn required_text(&self, name: &str) -> Result<&str, AdminError> {
        self.text(name).ok_or_else(|| missing(name))
    }

    /// [`integer`](Self::integer), or `invalid-input` when absent.
    pub fn required_integer(&self, name: &str) -> Result<i64, AdminError> {
        self.integer(name).ok_or_else(|| missing(name))
    }

    /// [`amount`](Self::amount), or `invalid-input` when absent.
    pub fn required_amount(&self, name: &str) -> Result<i64, AdminError> {
        self.amount(name).ok_or_else(|| missing(name))
    }

    /// [`user_id`](Self::user_id), or `invalid-input` when absent.
    pub fn required_user_id(&self, name: &str) -> Result<i64, AdminError> {
        self.user_id(name).ok_or_else(|| missing(name))
    }
}
