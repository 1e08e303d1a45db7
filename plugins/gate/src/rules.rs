//! The gate's rules as pure functions: which statuses count as subscribed, how long a
//! cached answer is trusted, and what the answers of several channels add up to.

use serde::{Deserialize, Serialize};
use wharf_sdk::telegram::MemberStatus;

use crate::settings::{Fail, Gate, Require};

/// Creator, administrator and member pass; a restricted user passes only while in the
/// chat (`is_member`); left and kicked do not.
pub fn passes(status: MemberStatus, is_member: bool) -> bool {
    match status {
        MemberStatus::Creator | MemberStatus::Administrator | MemberStatus::Member => true,
        MemberStatus::Restricted => is_member,
        MemberStatus::Left | MemberStatus::Kicked => false,
    }
}

/// A status as Telegram spells it.
pub fn status_name(status: MemberStatus) -> &'static str {
    match status {
        MemberStatus::Creator => "creator",
        MemberStatus::Administrator => "administrator",
        MemberStatus::Member => "member",
        MemberStatus::Restricted => "restricted",
        MemberStatus::Left => "left",
        MemberStatus::Kicked => "kicked",
    }
}

/// One channel's answer about one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Subscribed.
    In,
    /// Not subscribed.
    Out,
    /// The lookup failed.
    Failed,
    /// Not looked up: the answer could not change the verdict (`require = "any"` and
    /// another channel passed).
    Skipped,
}

/// A lookup's result kept in KV (`m:USER:CHAT`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    /// Whether the user passed.
    pub ok: bool,
    /// The status Telegram reported.
    pub status: String,
    /// When it was looked up (host clock, ms).
    pub at_ms: i64,
}

impl Cached {
    /// Still trusted at `now_ms`: a pass for `cache_minutes`, a refusal for
    /// `negative_cache_seconds` (a clock moved back trusts nothing).
    pub fn fresh(&self, now_ms: i64, gate: &Gate) -> bool {
        let ttl = if self.ok { gate.cache_ms } else { gate.negative_ms };
        now_ms >= self.at_ms && now_ms - self.at_ms < ttl
    }
}

/// What the answers of all channels add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let the user through.
    Pass,
    /// Not subscribed: show the channels.
    Refuse,
    /// Telegram could not say (a lookup failed and the others do not decide).
    Unknown,
}

/// `all`: any channel missing refuses, else a failed lookup leaves it unknown; `any`:
/// any channel passing passes, else a failed lookup leaves it unknown.
pub fn verdict(require: Require, answers: &[Answer]) -> Verdict {
    let has = |a: Answer| answers.contains(&a);
    match require {
        Require::All if has(Answer::Out) => Verdict::Refuse,
        Require::Any if has(Answer::In) => Verdict::Pass,
        _ if has(Answer::Failed) => Verdict::Unknown,
        Require::All => Verdict::Pass,
        Require::Any => Verdict::Refuse,
    }
}

/// What the gate does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The user goes on to the other plugins.
    Let,
    /// The user is shown the channels to join.
    Prompt,
    /// The user is told the check is not possible right now (`fail = "closed"`).
    CannotCheck,
}

/// The verdict under the `fail` setting.
pub fn action(verdict: Verdict, fail: Fail) -> Action {
    match (verdict, fail) {
        (Verdict::Pass, _) | (Verdict::Unknown, Fail::Open) => Action::Let,
        (Verdict::Refuse, _) => Action::Prompt,
        (Verdict::Unknown, Fail::Closed) => Action::CannotCheck,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Answer::{Failed, In, Out, Skipped};

    #[test]
    fn who_passes() {
        for s in [MemberStatus::Creator, MemberStatus::Administrator, MemberStatus::Member] {
            assert!(passes(s, true), "{s:?}");
        }
        assert!(passes(MemberStatus::Restricted, true));
        assert!(!passes(MemberStatus::Restricted, false));
        assert!(!passes(MemberStatus::Left, false));
        assert!(!passes(MemberStatus::Kicked, false));
    }

    #[test]
    fn all_needs_every_channel_any_needs_one() {
        assert_eq!(verdict(Require::All, &[In, In]), Verdict::Pass);
        assert_eq!(verdict(Require::All, &[In, Out]), Verdict::Refuse);
        assert_eq!(verdict(Require::All, &[Failed, Out]), Verdict::Refuse, "a known miss decides");
        assert_eq!(verdict(Require::All, &[In, Failed]), Verdict::Unknown);
        assert_eq!(verdict(Require::Any, &[Out, In]), Verdict::Pass);
        assert_eq!(verdict(Require::Any, &[In, Skipped]), Verdict::Pass);
        assert_eq!(verdict(Require::Any, &[Failed, In]), Verdict::Pass, "a known pass decides");
        assert_eq!(verdict(Require::Any, &[Out, Failed]), Verdict::Unknown);
        assert_eq!(verdict(Require::Any, &[Out, Out]), Verdict::Refuse);
    }

    #[test]
    fn a_failed_lookup_follows_fail() {
        assert_eq!(action(Verdict::Unknown, Fail::Open), Action::Let);
        assert_eq!(action(Verdict::Unknown, Fail::Closed), Action::CannotCheck);
        assert_eq!(action(Verdict::Refuse, Fail::Open), Action::Prompt);
        assert_eq!(action(Verdict::Pass, Fail::Closed), Action::Let);
    }

    #[test]
    fn passes_are_trusted_longer_than_refusals() {
        let gate = crate::settings::Settings {
            channels: vec!["@news_x".into()],
            require: Require::All,
            cache_minutes: 10,
            negative_cache_seconds: 60,
            fail: Fail::Open,
            exempt_commands: Vec::new(),
            message: None,
        }
        .check()
        .unwrap();
        let pass = Cached { ok: true, status: "member".into(), at_ms: 1_000 };
        let miss = Cached { ok: false, status: "left".into(), at_ms: 1_000 };
        assert!(pass.fresh(1_000 + 599_999, &gate) && !pass.fresh(1_000 + 600_000, &gate));
        assert!(miss.fresh(1_000 + 59_999, &gate) && !miss.fresh(1_000 + 60_000, &gate));
        assert!(!pass.fresh(999, &gate), "a clock moved back trusts nothing");
    }
}
