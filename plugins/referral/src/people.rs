//! Users as the plugin knows them: profiles, codes, names as shown (masked or not), and
//! achievements unlocked once.

use wharf_sdk::escape::html;
use wharf_sdk::{Error, User, kv};

use crate::code;
use crate::model::{self, Profile, Summary};
use crate::settings::Settings;
use crate::tiers::{self, Achievement};

/// The profile of `user` (empty when the plugin never kept one).
pub fn load(user: i64) -> Result<Profile, Error> {
    Ok(kv::get(&model::profile_key(user))?.unwrap_or_default())
}

/// Whether the plugin keeps a profile of `user`.
pub fn known(user: i64) -> Result<bool, Error> {
    kv::exists(&model::profile_key(user))
}

/// Store `p` as the profile of `user`, and the `@username` index with it.
pub fn save(user: i64, p: &Profile) -> Result<(), Error> {
    kv::set(&model::profile_key(user), p)?;
    if let Some(name) = &p.username {
        let key = model::username_key(name);
        if kv::get::<i64>(&key)? != Some(user) {
            kv::set(&key, &user)?;
        }
    }
    Ok(())
}

/// The profile of `who`, with their name and username as Telegram shows them now
/// (stored when they changed or the profile is new).
pub fn touch(who: &User) -> Result<Profile, Error> {
    let before: Option<Profile> = kv::get(&model::profile_key(who.id))?;
    let mut p = before.clone().unwrap_or_default();
    p.name.clone_from(&who.first_name);
    p.username.clone_from(&who.username);
    if before.as_ref() != Some(&p) {
        save(who.id, &p)?;
    }
    Ok(p)
}

/// The user's code, giving them the next one if they have none (the profile is saved).
pub fn ensure_code(user: i64, p: &mut Profile) -> Result<String, Error> {
    if let Some(c) = &p.code {
        return Ok(c.clone());
    }
    let n = kv::increment(model::CODE_COUNTER, 1)?;
    let n = u32::try_from(n).map_err(|_| Error::Other("no referral codes are left".into()))?;
    let c = code::encode(n);
    kv::set(&model::code_key(&c), &user)?;
    p.code = Some(c.clone());
    save(user, p)?;
    Ok(c)
}

/// The owner of `code`.
pub fn by_code(code: &str) -> Result<Option<i64>, Error> {
    kv::get(&model::code_key(code))
}

/// How a user is named to others in messages: their first name (escaped), or
/// "user ID" when the plugin has no name.
pub fn name(p: &Profile, id: i64) -> String {
    if p.name.trim().is_empty() { format!("user {id}") } else { html(p.name.trim()) }
}

/// How a user appears on the leaderboard: `@username` (or the first name) when they
/// allow it (their own choice, else the `show_usernames` setting), masked otherwise:
/// the first two characters and `•••`.
pub fn shown(p: &Profile, id: i64, s: &Settings) -> String {
    let full = match &p.username {
        Some(u) => format!("@{u}"),
        None if !p.name.trim().is_empty() => p.name.trim().to_owned(),
        None => format!("user {id}"),
    };
    if p.show_name.unwrap_or(s.show_usernames) {
        return html(&full);
    }
    let bare = full.trim_start_matches('@');
    let head: String = bare.chars().take(if bare.chars().count() > 3 { 2 } else { 1 }).collect();
    format!("{}•••", html(&head))
}

/// Unlock every achievement `sum` has earned that `p` lacks; returns the new ones (the
/// caller saves the profile and tells the user).
pub fn unlock(p: &mut Profile, s: &Settings, sum: &Summary, now_ms: i64) -> Vec<Achievement> {
    let new: Vec<Achievement> =
        tiers::due(s, sum).into_iter().filter(|a| !p.achievements.contains_key(&a.id)).collect();
    for a in &new {
        p.achievements.insert(a.id.clone(), now_ms);
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str, username: Option<&str>) -> Profile {
        Profile { name: name.into(), username: username.map(Into::into), ..Profile::default() }
    }

    #[test]
    fn names_are_masked_unless_allowed() {
        let s = Settings::default();
        assert_eq!(shown(&profile("Alice", Some("alice_w")), 5, &s), "al•••");
        assert_eq!(shown(&profile("Bob", None), 6, &s), "B•••");
        assert_eq!(shown(&profile("", None), 7, &s), "us•••");
        let open = Settings { show_usernames: true, ..Settings::default() };
        assert_eq!(shown(&profile("Alice", Some("alice_w")), 5, &open), "@alice_w");
        assert_eq!(shown(&profile("<b>Eve</b>", None), 8, &open), "&lt;b&gt;Eve&lt;/b&gt;");
        let mut hidden = profile("Alice", Some("alice_w"));
        hidden.show_name = Some(false);
        assert_eq!(shown(&hidden, 5, &open), "al•••", "the user's own choice wins");
        hidden.show_name = Some(true);
        assert_eq!(shown(&hidden, 5, &s), "@alice_w");
        assert_eq!(name(&profile("<i>x", None), 3), "&lt;i&gt;x");
        assert_eq!(name(&profile(" ", None), 3), "user 3");
    }

    #[test]
    fn achievements_unlock_once() {
        let s = Settings::default();
        let mut p = Profile::default();
        let sum = Summary { referees: 1, earned: 300, commissions: 1 };
        let first = unlock(&mut p, &s, &sum, 5);
        assert_eq!(first.len(), 2);
        assert!(unlock(&mut p, &s, &sum, 6).is_empty(), "nothing twice");
        let silver = unlock(&mut p, &s, &Summary { earned: 10_000, ..sum }, 7);
        assert_eq!(silver.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["tier:Silver"]);
        assert_eq!(p.achievements["first_referral"], 5);
    }
}
