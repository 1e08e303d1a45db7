//! Multi-row statements for the group commit: a batch of turns costs a constant number
//! of statements, not a few per turn. Reads run at once; writes are added to the
//! batch's [`Script`], which sends them (on SQLite) in one round trip with the commit.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::commit::{NewInbox, NewOutbox};
use super::script::{Script, Val};

/// Rows per statement (well under SQLite's and PostgreSQL's parameter limits).
pub(super) const CHUNK: usize = 200;

/// `($s, $s+1, …), (…)` for `rows` rows of `cols` placeholders starting at `$start`.
pub(super) fn tuples(rows: usize, cols: usize, start: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", start + r * cols + c));
        }
        out.push(')');
    }
    out
}

/// `(ns = $1 AND key = $2) OR …` for `n` keys.
fn key_filter(n: usize) -> String {
    (0..n).map(|i| format!("(ns = ${} AND key = ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(" OR ")
}

/// Current versions of `keys` (absent keys are missing from the map).
pub(super) async fn versions(
    conn: &mut AnyConnection,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), i64>, sqlx::Error> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(CHUNK) {
        let sql = format!("SELECT ns, key, version FROM kv WHERE {}", key_filter(chunk.len()));
        let mut q = sqlx::query(&sql);
        for (ns, key) in chunk {
            q = q.bind(*ns).bind(*key);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
        }
    }
    Ok(out)
}

pub(super) fn id_list(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Which of `ids` are still in the inbox, each with the holder of its lane's lease.
pub(super) async fn present_inbox(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Option<String>>, sqlx::Error> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT i.id, l.owner FROM inbox i LEFT JOIN lanes l ON l.lane = i.lane WHERE i.id IN ({})",
            id_list(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    Ok(out)
}

/// Remove handled entries.
pub(super) fn delete_inbox(script: &mut Script, ids: &[i64]) {
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("DELETE FROM inbox WHERE id IN ({})", id_list(chunk.len()));
        script.push(sql, chunk.iter().map(|id| Val::Int(*id)).collect());
    }
}

/// Write `rows` (distinct keys) at `version`.
pub(super) fn upsert_kv(script: &mut Script, rows: &[(&str, &str, &[u8])], version: i64) {
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO kv (ns, key, value, version) VALUES {} \
             ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, version = excluded.version",
            tuples(chunk.len(), 4, 1)
        );
        let args = chunk
            .iter()
            .flat_map(|(ns, key, value)| {
                [
                    Val::Text((*ns).to_owned()),
                    Val::Text((*key).to_owned()),
                    Val::Blob(value.to_vec()),
                    Val::Int(version),
                ]
            })
            .collect();
        script.push(sql, args);
    }
}

/// Remove `keys`.
pub(super) fn delete_kv(script: &mut Script, keys: &[(&str, &str)]) {
    for chunk in keys.chunks(CHUNK) {
        let sql = format!("DELETE FROM kv WHERE {}", key_filter(chunk.len()));
        let args =
            chunk.iter().flat_map(|(ns, key)| [Val::Text((*ns).to_owned()), Val::Text((*key).to_owned())]).collect();
        script.push(sql, args);
    }
}

/// Queue Telegram calls.
pub(super) fn insert_outbox(script: &mut Script, rows: &[&NewOutbox], now_ms: i64) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(CHUNK) {
        let sql =
            format!("INSERT INTO outbox (chat_id, plugin, payload, created_ms) VALUES {}", tuples(chunk.len(), 4, 1));
        let mut args = Vec::with_capacity(chunk.len() * 4);
        for o in chunk {
            let payload = o.call.to_row().map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            args.extend([Val::Int(o.chat_id), Val::Text(o.plugin.clone()), Val::Text(payload), Val::Int(now_ms)]);
        }
        script.push(sql, args);
    }
    Ok(())
}

/// Insert entries (each with its causal hop count in its payload); an entry whose
/// dedupe key is queued already is skipped.
pub(super) fn insert_inbox(script: &mut Script, rows: &[&NewInbox], now_ms: i64) {
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO inbox (lane, target, payload, dedupe, created_ms) VALUES {} ON CONFLICT (dedupe) DO NOTHING",
            tuples(chunk.len(), 5, 1)
        );
        let args = chunk
            .iter()
            .flat_map(|e| {
                [
                    Val::Int(e.lane),
                    Val::OptText(e.target.clone()),
                    Val::Text(e.payload.clone()),
                    Val::OptText(e.dedupe.clone()),
                    Val::Int(now_ms),
                ]
            })
            .collect();
        script.push(sql, args);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders() {
        assert_eq!(super::tuples(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(super::key_filter(2), "(ns = $1 AND key = $2) OR (ns = $3 AND key = $4)");
    }
}
