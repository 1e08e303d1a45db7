//! `wharf:bot/telegram@0.1.0` over the 0.2 implementation: the record types are copied
//! field by field (they did not change), sends drop the handle, and edits and deletes by
//! message id go through the same ownership check as 0.2's `message-ref.id`.

use wasmtime::Result;

use super::super::telegram::Telegram;
use super::{v01, v02};
use v01::telegram as old;
use v02::telegram as new;

type OldResult<T> = Result<std::result::Result<T, old::Error>>;

fn outgoing(o: old::Outgoing) -> new::Outgoing {
    let button = |b: old::Button| new::Button {
        text: b.text,
        action: match b.action {
            old::ButtonAction::Callback(d) => new::ButtonAction::Callback(d),
            old::ButtonAction::Url(u) => new::ButtonAction::Url(u),
        },
    };
    new::Outgoing {
        text: o.text,
        parse_mode: match o.parse_mode {
            old::ParseMode::Plain => new::ParseMode::Plain,
            old::ParseMode::Html => new::ParseMode::Html,
            old::ParseMode::MarkdownV2 => new::ParseMode::MarkdownV2,
        },
        keyboard: o.keyboard.map(|rows| rows.into_iter().map(|r| r.into_iter().map(button).collect()).collect()),
        reply_to: o.reply_to,
    }
}

fn error(e: new::Error) -> old::Error {
    match e {
        new::Error::AccessDenied(m) => old::Error::AccessDenied(m),
        new::Error::InvalidInput(m) => old::Error::InvalidInput(m),
        new::Error::Unavailable(m) => old::Error::Unavailable(m),
        new::Error::QuotaExceeded(m) => old::Error::Other(format!("quota exceeded: {m}")),
        new::Error::Other(m) => old::Error::Other(m),
    }
}

fn done<T, U>(r: std::result::Result<T, new::Error>, f: impl FnOnce(T) -> U) -> std::result::Result<U, old::Error> {
    r.map(f).map_err(error)
}

impl old::Host for Telegram<'_> {
    async fn send_message(&mut self, chat_id: i64, message: old::Outgoing) -> OldResult<()> {
        let r = <Self as new::Host>::send_message(self, chat_id, outgoing(message)).await?;
        Ok(done(r, drop))
    }

    async fn send_photo(&mut self, chat_id: i64, photo: old::Photo, caption: old::Outgoing) -> OldResult<()> {
        let photo = match photo {
            old::Photo::FileId(id) => new::Photo::FileId(id),
            old::Photo::Url(url) => new::Photo::Url(url),
        };
        let r = <Self as new::Host>::send_photo(self, chat_id, photo, outgoing(caption)).await?;
        Ok(done(r, drop))
    }

    async fn edit_message(&mut self, chat_id: i64, message_id: i32, message: old::Outgoing) -> OldResult<()> {
        let target = new::MessageRef::Id(message_id);
        let r = <Self as new::Host>::edit_message(self, chat_id, target, outgoing(message)).await?;
        Ok(done(r, drop))
    }

    async fn delete_message(&mut self, chat_id: i64, message_id: i32) -> OldResult<()> {
        let r = <Self as new::Host>::delete_message(self, chat_id, new::MessageRef::Id(message_id)).await?;
        Ok(done(r, drop))
    }

    async fn answer_callback(&mut self, callback_id: String, text: Option<String>, show_alert: bool) -> OldResult<()> {
        let r = <Self as new::Host>::answer_callback(self, callback_id, text, show_alert).await?;
        Ok(done(r, drop))
    }

    async fn get_chat_member(&mut self, chat_id: i64, user_id: i64) -> OldResult<old::MemberStatus> {
        let r = <Self as new::Host>::get_chat_member(self, chat_id, user_id).await?;
        Ok(done(r, |s| match s {
            new::MemberStatus::Creator => old::MemberStatus::Creator,
            new::MemberStatus::Administrator => old::MemberStatus::Administrator,
            new::MemberStatus::Member => old::MemberStatus::Member,
            new::MemberStatus::Restricted => old::MemberStatus::Restricted,
            new::MemberStatus::Left => old::MemberStatus::Left,
            new::MemberStatus::Kicked => old::MemberStatus::Kicked,
        }))
    }

    async fn download_file(&mut self, file_id: String, max_bytes: u32) -> OldResult<Vec<u8>> {
        let r = <Self as new::Host>::download_file(self, file_id, max_bytes).await?;
        Ok(done(r, |b| b))
    }
}
