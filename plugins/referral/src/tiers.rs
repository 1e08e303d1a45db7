//! Tiers and achievements, as pure functions of a referrer's totals: the tier is the
//! highest whose threshold the earnings reached; achievements are due at fixed marks
//! (first referral, 10 and 100 referrals, first commission, each tier above the first)
//! and unlocked once each (the profile remembers them).

use crate::model::Summary;
use crate::settings::{Settings, Tier};

/// Where a referrer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing<'a> {
    /// Index of the current tier in the settings.
    pub index: usize,
    /// The current tier.
    pub tier: &'a Tier,
    /// The next one, if any.
    pub next: Option<&'a Tier>,
    /// Percent of the way from this tier's threshold to the next's (0-99; 100 at the top).
    pub percent: u8,
}

/// The standing for total earnings `earned`.
pub fn standing(s: &Settings, earned: i64) -> Standing<'_> {
    let index = s.tiers.iter().rposition(|t| t.threshold <= earned).unwrap_or(0);
    let tier = &s.tiers[index];
    let next = s.tiers.get(index + 1);
    let percent = match next {
        None => 100,
        Some(n) => {
            let span = i128::from(n.threshold) - i128::from(tier.threshold);
            let done = (i128::from(earned) - i128::from(tier.threshold)).clamp(0, span);
            u8::try_from(done * 100 / span.max(1)).unwrap_or(99).min(99)
        }
    };
    Standing { index, tier, next, percent }
}

/// A ten-cell bar for `percent`: `▓▓▓░░░░░░░`.
pub fn bar(percent: u8) -> String {
    let full = usize::from(percent.min(100) / 10);
    format!("{}{}", "▓".repeat(full), "░".repeat(10 - full))
}

/// The emoji of tier `index`.
pub fn tier_emoji(index: usize) -> &'static str {
    ["🥉", "🥈", "🥇", "🏅", "💎"].get(index).copied().unwrap_or("🏆")
}

/// An achievement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Achievement {
    /// Stable id, kept in the profile: `first_referral`, `tier:Silver`…
    pub id: String,
    /// Shown before the title.
    pub emoji: &'static str,
    /// What people read.
    pub title: String,
    /// The tier it marks, if it is a tier's.
    pub tier: Option<usize>,
}

impl Achievement {
    fn fixed(id: &str, emoji: &'static str, title: &str) -> Self {
        Self { id: id.into(), emoji, title: title.into(), tier: None }
    }

    /// `🤝 First referral`.
    pub fn badge(&self) -> String {
        format!("{} {}", self.emoji, self.title)
    }
}

/// Every achievement the totals `sum` have earned under `s`, in the order they are
/// reached (referral counts, the first commission, tiers upwards).
pub fn due(s: &Settings, sum: &Summary) -> Vec<Achievement> {
    let mut out = Vec::new();
    for (n, id, emoji, title) in [
        (1, "first_referral", "🤝", "First referral"),
        (10, "referrals_10", "👥", "10 referrals"),
        (100, "referrals_100", "🏟", "100 referrals"),
    ] {
        if sum.referees >= n {
            out.push(Achievement::fixed(id, emoji, title));
        }
    }
    if sum.commissions >= 1 {
        out.push(Achievement::fixed("first_commission", "💸", "First commission"));
    }
    let reached = standing(s, sum.earned).index;
    for (i, t) in s.tiers.iter().enumerate().take(reached + 1).skip(1) {
        out.push(Achievement {
            id: format!("tier:{}", t.name),
            emoji: tier_emoji(i),
            title: format!("{} tier", t.name),
            tier: Some(i),
        });
    }
    out
}

/// Every achievement there is under `s`, in order.
fn all(s: &Settings) -> Vec<Achievement> {
    due(s, &Summary { referees: u64::MAX, earned: i64::MAX, commissions: u64::MAX })
}

/// Where achievement `id` comes in the order they are reached (unknown ones last).
pub fn position(s: &Settings, id: &str) -> usize {
    all(s).iter().position(|a| a.id == id).unwrap_or(usize::MAX)
}

/// The achievement with `id` under `s`, for showing a stored one (a tier renamed since
/// shows its old name).
pub fn describe(s: &Settings, id: &str) -> Achievement {
    all(s).into_iter().find(|a| a.id == id).unwrap_or_else(|| Achievement {
        id: id.into(),
        emoji: "🏅",
        title: id.strip_prefix("tier:").map_or_else(|| id.to_owned(), |t| format!("{t} tier")),
        tier: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[Achievement]) -> Vec<&str> {
        v.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn the_tier_and_progress_follow_the_thresholds() {
        let s = Settings::default();
        let at = |earned| {
            let st = standing(&s, earned);
            (st.tier.name.clone(), st.next.map(|t| t.name.clone()), st.percent)
        };
        assert_eq!(at(0), ("Bronze".into(), Some("Silver".into()), 0));
        assert_eq!(at(9_999), ("Bronze".into(), Some("Silver".into()), 99));
        assert_eq!(at(10_000), ("Silver".into(), Some("Gold".into()), 0), "a threshold belongs to the tier it starts");
        assert_eq!(at(30_000), ("Silver".into(), Some("Gold".into()), 50));
        assert_eq!(at(500_000), ("Diamond".into(), None, 100));
        assert_eq!(bar(0), "░░░░░░░░░░");
        assert_eq!(bar(57), "▓▓▓▓▓░░░░░");
        assert_eq!(bar(100), "▓▓▓▓▓▓▓▓▓▓");
    }

    #[test]
    fn achievements_come_at_their_marks() {
        let s = Settings::default();
        assert!(due(&s, &Summary::default()).is_empty());
        let one = Summary { referees: 1, earned: 0, commissions: 0 };
        assert_eq!(ids(&due(&s, &one)), ["first_referral"]);
        let more = Summary { referees: 10, earned: 60_000, commissions: 3 };
        assert_eq!(
            ids(&due(&s, &more)),
            ["first_referral", "referrals_10", "first_commission", "tier:Silver", "tier:Gold"]
        );
        assert_eq!(describe(&s, "tier:Gold").badge(), "🥇 Gold tier");
        assert!(position(&s, "first_referral") < position(&s, "first_commission"));
        assert_eq!(position(&s, "tier:Mithril"), usize::MAX);
        assert_eq!(describe(&s, "tier:Mithril").badge(), "🏅 Mithril tier", "a tier no longer configured");
    }
}
