//! `[plugins.referral.settings]`, checked when the plugin loads: the commission rate, the
//! tiers, who earns and how much.

use serde::Deserialize;
use wharf_sdk::settings;

/// Commission rates are kept in hundredths of a percent (basis points): `percent = 2.5`
/// is 250.
pub const FULL: u32 = 10_000;

/// One tier: a name and the total earnings (minor units) from which it holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Shown to people, e.g. `Silver`.
    pub name: String,
    /// Total earnings at which it starts, in minor units (the first tier's is 0).
    pub threshold: i64,
}

/// The settings as written in `config.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    percent: Option<f64>,
    tiers: Option<Vec<Tier>>,
    min_referrer_deposit: Option<i64>,
    cap_per_referee: Option<i64>,
    show_usernames: Option<bool>,
}

/// The checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The commission in basis points of each deposit (`percent = 3` is 300).
    pub rate_bp: u32,
    /// Tiers by threshold, ascending; the first starts at 0.
    pub tiers: Vec<Tier>,
    /// A referrer earns only once their own deposits reach this (minor units; 0: always).
    pub min_referrer_deposit: i64,
    /// At most this much commission per referee, in total (minor units).
    pub cap_per_referee: Option<i64>,
    /// Whether `/top` shows names of users who did not choose (masked otherwise).
    pub show_usernames: bool,
}

/// The default tiers, for a currency with 2 decimals (PLN): Bronze from 0, Silver from
/// 100, Gold from 500, Platinum from 1,000, Diamond from 5,000.
pub fn default_tiers() -> Vec<Tier> {
    [("Bronze", 0), ("Silver", 10_000), ("Gold", 50_000), ("Platinum", 100_000), ("Diamond", 500_000)]
        .into_iter()
        .map(|(name, threshold)| Tier { name: name.into(), threshold })
        .collect()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rate_bp: 300,
            tiers: default_tiers(),
            min_referrer_deposit: 0,
            cap_per_referee: None,
            show_usernames: false,
        }
    }
}

/// Most tiers.
const MAX_TIERS: usize = 20;

impl Settings {
    /// Read and check the settings; the error names the setting (`setting `tiers`: …`)
    /// so the host points at its line.
    pub fn load() -> Result<Self, String> {
        let raw: Raw = settings::all().map_err(|e| wharf_sdk::text::plain(&e))?;
        Self::check(raw)
    }

    /// The settings from a JSON object (tests).
    pub fn from_json(value: serde_json::Value) -> Result<Self, String> {
        let raw: Raw = serde_json::from_value(value).map_err(|e| format!("settings: {e}"))?;
        Self::check(raw)
    }

    fn check(raw: Raw) -> Result<Self, String> {
        let d = Self::default();
        let rate_bp = match raw.percent {
            None => d.rate_bp,
            Some(p) => rate(p)?,
        };
        let tiers = raw.tiers.unwrap_or(d.tiers);
        check_tiers(&tiers)?;
        let min_referrer_deposit = raw.min_referrer_deposit.unwrap_or(0);
        if min_referrer_deposit < 0 {
            return Err(format!("setting `min_referrer_deposit`: {min_referrer_deposit} is negative"));
        }
        if let Some(cap) = raw.cap_per_referee.filter(|c| *c <= 0) {
            return Err(format!("setting `cap_per_referee`: {cap} is not a positive amount in minor units"));
        }
        Ok(Self {
            rate_bp,
            tiers,
            min_referrer_deposit,
            cap_per_referee: raw.cap_per_referee,
            show_usernames: raw.show_usernames.unwrap_or(false),
        })
    }

    /// `floor(amount × percent / 100)`, before any cap: the referrer gets whole minor
    /// units, the fraction stays with nobody.
    pub fn commission(&self, deposit: i64) -> i64 {
        let c = i128::from(deposit.max(0)) * i128::from(self.rate_bp) / i128::from(FULL);
        i64::try_from(c).unwrap_or(i64::MAX)
    }

    /// The rate as people read it: `3%`, `2.5%`.
    pub fn percent_text(&self) -> String {
        let (whole, frac) = (self.rate_bp / 100, self.rate_bp % 100);
        match frac {
            0 => format!("{whole}%"),
            f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
            f => format!("{whole}.{f:02}%"),
        }
    }
}

/// `percent` (0-100, at most two decimals) in basis points. The one floating-point value
/// the plugin reads is turned into an integer here, refusing what would need rounding.
fn rate(p: f64) -> Result<u32, String> {
    if !(0.0..=100.0).contains(&p) {
        return Err(format!("setting `percent`: {p} is not between 0 and 100"));
    }
    let bp = (p * 100.0).round();
    if (p * 100.0 - bp).abs() > 1e-6 {
        return Err(format!("setting `percent`: {p} has more than two decimals"));
    }
    // In 0..=10000 after the range check.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bp as u32)
}

fn check_tiers(tiers: &[Tier]) -> Result<(), String> {
    let bad = |m: String| Err(format!("setting `tiers`: {m}"));
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        return bad(format!("give 1-{MAX_TIERS} tiers, got {}", tiers.len()));
    }
    if tiers[0].threshold != 0 {
        return bad(format!("the first tier ({}) must start at 0, so that everyone has one", tiers[0].name));
    }
    for (i, t) in tiers.iter().enumerate() {
        let name = t.name.trim();
        if name.is_empty() || name.chars().count() > 32 || name.chars().any(char::is_control) {
            return bad(format!("tier {} needs a name of 1-32 characters", i + 1));
        }
        if tiers[..i].iter().any(|o| o.name.trim().eq_ignore_ascii_case(name)) {
            return bad(format!("two tiers are named {name:?}"));
        }
        if i > 0 && t.threshold <= tiers[i - 1].threshold {
            return bad(format!(
                "thresholds must grow: {} ({}) is not above {} ({})",
                t.name,
                t.threshold,
                tiers[i - 1].name,
                tiers[i - 1].threshold
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_three_percent_and_five_tiers() {
        let s = Settings::from_json(json!({})).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.rate_bp, 300);
        assert_eq!(s.tiers.iter().map(|t| t.threshold).collect::<Vec<_>>(), [0, 10_000, 50_000, 100_000, 500_000]);
        assert_eq!(s.percent_text(), "3%");
        assert!(!s.show_usernames);
    }

    #[test]
    fn the_commission_is_rounded_down_in_integers() {
        let s = Settings::default();
        assert_eq!(s.commission(10_000), 300, "3% of 100 PLN is exactly 3 PLN");
        assert_eq!(s.commission(3_333), 99, "99.99 grosze rounds down");
        assert_eq!(s.commission(33), 0);
        assert_eq!(s.commission(i64::MAX), i64::MAX / 10_000 * 300 + (i64::MAX % 10_000) * 300 / 10_000);
        let half = Settings::from_json(json!({"percent": 2.5})).unwrap();
        assert_eq!(half.rate_bp, 250);
        assert_eq!(half.percent_text(), "2.5%");
        assert_eq!(half.commission(1_000), 25);
        assert_eq!(Settings::from_json(json!({"percent": 0.25})).unwrap().percent_text(), "0.25%");
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let err = |v| Settings::from_json(v).unwrap_err();
        assert!(err(json!({"percent": 101})).starts_with("setting `percent`"));
        assert!(err(json!({"percent": 1.234})).contains("more than two decimals"));
        assert!(err(json!({"tiers": []})).starts_with("setting `tiers`"));
        assert!(err(json!({"tiers": [{"name": "A", "threshold": 5}]})).contains("must start at 0"));
        let grow = err(json!({"tiers": [{"name": "A", "threshold": 0}, {"name": "B", "threshold": 0}]}));
        assert!(grow.contains("thresholds must grow"), "{grow}");
        let twice = err(json!({"tiers": [{"name": "A", "threshold": 0}, {"name": "a", "threshold": 5}]}));
        assert!(twice.contains("two tiers are named"), "{twice}");
        assert!(err(json!({"min_referrer_deposit": -1})).starts_with("setting `min_referrer_deposit`"));
        assert!(err(json!({"cap_per_referee": 0})).starts_with("setting `cap_per_referee`"));
        assert!(err(json!({"percnt": 3})).contains("unknown field"));
    }
}
