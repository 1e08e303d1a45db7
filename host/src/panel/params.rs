//! What an admin typed, as typed values: every surface collects parameters as text
//! (`--name value` flags, form fields, answers in a chat) and [`parse`] checks them
//! against the view's or action's spec, so a plugin only ever gets what it declared.

use super::{Item, PanelError, ParamKind, Params, Value};

/// Most ids in one `ids` parameter.
pub const MAX_IDS: usize = 1000;
/// Longest id, in bytes.
pub const MAX_ID_BYTES: usize = 64;
/// Longest text value, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;

/// Raw parameters as typed: `(name, text)` pairs in any order. An `ids` parameter may
/// come as several pairs and each text may hold several ids separated by commas or
/// whitespace; any other parameter given twice is refused. An empty text counts as not
/// given.
pub type RawParams = Vec<(String, String)>;

fn bad(param: &str, why: impl Into<String>) -> PanelError {
    PanelError::BadParam { param: param.to_owned(), why: why.into() }
}

/// Check `raw` against `item`'s parameters and parse each value by its kind.
pub fn parse(item: &Item, raw: &[(String, String)]) -> Result<Params, PanelError> {
    for (name, _) in raw {
        if item.param(name).is_none() {
            let known: Vec<&str> = item.params.iter().map(|p| p.name.as_str()).collect();
            let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
            return Err(bad(name, format!("{} takes no such parameter (it takes: {known})", item.name)));
        }
    }
    let mut out = Params::new();
    for spec in &item.params {
        let given: Vec<&str> =
            raw.iter().filter(|(n, v)| *n == spec.name && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect();
        if given.is_empty() {
            if spec.required {
                return Err(bad(&spec.name, format!("{} is required", spec.title)));
            }
            continue;
        }
        let value = match &spec.kind {
            ParamKind::Ids => Value::Ids(ids(&spec.name, &given)?),
            _ if given.len() > 1 => return Err(bad(&spec.name, "given more than once")),
            kind => one(&spec.name, kind, given[0])?,
        };
        out.push((spec.name.clone(), value));
    }
    Ok(out)
}

fn ids(name: &str, given: &[&str]) -> Result<Vec<String>, PanelError> {
    let mut out: Vec<String> = Vec::new();
    for id in given.iter().flat_map(|g| g.split(|c: char| c == ',' || c.is_whitespace())).filter(|s| !s.is_empty()) {
        if id.len() > MAX_ID_BYTES || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) {
            return Err(bad(name, format!("an id is 1-{MAX_ID_BYTES} characters of a-z, A-Z, 0-9, - _ . :")));
        }
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    if out.len() > MAX_IDS {
        return Err(bad(name, format!("at most {MAX_IDS} ids at a time (got {})", out.len())));
    }
    Ok(out)
}

fn one(name: &str, kind: &ParamKind, text: &str) -> Result<Value, PanelError> {
    Ok(match kind {
        ParamKind::Text => {
            if text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
                return Err(bad(name, format!("one line of at most {MAX_TEXT_CHARS} characters")));
            }
            Value::Text(text.to_owned())
        }
        ParamKind::Integer => Value::Integer(text.parse().map_err(|_| bad(name, "a whole number, e.g. 42"))?),
        ParamKind::UserId => {
            let id: i64 = text.parse().map_err(|_| bad(name, "a Telegram user id (digits)"))?;
            if id <= 0 {
                return Err(bad(name, "a Telegram user id is positive"));
            }
            Value::UserId(id)
        }
        ParamKind::Amount(decimals) => Value::Amount(amount(name, text, *decimals)?),
        ParamKind::Date => {
            if jiff::civil::Date::strptime("%Y-%m-%d", text).is_err() || text.len() != 10 {
                return Err(bad(name, "a date as YYYY-MM-DD"));
            }
            Value::Date(text.to_owned())
        }
        ParamKind::Choice(choices) => {
            if !choices.iter().any(|c| c == text) {
                return Err(bad(name, format!("one of: {}", choices.join(", "))));
            }
            Value::Choice(text.to_owned())
        }
        ParamKind::Ids => Value::Ids(ids(name, &[text])?),
    })
}

/// `12.50` with 2 decimals is 1250: digits, at most `decimals` after a `.` or `,`; never
/// negative, never rounded (more decimals than the currency has are refused).
pub fn amount(name: &str, text: &str, decimals: u8) -> Result<i64, PanelError> {
    let example = if decimals == 0 { "12".to_owned() } else { format!("12.{}", "5".repeat(usize::from(decimals))) };
    let refuse = || bad(name, format!("an amount with at most {decimals} decimals, e.g. {example}"));
    let (whole, frac) = match text.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > usize::from(decimals) {
        return Err(refuse());
    }
    let scale = 10i64.checked_pow(u32::from(decimals)).ok_or_else(refuse)?;
    let w: i64 = whole.parse().map_err(|_| refuse())?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        let padded = format!("{frac:0<width$}", width = usize::from(decimals));
        padded.parse().map_err(|_| refuse())?
    };
    w.checked_mul(scale).and_then(|v| v.checked_add(f)).ok_or_else(refuse)
}

/// The raw form of typed values (to show them back, e.g. in the event log).
pub fn show(value: &Value) -> String {
    match value {
        Value::Text(s) | Value::Date(s) | Value::Choice(s) => s.clone(),
        Value::Integer(n) | Value::Amount(n) | Value::UserId(n) => n.to_string(),
        Value::Ids(ids) => {
            if ids.len() > 10 {
                format!("{} … ({} ids)", ids[..10].join(","), ids.len())
            } else {
                ids.join(",")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::ParamSpec;

    fn item() -> Item {
        let p = |name: &str, kind: ParamKind, required: bool| ParamSpec {
            name: name.into(),
            title: name.into(),
            kind,
            required,
            help: String::new(),
        };
        Item {
            name: "discount".into(),
            title: "Discount".into(),
            description: String::new(),
            params: vec![
                p("percent", ParamKind::Integer, true),
                p("city", ParamKind::Choice(vec!["Warsaw".into(), "Krakow".into()]), false),
                p("products", ParamKind::Ids, false),
                p("price", ParamKind::Amount(2), false),
                p("from", ParamKind::Date, false),
                p("user", ParamKind::UserId, false),
            ],
        }
    }

    fn raw(pairs: &[(&str, &str)]) -> RawParams {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn values_are_parsed_by_kind_in_spec_order() {
        let got = parse(
            &item(),
            &raw(&[
                ("products", "a1,b2"),
                ("products", "c3 a1"),
                ("percent", "30"),
                ("city", "Warsaw"),
                ("price", "12.5"),
            ]),
        )
        .expect("valid");
        assert_eq!(
            got,
            vec![
                ("percent".into(), Value::Integer(30)),
                ("city".into(), Value::Choice("Warsaw".into())),
                ("products".into(), Value::Ids(vec!["a1".into(), "b2".into(), "c3".into()])),
                ("price".into(), Value::Amount(1250)),
            ]
        );
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "percent"),
            (&[("percent", "x")], "percent"),
            (&[("percent", "1"), ("city", "Paris")], "city"),
            (&[("percent", "1"), ("price", "1.234")], "price"),
            (&[("percent", "1"), ("price", "-1")], "price"),
            (&[("percent", "1"), ("from", "2026-13-01")], "from"),
            (&[("percent", "1"), ("user", "-5")], "user"),
            (&[("percent", "1"), ("products", "a b <script>")], "products"),
            (&[("percent", "1"), ("percent", "2")], "percent"),
            (&[("percent", "1"), ("colour", "red")], "colour"),
        ];
        for (pairs, param) in cases {
            match parse(&item(), &raw(pairs)) {
                Err(PanelError::BadParam { param: p, .. }) => assert_eq!(p, *param, "{pairs:?}"),
                other => panic!("{pairs:?}: expected a bad {param}, got {other:?}"),
            }
        }
    }

    #[test]
    fn amounts_are_exact_minor_units() {
        assert_eq!(amount("a", "12", 2).expect("ok"), 1200);
        assert_eq!(amount("a", "12,05", 2).expect("ok"), 1205);
        assert_eq!(amount("a", "0.1", 2).expect("ok"), 10);
        assert_eq!(amount("a", "7", 0).expect("ok"), 7);
        assert_eq!(amount("a", "7.", 2).expect("ok"), 700);
        assert!(amount("a", "99999999999999999999", 2).is_err());
        assert!(amount("a", "1e3", 2).is_err());
    }

    #[test]
    fn too_many_ids_are_refused() {
        let many: Vec<String> = (0..=MAX_IDS).map(|i| format!("p{i}")).collect();
        let r = parse(&item(), &raw(&[("percent", "1"), ("products", &many.join(","))]));
        assert!(matches!(r, Err(PanelError::BadParam { ref param, .. }) if param == "products"), "{r:?}");
    }
}
