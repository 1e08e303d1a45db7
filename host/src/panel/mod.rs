//! Plugins' admin views and actions (the `wharf:bot/admin` export), as the host's admin
//! surfaces see them: the Telegram menu (`/admin`), the command line (`wharf admin`) and
//! the web dashboard all go through a [`Console`].
//!
//! | module | what it is for |
//! |---|---|
//! | (this) | the host's own types for specs, values and output (serde, for `--json` and the inbox) |
//! | [`params`] | parsing what an admin typed into typed values, checked against the spec |
//! | [`spec`] | converting and checking a plugin's `admin-spec` when it loads |
//! | [`render`] | output as plain text (command line, Telegram) and CSV |
//! | [`cli`] | `wharf admin` |
//!
//! A view runs read-only in its own store and is never committed; an action is queued in
//! the inbox (format version 3, [`crate::inbox::AdminAct`]), runs as a turn of the
//! plugin, and its reply is written in the same commit, keyed by the request id, so the
//! asker finds it whichever process ran it (see `runtime::panel`).

pub mod cli;
pub mod params;
pub mod render;
pub mod spec;

use serde::{Deserialize, Serialize};

pub use crate::runtime::Console;

/// What a parameter takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "of")]
pub enum ParamKind {
    /// One line of text.
    Text,
    /// A whole number.
    Integer,
    /// Money in minor units, typed with this many decimals.
    Amount(u8),
    /// `YYYY-MM-DD`.
    Date,
    /// One of these.
    Choice(Vec<String>),
    /// A Telegram user id.
    UserId,
    /// Row ids of a table the plugin showed.
    Ids,
}

/// One parameter of a view or action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Name (`--name` on the command line, the form field's name).
    pub name: String,
    /// Label.
    pub title: String,
    /// What it takes.
    pub kind: ParamKind,
    /// Must be given.
    pub required: bool,
    /// Hint (may be empty).
    pub help: String,
}

/// A view or an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Name, unique within the plugin.
    pub name: String,
    /// Title.
    pub title: String,
    /// What it does (may be empty).
    pub description: String,
    /// Parameters, in the order they are asked.
    pub params: Vec<ParamSpec>,
}

impl Item {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// What a plugin offers its admins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelSpec {
    /// Read-only reports.
    pub views: Vec<Item>,
    /// Changes.
    pub actions: Vec<Item>,
}

impl PanelSpec {
    /// The view called `name`.
    pub fn view(&self, name: &str) -> Option<&Item> {
        self.views.iter().find(|i| i.name == name)
    }

    /// The action called `name`.
    pub fn action(&self, name: &str) -> Option<&Item> {
        self.actions.iter().find(|i| i.name == name)
    }
}

/// A plugin with an `admin` export, as the surfaces list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelPlugin {
    /// Plugin name.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Whether the circuit breaker (or an admin) has it disabled: its views and actions
    /// are then refused.
    pub disabled: bool,
    /// Its views and actions.
    pub spec: PanelSpec,
}

/// A parameter's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// Minor units.
    Amount(i64),
    /// `YYYY-MM-DD`.
    Date(String),
    /// One of the choices.
    Choice(String),
    /// A user id.
    UserId(i64),
    /// Selected row ids.
    Ids(Vec<String>),
}

/// Parameters as the plugin gets them: checked against the spec, in its order.
pub type Params = Vec<(String, Value)>;

/// One row of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Id for selections.
    pub id: Option<String>,
    /// Cells.
    pub cells: Vec<String>,
}

/// A table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// Column titles.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Actions of the plugin that take a selection of these rows.
    pub actions: Vec<String>,
}

/// One line of a chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// What it counts.
    pub name: String,
    /// One value per label.
    pub values: Vec<i64>,
}

/// A chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// Title.
    pub title: String,
    /// x axis labels.
    pub labels: Vec<String>,
    /// Lines.
    pub lines: Vec<Line>,
}

/// One part of an output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A paragraph.
    Text(String),
    /// A table.
    Table(Table),
    /// Keys and values.
    KeyValues(Vec<(String, String)>),
    /// A chart.
    Series(Series),
}

/// What a view shows or an action answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// In order.
    pub blocks: Vec<Block>,
    /// Cursor of a view's next page.
    pub next_page: Option<String>,
}

/// Which surface an admin used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// The bot's `/admin` menu.
    Telegram,
    /// The web dashboard.
    Web,
    /// `wharf admin`.
    Cli,
}

impl std::fmt::Display for Surface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Telegram => "telegram",
            Self::Web => "web",
            Self::Cli => "cli",
        })
    }
}

/// Who asks: recorded with every action (`admin.action` in the event log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    /// The admin's Telegram id, when known (the plugin's `ctx.user-id`).
    pub user_id: Option<i64>,
    /// Where they asked from.
    pub via: Surface,
    /// Who else they are, when there is no Telegram id (e.g. `password`, the Unix user
    /// of `wharf admin`); at most 64 characters, shown in the event log.
    pub label: String,
}

impl Who {
    /// An admin known by their Telegram id.
    pub fn telegram(user_id: i64, via: Surface) -> Self {
        Self { user_id: Some(user_id), via, label: String::new() }
    }

    /// How the event log shows them: `telegram:123 via web`, `cli:alice`.
    pub fn describe(&self) -> String {
        match self.user_id {
            Some(id) => format!("{id} via {}", self.via),
            None => format!("{} via {}", self.label, self.via),
        }
    }
}

/// Why a view or an action did not run (or not to the end).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelError {
    /// No loaded plugin of that name has an `admin` export.
    #[error("no plugin {0} with admin views or actions")]
    NoPlugin(String),
    /// The plugin has no view or action of that name.
    #[error("plugin {plugin} has no {what} {name}")]
    NoItem {
        /// The plugin.
        plugin: String,
        /// `view` or `action`.
        what: String,
        /// The name asked for.
        name: String,
    },
    /// The plugin is disabled.
    #[error("plugin {0} is disabled")]
    Disabled(String),
    /// A parameter is missing, unknown or not of its kind (checked by the host).
    #[error("--{param}: {why}")]
    BadParam {
        /// The parameter's name.
        param: String,
        /// What is wrong.
        why: String,
    },
    /// The plugin answered with an error (its `invalid-input`, `access-denied`,
    /// `not-found`, `other`).
    #[error("{plugin} refused: {message}")]
    Refused {
        /// The plugin.
        plugin: String,
        /// `invalid-input`, `access-denied`, `not-found` or `other`.
        kind: String,
        /// Its message (control characters escaped).
        message: String,
    },
    /// The plugin trapped, timed out or ran out of memory; nothing was committed.
    #[error("{plugin} failed: {message}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// What happened.
        message: String,
    },
    /// The plugin's output broke the limits (too many rows, cells, bytes).
    #[error("{plugin} returned output the host refuses: {why}")]
    BadOutput {
        /// The plugin.
        plugin: String,
        /// What is wrong.
        why: String,
    },
    /// An action was queued but no reply came in time (is `wharf run` serving this
    /// database?). It stays queued and runs once when served.
    #[error(
        "the action is queued (request {request}) but no runtime ran it within {waited_s} s; it runs once when the bot serves this database"
    )]
    Pending {
        /// The request id.
        request: String,
        /// Seconds waited.
        waited_s: u64,
    },
    /// The host could not serve it (storage down).
    #[error("host error: {0}")]
    Host(String),
}
