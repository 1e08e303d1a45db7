//! A plugin's `admin-spec` and `output` as the host keeps them: converted from the WIT
//! types and checked. A malformed spec keeps the plugin from loading (like a malformed
//! manifest); output over the limits is refused rather than shown cut.

use crate::caps::bindings::admin::exports::wharf::bot::admin as wit;

use super::{Block, Item, Line, Output, PanelError, PanelSpec, ParamKind, ParamSpec, Row, Series, Table, Value};

/// Most views plus actions of one plugin.
pub const MAX_ITEMS: usize = 64;
/// Most parameters of one view or action.
pub const MAX_PARAMS: usize = 16;
/// Most blocks in one output.
pub const MAX_BLOCKS: usize = 32;
/// Most rows of one table.
pub const MAX_ROWS: usize = 1000;
/// Most columns of one table.
pub const MAX_COLUMNS: usize = 24;
/// Most labels (points) of one series.
pub const MAX_POINTS: usize = 400;
/// Most bytes of text in one output (cells, keys, values, paragraphs together).
pub const MAX_OUTPUT_BYTES: usize = 2 << 20;

fn name_ok(s: &str, extra: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || extra.as_bytes().contains(&b))
}

fn title_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    (1..=max).contains(&n) && !s.chars().any(char::is_control)
}

/// Convert and check a plugin's spec; the error says what is wrong, for the load error.
pub fn check(spec: wit::AdminSpec) -> Result<PanelSpec, String> {
    let out = PanelSpec {
        views: spec.views.into_iter().map(item).collect::<Result<_, _>>()?,
        actions: spec.actions.into_iter().map(item).collect::<Result<_, _>>()?,
    };
    if out.views.len() + out.actions.len() > MAX_ITEMS {
        return Err(format!("admin spec: at most {MAX_ITEMS} views and actions"));
    }
    let mut names: Vec<&str> = out.views.iter().chain(&out.actions).map(|i| i.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("admin spec: the name {:?} is used twice", w[0]));
    }
    Ok(out)
}

fn item(i: wit::ItemSpec) -> Result<Item, String> {
    if !name_ok(&i.name, "-") {
        return Err(format!("admin spec: name {:?} is not 1-32 characters of a-z, 0-9, _, -", clip(&i.name)));
    }
    if !title_ok(&i.title, 64) {
        return Err(format!("admin spec: {}: title must be 1-64 characters, one line", i.name));
    }
    if i.description.chars().count() > 512 {
        return Err(format!("admin spec: {}: description is over 512 characters", i.name));
    }
    if i.params.len() > MAX_PARAMS {
        return Err(format!("admin spec: {}: at most {MAX_PARAMS} parameters", i.name));
    }
    let params: Vec<ParamSpec> = i.params.into_iter().map(|p| param(&i.name, p)).collect::<Result<_, _>>()?;
    for (n, p) in params.iter().enumerate() {
        if params[..n].iter().any(|q| q.name == p.name) {
            return Err(format!("admin spec: {}: parameter {} is declared twice", i.name, p.name));
        }
    }
    Ok(Item { name: i.name, title: i.title, description: i.description, params })
}

fn param(item: &str, p: wit::ParamSpec) -> Result<ParamSpec, String> {
    if !name_ok(&p.name, "") {
        return Err(format!("admin spec: {item}: parameter {:?} is not 1-32 characters of a-z, 0-9, _", clip(&p.name)));
    }
    if !title_ok(&p.title, 64) || p.help.chars().count() > 256 {
        return Err(format!("admin spec: {item}: parameter {}: title 1-64 characters, help at most 256", p.name));
    }
    let kind = match p.kind {
        wit::ParamKind::Text => ParamKind::Text,
        wit::ParamKind::Integer => ParamKind::Integer,
        wit::ParamKind::Amount(d) if d <= 8 => ParamKind::Amount(d),
        wit::ParamKind::Amount(d) => {
            return Err(format!("admin spec: {item}: parameter {}: at most 8 decimals, not {d}", p.name));
        }
        wit::ParamKind::Date => ParamKind::Date,
        wit::ParamKind::Choice(c) => {
            if c.is_empty() || c.len() > 50 || c.iter().any(|s| !title_ok(s, 64)) {
                return Err(format!("admin spec: {item}: parameter {}: 1-50 choices of 1-64 characters", p.name));
            }
            ParamKind::Choice(c)
        }
        wit::ParamKind::UserId => ParamKind::UserId,
        wit::ParamKind::Ids => ParamKind::Ids,
    };
    Ok(ParamSpec { name: p.name, title: p.title, kind, required: p.required, help: p.help })
}

fn clip(s: &str) -> String {
    crate::validate::escape_controls(&s.chars().take(40).collect::<String>())
}

/// Values as the plugin gets them.
pub fn to_wit(params: &[(String, Value)]) -> Vec<wit::Param> {
    params
        .iter()
        .map(|(name, v)| wit::Param {
            name: name.clone(),
            value: match v.clone() {
                Value::Text(s) => wit::Value::Text(s),
                Value::Integer(n) => wit::Value::Integer(n),
                Value::Amount(n) => wit::Value::Amount(n),
                Value::Date(s) => wit::Value::Date(s),
                Value::Choice(s) => wit::Value::Choice(s),
                Value::UserId(n) => wit::Value::UserId(n),
                Value::Ids(ids) => wit::Value::Ids(ids),
            },
        })
        .collect()
}

/// Convert and check what a plugin returned: within the limits, table rows as wide as
/// their columns, selection actions that exist and take ids. Control characters in text
/// are kept only as line breaks in paragraphs.
pub fn output(plugin: &str, spec: &PanelSpec, out: wit::Output) -> Result<Output, PanelError> {
    let refuse = |why: String| PanelError::BadOutput { plugin: plugin.to_owned(), why };
    if out.blocks.len() > MAX_BLOCKS {
        return Err(refuse(format!("{} blocks; at most {MAX_BLOCKS}", out.blocks.len())));
    }
    let mut bytes = out.next_page.as_ref().map_or(0, String::len);
    if bytes > 256 {
        return Err(refuse("a page cursor is at most 256 bytes".into()));
    }
    let mut count = |s: &str| bytes += s.len();
    let mut blocks = Vec::with_capacity(out.blocks.len());
    for b in out.blocks {
        blocks.push(match b {
            wit::Block::Text(t) => {
                count(&t);
                Block::Text(t.chars().filter(|c| *c == '\n' || !c.is_control()).collect())
            }
            wit::Block::Table(t) => {
                if t.columns.is_empty() || t.columns.len() > MAX_COLUMNS || t.rows.len() > MAX_ROWS {
                    return Err(refuse(format!("a table has 1-{MAX_COLUMNS} columns and at most {MAX_ROWS} rows")));
                }
                for a in &t.actions {
                    let takes_ids = spec.action(a).is_some_and(|i| i.params.iter().any(|p| p.kind == ParamKind::Ids));
                    if !takes_ids {
                        return Err(refuse(format!("a table names action {a:?}, which has no ids parameter")));
                    }
                }
                let mut rows = Vec::with_capacity(t.rows.len());
                for r in t.rows {
                    if r.cells.len() != t.columns.len() {
                        return Err(refuse(format!(
                            "a row has {} cells for {} columns",
                            r.cells.len(),
                            t.columns.len()
                        )));
                    }
                    if let Some(id) = &r.id
                        && (id.is_empty()
                            || id.len() > super::params::MAX_ID_BYTES
                            || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)))
                    {
                        return Err(refuse("a row id is 1-64 characters of a-z, A-Z, 0-9, - _ . :".into()));
                    }
                    r.cells.iter().for_each(|c| count(c));
                    rows.push(Row { id: r.id, cells: r.cells.iter().map(|c| one_line(c)).collect() });
                }
                t.columns.iter().for_each(|c| count(c));
                Block::Table(Table {
                    columns: t.columns.iter().map(|c| one_line(c)).collect(),
                    rows,
                    actions: t.actions,
                })
            }
            wit::Block::KeyValues(kv) => {
                kv.iter().for_each(|p| {
                    count(&p.key);
                    count(&p.value);
                });
                Block::KeyValues(kv.into_iter().map(|p| (one_line(&p.key), one_line(&p.value))).collect())
            }
            wit::Block::Series(s) => {
                if s.labels.len() > MAX_POINTS || s.lines.len() > 8 {
                    return Err(refuse(format!("a series has at most {MAX_POINTS} labels and 8 lines")));
                }
                if s.lines.iter().any(|l| l.values.len() != s.labels.len()) {
                    return Err(refuse("a series' line has one value per label".into()));
                }
                s.labels.iter().for_each(|l| count(l));
                Block::Series(Series {
                    title: one_line(&s.title),
                    labels: s.labels.iter().map(|l| one_line(l)).collect(),
                    lines: s.lines.into_iter().map(|l| Line { name: one_line(&l.name), values: l.values }).collect(),
                })
            }
        });
    }
    if bytes > MAX_OUTPUT_BYTES {
        return Err(refuse(format!("{bytes} bytes of text; at most {MAX_OUTPUT_BYTES}")));
    }
    Ok(Output { blocks, next_page: out.next_page })
}

fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
