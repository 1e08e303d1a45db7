//! The `/admin` menu's callback data: `wharf:m:OP:ARGS`, under the host-reserved
//! `wharf` prefix (no plugin may claim it, see `plugin::check_manifest`), always within
//! Telegram's 64 bytes: a plugin by name (at most 32 bytes), an item by its index among
//! the plugin's views or actions, a conversation by its nonce.

/// What every menu button's data starts with.
pub(crate) const PREFIX: &str = "wharf:m:";
/// Telegram's limit on callback data, in bytes.
pub(crate) const MAX_DATA: usize = 64;

/// Views or actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// A read-only report.
    View,
    /// A change, queued as a turn.
    Action,
}

/// A menu button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Press {
    /// The list of plugins, this page.
    Home(usize),
    /// A plugin's views and actions, this page.
    Plugin(String, usize),
    /// Start a view or an action: (kind, plugin, index among the plugin's views or actions).
    Start(Kind, String, usize),
    /// The answer to the asked `choice` parameter: this choice (conversation nonce, index).
    Choice(String, usize),
    /// Leave out the asked optional parameter.
    Skip(String),
    /// Run the confirmed action.
    Yes(String),
    /// Do not run it / stop asking.
    No(String),
    /// The view's next page.
    More(String),
}

impl Press {
    /// The callback data (at most [`MAX_DATA`] bytes for names that follow the rules).
    pub(crate) fn encode(&self) -> String {
        let rest = match self {
            Self::Home(page) => format!("h:{page}"),
            Self::Plugin(plugin, page) => format!("p:{plugin}:{page}"),
            Self::Start(Kind::View, plugin, i) => format!("v:{plugin}:{i}"),
            Self::Start(Kind::Action, plugin, i) => format!("a:{plugin}:{i}"),
            Self::Choice(nonce, i) => format!("c:{nonce}:{i}"),
            Self::Skip(nonce) => format!("s:{nonce}"),
            Self::Yes(nonce) => format!("y:{nonce}"),
            Self::No(nonce) => format!("n:{nonce}"),
            Self::More(nonce) => format!("x:{nonce}"),
        };
        format!("{PREFIX}{rest}")
    }

    /// Read callback data; `None` for anything that is not a menu button (or is malformed).
    pub(crate) fn decode(data: &str) -> Option<Self> {
        if data.len() > MAX_DATA {
            return None;
        }
        let rest = data.strip_prefix(PREFIX)?;
        let (op, args) = rest.split_once(':')?;
        let num = |s: &str| s.parse::<usize>().ok().filter(|n| *n < 10_000);
        let pair = || {
            let (a, b) = args.rsplit_once(':')?;
            Some((a.to_owned(), num(b)?)).filter(|(a, _)| !a.is_empty())
        };
        let word = || Some(args.to_owned()).filter(|a| !a.is_empty() && !a.contains(':'));
        Some(match op {
            "h" => Self::Home(num(args)?),
            "p" => pair().map(|(p, n)| Self::Plugin(p, n))?,
            "v" => pair().map(|(p, n)| Self::Start(Kind::View, p, n))?,
            "a" => pair().map(|(p, n)| Self::Start(Kind::Action, p, n))?,
            "c" => pair().map(|(c, n)| Self::Choice(c, n))?,
            "s" => Self::Skip(word()?),
            "y" => Self::Yes(word()?),
            "n" => Self::No(word()?),
            "x" => Self::More(word()?),
            _ => return None,
        })
    }
}

/// Whether `data` is meant for the menu (then no plugin sees the press).
pub(crate) fn is_menu(data: &str) -> bool {
    data.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_press_round_trips_within_64_bytes() {
        let longest = "p".repeat(32);
        let nonce = "0123456789abcdef".to_owned();
        let presses = [
            Press::Home(9999),
            Press::Plugin(longest.clone(), 9999),
            Press::Start(Kind::View, longest.clone(), 63),
            Press::Start(Kind::Action, longest, 63),
            Press::Choice(nonce.clone(), 49),
            Press::Skip(nonce.clone()),
            Press::Yes(nonce.clone()),
            Press::No(nonce.clone()),
            Press::More(nonce),
        ];
        for p in presses {
            let data = p.encode();
            assert!(data.len() <= MAX_DATA, "{data}");
            assert!(is_menu(&data));
            assert_eq!(Press::decode(&data), Some(p), "{data}");
        }
    }

    #[test]
    fn foreign_and_malformed_data_is_not_a_press() {
        for data in [
            "wharf:run:start",
            "shop:p:x:1",
            "wharf:m:",
            "wharf:m:h:",
            "wharf:m:h:-1",
            "wharf:m:h:99999",
            "wharf:m:p:shop",
            "wharf:m:p::1",
            "wharf:m:v:shop:x",
            "wharf:m:y:",
            "wharf:m:y:a:b",
            "wharf:m:q:abc",
        ] {
            assert_eq!(Press::decode(data), None, "{data}");
        }
        let long = format!("wharf:m:y:{}", "a".repeat(60));
        assert_eq!(Press::decode(&long), None);
    }
}
