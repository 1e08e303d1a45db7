//! Plugins' admin views and actions as pages: a view's parameters as a form (GET), its
//! output below (tables with checkboxes and the forms of the actions that take the
//! selection, key-values, series as SVG, a link to the next page); an action as a form
//! (POST with the CSRF token and a request id, so a double submit runs once). A
//! parameter the host or the plugin refuses is shown next to its field.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};
use serde::Serialize;

use super::auth::{Fields, field};
use super::pages::session;
use super::session::Session;
use super::{Dashboard, svg};
use crate::panel::{Block, Item, Output, PanelError, PanelPlugin, ParamKind};
use crate::runtime::Console;

/// A parameter as a form field.
#[derive(Serialize)]
struct FieldView {
    name: String,
    title: String,
    help: String,
    required: bool,
    /// `text`, `number`, `date`, `choice`, `ids`, `amount`.
    input: &'static str,
    choices: Vec<String>,
    value: String,
    error: Option<String>,
}

fn fields(item: &Item, given: &Fields, errors: &HashMap<String, String>, skip_ids: bool) -> Vec<FieldView> {
    item.params
        .iter()
        .filter(|p| !(skip_ids && p.kind == ParamKind::Ids))
        .map(|p| {
            let values: Vec<&str> = given.iter().filter(|(k, _)| *k == p.name).map(|(_, v)| v.as_str()).collect();
            let (input, choices, help) = match &p.kind {
                ParamKind::Text => ("text", vec![], p.help.clone()),
                ParamKind::Integer | ParamKind::UserId => ("number", vec![], p.help.clone()),
                ParamKind::Amount(dp) => {
                    let example =
                        if *dp == 0 { "12".to_owned() } else { format!("12.{}", "5".repeat(usize::from(*dp))) };
                    ("amount", vec![], format!("{} (e.g. {example})", p.help).trim().to_owned())
                }
                ParamKind::Date => ("date", vec![], p.help.clone()),
                ParamKind::Choice(c) => ("choice", c.clone(), p.help.clone()),
                ParamKind::Ids => ("ids", vec![], p.help.clone()),
            };
            FieldView {
                name: p.name.clone(),
                title: p.title.clone(),
                help,
                required: p.required,
                input,
                choices,
                value: values.join(","),
                error: errors.get(&p.name).cloned(),
            }
        })
        .collect()
}

/// A table action with its form fields (all but the selection).
#[derive(Serialize)]
struct TableAction {
    name: String,
    title: String,
    fields: Vec<FieldView>,
    request: String,
}

/// An output block as the templates show it.
#[derive(Serialize, Default)]
struct BlockView {
    kind: &'static str,
    text: Option<String>,
    columns: Vec<String>,
    rows: Vec<(Option<String>, Vec<String>)>,
    actions: Vec<TableAction>,
    pairs: Vec<(String, String)>,
    svg: Option<String>,
}

fn blocks(out: &Output, spec: &PanelPlugin) -> Vec<BlockView> {
    out.blocks
        .iter()
        .map(|b| match b {
            Block::Text(t) => BlockView { kind: "text", text: Some(t.clone()), ..BlockView::default() },
            Block::Table(t) => BlockView {
                kind: "table",
                columns: t.columns.clone(),
                rows: t.rows.iter().map(|r| (r.id.clone(), r.cells.clone())).collect(),
                actions: t
                    .actions
                    .iter()
                    .filter_map(|a| spec.spec.action(a))
                    .map(|item| TableAction {
                        name: item.name.clone(),
                        title: item.title.clone(),
                        fields: fields(item, &Vec::new(), &HashMap::new(), true),
                        request: Console::new_request(),
                    })
                    .collect(),
                ..BlockView::default()
            },
            Block::KeyValues(kv) => BlockView { kind: "pairs", pairs: kv.clone(), ..BlockView::default() },
            Block::Series(s) => BlockView {
                kind: "svg",
                svg: Some(svg::chart(
                    &s.title,
                    &s.labels,
                    &s.lines.iter().map(|l| (l.name.clone(), l.values.clone())).collect::<Vec<_>>(),
                )),
                ..BlockView::default()
            },
        })
        .collect()
}

impl Dashboard {
    fn find_plugin(&self, s: &Session, plugin: &str) -> Result<PanelPlugin, Box<Response>> {
        self.observer.console().plugins().into_iter().find(|p| p.plugin == plugin).ok_or_else(|| {
            Box::new(self.message(
                StatusCode::NOT_FOUND,
                "Not found",
                "No plugin of that name with admin views or actions.",
                Some(self.base(s, "")),
            ))
        })
    }

    fn not_found(&self, s: &Session, plugin: &str) -> Response {
        self.message(StatusCode::NOT_FOUND, "Not found", "No such view or action.", Some(self.base(s, plugin)))
    }

    /// The action form (again, with errors), or its result.
    fn action_page(
        &self,
        s: &Session,
        p: &PanelPlugin,
        item: &Item,
        given: &Fields,
        result: Option<&Result<Output, PanelError>>,
    ) -> Response {
        let mut errors = HashMap::new();
        let mut error = None;
        let mut output = None;
        match result {
            Some(Ok(out)) => output = Some(blocks(out, p)),
            Some(Err(PanelError::BadParam { param, why })) if item.param(param).is_some() => {
                errors.insert(param.clone(), why.clone());
            }
            Some(Err(e)) => error = Some(e.to_string()),
            None => {}
        }
        let status = match result {
            Some(Err(PanelError::BadParam { .. } | PanelError::Refused { .. })) => StatusCode::UNPROCESSABLE_ENTITY,
            Some(Err(PanelError::NoPlugin(_) | PanelError::NoItem { .. })) => StatusCode::NOT_FOUND,
            Some(Err(PanelError::Disabled(_))) => StatusCode::CONFLICT,
            Some(Err(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        };
        let ctx = context! {
            title => format!("{} · {}", p.plugin, item.title),
            plugin => p.plugin.clone(), item => item.clone(),
            fields => fields(item, given, &errors, false),
            request => Console::new_request(),
            error, output, done => result.is_some_and(Result::is_ok),
            ..self.base(s, &p.plugin)
        };
        self.page(status, "action.html", ctx)
    }
}

pub(crate) async fn index(State(d): State<Arc<Dashboard>>, Path(plugin): Path<String>, headers: HeaderMap) -> Response {
    let s = session!(d.require(&headers));
    let p = session!(d.find_plugin(&s, &plugin));
    let ctx = context! { title => p.plugin.clone(), p => Value::from_serialize(&p), ..d.base(&s, &plugin) };
    d.page(StatusCode::OK, "plugin.html", ctx)
}

pub(crate) async fn view(
    State(d): State<Arc<Dashboard>>,
    Path((plugin, name)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let s = session!(d.require(&headers));
    let p = session!(d.find_plugin(&s, &plugin));
    let Some(item) = p.spec.view(&name).cloned() else { return d.not_found(&s, &plugin) };
    let raw: Fields = q.iter().filter(|(k, v)| k != "run" && k != "page" && !v.is_empty()).cloned().collect();
    let page = field(&q, "page").filter(|c| !c.is_empty());
    let run = field(&q, "run").is_some() || item.params.iter().all(|p| !p.required);
    let mut errors = HashMap::new();
    let mut error = None;
    let mut output = None;
    let mut next = None;
    if run {
        match d.observer.console().view(&plugin, &name, &raw, page, &s.who).await {
            Ok(out) => {
                next = out.next_page.clone().map(|cursor| {
                    let mut f = raw.clone();
                    f.push(("run".into(), "1".into()));
                    f.push(("page".into(), cursor));
                    serde_urlencoded::to_string(&f).unwrap_or_default()
                });
                output = Some(blocks(&out, &p));
            }
            Err(PanelError::BadParam { param, why }) if item.param(&param).is_some() => {
                errors.insert(param, why);
            }
            Err(e) => error = Some(e.to_string()),
        }
    }
    let ctx = context! {
        title => format!("{} · {}", p.plugin, item.title),
        plugin => p.plugin.clone(), item => item.clone(),
        fields => fields(&item, &raw, &errors, false),
        error, output, next,
        ..d.base(&s, &plugin)
    };
    let status = if error.is_some() || !errors.is_empty() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    d.page(status, "view.html", ctx)
}

pub(crate) async fn action_form(
    State(d): State<Arc<Dashboard>>,
    Path((plugin, name)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let s = session!(d.require(&headers));
    let p = session!(d.find_plugin(&s, &plugin));
    let Some(item) = p.spec.action(&name).cloned() else { return d.not_found(&s, &plugin) };
    d.action_page(&s, &p, &item, &q, None)
}

pub(crate) async fn act(
    State(d): State<Arc<Dashboard>>,
    Path((plugin, name)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let s = session!(d.require_post(&headers, &f));
    let p = session!(d.find_plugin(&s, &plugin));
    let Some(item) = p.spec.action(&name).cloned() else { return d.not_found(&s, &plugin) };
    let request = field(&f, "_request").unwrap_or_default().to_owned();
    let raw: Fields = f.iter().filter(|(k, v)| !k.starts_with('_') && k != "csrf" && !v.is_empty()).cloned().collect();
    let result = d.observer.console().act(&plugin, &name, &raw, &s.who, &request).await;
    d.action_page(&s, &p, &item, &raw, Some(&result))
}

/// A table's action on the rows selected (checkboxes `_ids`), its other parameters
/// named `ACTION.param`, its request id `ACTION._request`.
pub(crate) async fn selection(
    State(d): State<Arc<Dashboard>>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Response {
    let s = session!(d.require_post(&headers, &f));
    let p = session!(d.find_plugin(&s, &plugin));
    let Some(item) = field(&f, "_action").and_then(|a| p.spec.action(a)).cloned() else {
        return d.not_found(&s, &plugin);
    };
    let prefix = format!("{}.", item.name);
    let mut raw: Fields = f
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|n| (n.to_owned(), v.clone())))
        .filter(|(k, v)| !k.starts_with('_') && !v.is_empty())
        .collect();
    if let Some(ids) = item.params.iter().find(|p| p.kind == ParamKind::Ids) {
        raw.extend(f.iter().filter(|(k, _)| k == "_ids").map(|(_, v)| (ids.name.clone(), v.clone())));
    }
    let request = field(&f, &format!("{prefix}_request")).unwrap_or_default().to_owned();
    let result = d.observer.console().act(&plugin, &item.name, &raw, &s.who, &request).await;
    d.action_page(&s, &p, &item, &raw, Some(&result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel::{Line, PanelSpec, ParamSpec, Row, Series, Table};

    fn spec() -> PanelPlugin {
        let param = |name: &str, kind| ParamSpec {
            name: name.into(),
            title: name.to_uppercase(),
            kind,
            required: true,
            help: String::new(),
        };
        let discount = Item {
            name: "discount".into(),
            title: "Discount".into(),
            description: String::new(),
            params: vec![param("products", ParamKind::Ids), param("percent", ParamKind::Integer)],
        };
        PanelPlugin {
            plugin: "shop".into(),
            version: "1".into(),
            disabled: false,
            spec: PanelSpec { views: vec![], actions: vec![discount] },
        }
    }

    #[test]
    fn a_table_with_actions_gets_checkboxes_select_all_and_the_actions_fields() {
        let out = Output {
            blocks: vec![
                Block::Text("two <products>".into()),
                Block::Table(Table {
                    columns: vec!["name".into()],
                    rows: vec![
                        Row { id: Some("p1".into()), cells: vec!["Steam <50>".into()] },
                        Row { id: None, cells: vec!["total".into()] },
                    ],
                    actions: vec!["discount".into(), "unknown".into()],
                }),
                Block::KeyValues(vec![("stock".into(), "3".into())]),
                Block::Series(Series {
                    title: "sales".into(),
                    labels: vec!["mon".into()],
                    lines: vec![Line { name: "count".into(), values: vec![2] }],
                }),
            ],
            next_page: None,
        };
        let env = super::super::templates();
        let ctx = context! {
            root => "", csrf => "tok", who => "1 via web", active => "shop", nav_plugins => vec!["shop"],
            title => "shop · Products", plugin => "shop",
            item => Item { name: "products".into(), title: "Products".into(), description: String::new(), params: vec![] },
            fields => Vec::<FieldView>::new(), output => blocks(&out, &spec()),
        };
        let html = env.get_template("view.html").unwrap().render(ctx).unwrap();
        assert!(html.contains("two &lt;products&gt;") && html.contains("Steam &lt;50&gt;"), "{html}");
        assert_eq!(html.matches("name=\"_ids\"").count(), 1, "only rows with an id: {html}");
        assert!(html.contains("class=\"select-all\""));
        assert!(html.contains("name=\"discount.percent\""), "{html}");
        assert!(!html.contains("name=\"discount.products\""), "the selection is the checkboxes: {html}");
        assert!(html.contains("name=\"_action\" value=\"discount\""));
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(!html.contains("unknown"), "an action the plugin does not have is not offered");
        assert!(html.contains("<dt>stock</dt><dd>3</dd>") && html.contains("<svg"));
    }
}
