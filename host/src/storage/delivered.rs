//! Recording deliveries in batches: the sender's workers report each delivered outbox
//! row here and wait for the answer; one task writes every report that is waiting in
//! one transaction (remove the rows, remember the messages sent with a handle), so many
//! chats' deliveries cost one write instead of one each.

use std::sync::Weak;

use tokio::sync::{mpsc, oneshot};

use super::script::{Script, Tx, Val};
use super::{Inner, SentMessage, StorageError};

/// Reports written per transaction at most.
const BATCH: usize = 256;

/// One delivered row, and who waits for it to be recorded.
pub(super) struct Delivered {
    pub id: i64,
    pub sent: Option<SentMessage>,
    pub now_ms: i64,
    pub reply: oneshot::Sender<Result<(), StorageError>>,
}

/// The statements recording `batch`.
fn script(batch: &[Delivered]) -> Script {
    let mut script = Script::default();
    let sent: Vec<(&SentMessage, i64)> = batch.iter().filter_map(|d| Some((d.sent.as_ref()?, d.now_ms))).collect();
    for chunk in sent.chunks(100) {
        let sql = format!(
            "INSERT INTO sent_messages (handle, plugin, chat_id, message_id, at_ms) VALUES {} \
             ON CONFLICT (handle) DO NOTHING",
            super::bulk::tuples(chunk.len(), 5, 1)
        );
        let args = chunk
            .iter()
            .flat_map(|(s, at)| {
                [
                    Val::Int(s.handle),
                    Val::Text(s.plugin.clone()),
                    Val::Int(s.chat_id),
                    Val::Int(i64::from(s.message_id)),
                    Val::Int(*at),
                ]
            })
            .collect();
        script.push(sql, args);
    }
    for chunk in batch.chunks(200) {
        let sql = format!("DELETE FROM outbox WHERE id IN ({})", super::bulk::id_list(chunk.len()));
        script.push(sql, chunk.iter().map(|d| Val::Int(d.id)).collect());
    }
    script
}

pub(super) async fn run(inner: Weak<Inner>, mut rx: mpsc::Receiver<Delivered>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let Some(inner) = inner.upgrade() else { return };
        let script = script(&batch);
        let result = {
            let mut conn = inner.writer.lock().await;
            script.run(&mut conn, inner.backend, Tx::Whole).await
        };
        let msg = result.err().map(|e| e.to_string());
        for d in batch.drain(..) {
            let answer = match &msg {
                None => Ok(()),
                Some(m) => Err(StorageError::Db(sqlx::Error::Protocol(m.clone()))),
            };
            let _ = d.reply.send(answer);
        }
    }
}
