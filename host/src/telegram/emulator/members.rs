//! Chats and their members in the emulator: channels and groups with a title, a
//! username and an invite link (`getChat`, by id or `@username`), each user's status in
//! each chat with Telegram's `is_member` flag (`getChatMember`), member lists the bot
//! cannot see (it is not an administrator there: `member list is inaccessible`), and
//! `chat_member` updates when a status changes, delivered only to a bot that asked for
//! them in `allowed_updates`, as Telegram does.

use std::sync::Arc;

use axum::extract::State;
use serde_json::{Map, Value, json};

use super::api::{Reply, bad};
use super::state::{BOT_ID, World};
use super::{Emulator, Shared};

type Params = Map<String, Value>;

/// A user's membership in a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Membership {
    /// `creator`, `administrator`, `member`, `restricted`, `left` or `kicked`.
    pub status: String,
    /// Telegram's `is_member` (meaningful for `restricted`).
    pub is_member: bool,
}

impl Membership {
    /// `status` with the `is_member` it implies (a restricted user is not in the chat
    /// unless said otherwise).
    pub fn of(status: &str) -> Self {
        Self { status: status.to_owned(), is_member: matches!(status, "creator" | "administrator" | "member") }
    }
}

/// A group or channel the emulator knows by more than its id.
#[derive(Clone, Debug, Default)]
pub(super) struct ChatRecord {
    /// `channel`, `supergroup` or `group`.
    pub kind: String,
    pub title: String,
    /// Without the `@`.
    pub username: Option<String>,
    pub invite_link: Option<String>,
}

impl World {
    /// The chat as updates show it: a known group or channel as recorded, otherwise a
    /// group (negative ids) or a private chat.
    pub(super) fn chat_value(&self, id: i64) -> Value {
        let Some(c) = self.chats.get(&id) else { return Self::chat_json(id) };
        let mut v = json!({ "id": id, "type": c.kind, "title": c.title });
        if let Some(u) = &c.username {
            v["username"] = json!(u);
        }
        v
    }

    /// A chat named by `chat_id` as the bot gave it: a number, or `@username` of a
    /// known chat.
    fn resolve(&self, p: &Params) -> Option<i64> {
        match p.get("chat_id")? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => match s.strip_prefix('@') {
                Some(name) => self
                    .chats
                    .iter()
                    .find(|(_, c)| c.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(name)))
                    .map(|(id, _)| *id),
                None => s.parse().ok(),
            },
            _ => None,
        }
    }

    /// Whether the bot asked for updates of `kind` (`message`, `chat_member`, …): with
    /// no list (or an empty one) every kind but `chat_member` and reactions, as Telegram.
    pub(super) fn allows(&self, update: &Value) -> bool {
        let kind = update.as_object().and_then(|o| o.keys().find(|k| *k != "update_id").cloned()).unwrap_or_default();
        match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.contains(&kind),
            _ => !matches!(kind.as_str(), "chat_member" | "message_reaction" | "message_reaction_count"),
        }
    }

    /// Remember `allowed_updates` if the request gives it (Telegram keeps the last one).
    pub(super) fn note_allowed(&mut self, p: &Params) {
        let list = match p.get("allowed_updates") {
            Some(Value::String(s)) => serde_json::from_str::<Vec<String>>(s).ok(),
            Some(v @ Value::Array(_)) => serde_json::from_value::<Vec<String>>(v.clone()).ok(),
            _ => None,
        };
        if let Some(list) = list {
            self.allowed_updates = Some(list);
        }
    }
}

/// `getChatMember`: the status set with [`Emulator::set_member`] (a user is `member` of
/// their own private chat and `left` anywhere else by default), or 400 `member list is
/// inaccessible` in a chat whose members the bot cannot see.
pub(super) fn get_chat_member(shared: &Shared, p: &Params) -> Reply {
    let w = shared.world();
    let Some(chat) = w.resolve(p) else { return bad("chat not found") };
    let user = super::api::int(p, "user_id").unwrap_or(0);
    if user == 0 {
        return bad("user not found");
    }
    if w.hidden.contains(&chat) && user != BOT_ID {
        return bad("member list is inaccessible");
    }
    let default = Membership::of(if chat == user { "member" } else { "left" });
    let m = w.members.get(&(chat, user)).cloned().unwrap_or(default);
    Reply::Ok(member_json(user, &m))
}

/// `getChat`: a recorded chat with its title, username and invite link; an unknown
/// username is `chat not found`; an unknown id is a private chat or a group.
pub(super) fn get_chat(shared: &Shared, p: &Params) -> Reply {
    let w = shared.world();
    let Some(id) = w.resolve(p) else { return bad("chat not found") };
    let mut v = w.chat_value(id);
    if let Some(link) = w.chats.get(&id).and_then(|c| c.invite_link.clone()) {
        v["invite_link"] = json!(link);
    }
    v["max_reaction_count"] = json!(11);
    v["accepted_gift_types"] =
        json!({"unlimited_gifts": false, "limited_gifts": false, "unique_gifts": false, "premium_subscription": false});
    Reply::Ok(v)
}

/// A `ChatMember` in Telegram's shape.
pub(super) fn member_json(user: i64, m: &Membership) -> Value {
    let user_json = if user == BOT_ID { World::bot_json() } else { World::user_json(user) };
    let mut v = json!({ "user": user_json, "status": m.status });
    let flags: &[&str] = match m.status.as_str() {
        "creator" => &["is_anonymous"],
        "administrator" => &[
            "is_anonymous",
            "can_be_edited",
            "can_manage_chat",
            "can_change_info",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_invite_users",
            "can_restrict_members",
            "can_promote_members",
        ],
        "restricted" => &[
            "can_send_messages",
            "can_send_audios",
            "can_send_documents",
            "can_send_photos",
            "can_send_videos",
            "can_send_video_notes",
            "can_send_voice_notes",
            "can_send_polls",
            "can_send_other_messages",
            "can_add_web_page_previews",
            "can_change_info",
            "can_invite_users",
            "can_pin_messages",
            "can_manage_topics",
        ],
        _ => &[],
    };
    for f in flags {
        v[*f] = json!(false);
    }
    match m.status.as_str() {
        "administrator" => v["can_manage_chat"] = json!(true),
        "restricted" => v["is_member"] = json!(m.is_member),
        _ => {}
    }
    if matches!(m.status.as_str(), "kicked" | "restricted") {
        v["until_date"] = json!(0);
    }
    v
}

impl Shared {
    /// Set `user`'s membership in `chat` and queue the `chat_member` update saying so.
    fn member_changed(&self, chat: i64, user: i64, m: Membership) -> i64 {
        let (old, chat_json) = {
            let mut w = self.world();
            let old = w.members.insert((chat, user), m.clone()).unwrap_or_else(|| Membership::of("left"));
            (old, w.chat_value(chat))
        };
        self.push(json!({ "chat_member": {
            "chat": chat_json,
            "from": World::user_json(user),
            "date": 1_700_000_000,
            "old_chat_member": member_json(user, &old),
            "new_chat_member": member_json(user, &m),
        }}))
    }
}

impl Emulator {
    /// Set `user`'s membership status in `chat` (`creator`, `administrator`, `member`,
    /// `restricted` (not in the chat), `left`, `kicked`), silently.
    pub fn set_member(&self, chat: i64, user: i64, status: &str) {
        self.shared.world().members.insert((chat, user), Membership::of(status));
    }

    /// Make `user` a restricted member of `chat`, in the chat or not (`is_member`).
    pub fn set_restricted(&self, chat: i64, user: i64, is_member: bool) {
        let m = Membership { status: "restricted".into(), is_member };
        self.shared.world().members.insert((chat, user), m);
    }

    /// `user`'s status in `chat` changes (they join, leave, are banned…): set it and
    /// queue a `chat_member` update (delivered if the bot asked for `chat_member`
    /// updates). `is_member` matters for `restricted` only. Returns the update id.
    pub fn member_changed(&self, chat: i64, user: i64, status: &str, is_member: bool) -> i64 {
        let mut m = Membership::of(status);
        if status == "restricted" {
            m.is_member = is_member;
        }
        self.shared.member_changed(chat, user, m)
    }

    /// Record a channel (`-100…` ids), with its public username (without `@`), title
    /// and primary invite link, for `getChat` and updates.
    pub fn add_channel(&self, id: i64, username: Option<&str>, title: &str, invite_link: Option<&str>) {
        let record = ChatRecord {
            kind: "channel".into(),
            title: title.to_owned(),
            username: username.map(str::to_owned),
            invite_link: invite_link.map(str::to_owned),
        };
        self.shared.world().chats.insert(id, record);
    }

    /// Make the members of `chat` invisible to the bot (`true`: it is not an
    /// administrator there, so `getChatMember` answers 400 `member list is
    /// inaccessible`) or visible again.
    pub fn hide_members(&self, chat: i64, hidden: bool) {
        let mut w = self.shared.world();
        if hidden {
            w.hidden.insert(chat);
        } else {
            w.hidden.remove(&chat);
        }
    }

    /// The update kinds the bot last asked for (`allowed_updates`), if it did.
    pub fn allowed_updates(&self) -> Option<Vec<String>> {
        self.shared.world().allowed_updates.clone()
    }
}

#[derive(serde::Deserialize)]
pub(super) struct MemberReq {
    chat_id: i64,
    user_id: i64,
    status: String,
    #[serde(default)]
    is_member: bool,
}

/// `POST /control/member`: a member's status changes (see [`Emulator::member_changed`]).
pub(super) async fn control_member(
    State(s): State<Arc<Shared>>,
    axum::Json(m): axum::Json<MemberReq>,
) -> axum::Json<Value> {
    let mut membership = Membership::of(&m.status);
    if m.status == "restricted" {
        membership.is_member = m.is_member;
    }
    axum::Json(json!({ "update_id": s.member_changed(m.chat_id, m.user_id, membership) }))
}
