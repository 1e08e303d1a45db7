//! Output as plain text (the command line, Telegram) and as CSV (`wharf admin … --csv`).
//! JSON is the serde form of [`Output`].

use std::fmt::Write as _;

use super::{Block, Output, Table};

/// Text for a terminal or a chat: paragraphs, tables with aligned columns (row ids in
/// the first column when a table has them), `key: value` lines, series as a table of
/// labels and lines.
pub fn text(out: &Output) -> String {
    let mut s = String::new();
    for (n, block) in out.blocks.iter().enumerate() {
        if n > 0 {
            s.push('\n');
        }
        match block {
            Block::Text(t) => {
                s.push_str(t);
                s.push('\n');
            }
            Block::Table(t) => s.push_str(&table(t)),
            Block::KeyValues(kv) => {
                let w = kv.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                for (k, v) in kv {
                    let _ = writeln!(s, "{k:<w$}  {v}");
                }
            }
            Block::Series(series) => {
                let _ = writeln!(s, "{}", series.title);
                let (columns, rows) = series_table(series, "");
                let rows = rows.into_iter().map(|cells| super::Row { id: None, cells }).collect();
                s.push_str(&table(&Table { columns, rows, actions: Vec::new() }));
            }
        }
    }
    if let Some(next) = &out.next_page {
        let _ = writeln!(s, "\n(more: --page {next})");
    }
    s
}

/// A series as a table: a first column of labels headed `corner`, then one per line.
fn series_table(series: &super::Series, corner: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head = vec![corner.to_owned()];
    head.extend(series.lines.iter().map(|l| l.name.clone()));
    let rows = series
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut cells = vec![label.clone()];
            cells.extend(series.lines.iter().map(|l| l.values.get(i).copied().unwrap_or(0).to_string()));
            cells
        })
        .collect();
    (head, rows)
}

fn table(t: &Table) -> String {
    let with_ids = t.rows.iter().any(|r| r.id.is_some());
    let mut head: Vec<&str> = Vec::new();
    if with_ids {
        head.push("id");
    }
    head.extend(t.columns.iter().map(String::as_str));
    let rows: Vec<Vec<&str>> = t
        .rows
        .iter()
        .map(|r| {
            let mut cells: Vec<&str> = Vec::new();
            if with_ids {
                cells.push(r.id.as_deref().unwrap_or(""));
            }
            cells.extend(r.cells.iter().map(String::as_str));
            cells
        })
        .collect();
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let _ = write!(l, "{c:<w$}");
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut s = line(&head);
    s.push_str(&line(
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    for r in &rows {
        s.push_str(&line(r));
    }
    if rows.is_empty() {
        s.push_str("(no rows)\n");
    }
    s
}

/// CSV (RFC 4180) of the output's tables (and series), one after another with an empty
/// line between them; a header row first. Cells that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) get a leading `'`.
pub fn csv(out: &Output) -> String {
    let mut s = String::new();
    for block in &out.blocks {
        let (head, rows): (Vec<String>, Vec<Vec<String>>) = match block {
            Block::Table(t) => {
                let with_ids = t.rows.iter().any(|r| r.id.is_some());
                let mut head = Vec::new();
                if with_ids {
                    head.push("id".to_owned());
                }
                head.extend(t.columns.iter().cloned());
                let rows = t
                    .rows
                    .iter()
                    .map(|r| {
                        let mut cells = Vec::new();
                        if with_ids {
                            cells.push(r.id.clone().unwrap_or_default());
                        }
                        cells.extend(r.cells.iter().cloned());
                        cells
                    })
                    .collect();
                (head, rows)
            }
            Block::Series(series) => series_table(series, "label"),
            Block::KeyValues(kv) => {
                (vec!["key".into(), "value".into()], kv.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect())
            }
            Block::Text(_) => continue,
        };
        if !s.is_empty() {
            s.push('\n');
        }
        for r in std::iter::once(&head).chain(&rows) {
            let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
            s.push_str(&cells.join(","));
            s.push_str("\r\n");
        }
    }
    s
}

fn cell(c: &str) -> String {
    let c =
        if c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err() { format!("'{c}") } else { c.to_owned() };
    if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::Row;

    fn out() -> Output {
        Output {
            blocks: vec![
                Block::Text("Products in Warsaw".into()),
                Block::Table(Table {
                    columns: vec!["Name".into(), "Price".into()],
                    rows: vec![
                        Row { id: Some("p1".into()), cells: vec!["Apple, red".into(), "10.00".into()] },
                        Row { id: Some("p2".into()), cells: vec!["=SUM(A1)".into(), "-5".into()] },
                    ],
                    actions: vec![],
                }),
                Block::KeyValues(vec![("Total".into(), "2".into())]),
            ],
            next_page: Some("c2".into()),
        }
    }

    #[test]
    fn text_aligns_columns_and_shows_the_next_page() {
        let t = text(&out());
        assert!(t.contains("id  Name        Price\n"), "{t}");
        assert!(t.contains("p1  Apple, red  10.00\n"), "{t}");
        assert!(t.contains("Total  2\n"), "{t}");
        assert!(t.ends_with("(more: --page c2)\n"), "{t}");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let c = csv(&out());
        assert_eq!(c, "id,Name,Price\r\np1,\"Apple, red\",10.00\r\np2,'=SUM(A1),-5\r\n\nkey,value\r\nTotal,2\r\n");
    }
}
