//! The `/admin` menu's state machine, free of I/O: given the plugins' specs, the chat's
//! open conversation (if any) and what the admin did, [`step`] says what to show next
//! and what becomes of the conversation. Running a view and queuing an action are left
//! to the caller (`Next::RunView`, `Next::Queue`).
//!
//! A conversation (one per chat, KV namespace `_menu`) exists while the admin answers a
//! view's or action's parameters (`Asking`: their next plain message is the answer),
//! confirms an action (`Confirm`, holding the request id that makes Yes run once), or
//! pages through a view (`Viewing`, holding the next page's cursor). It expires after
//! [`TTL_MS`]; its nonce ties buttons to it, so a button of an ended conversation is
//! stale and does nothing.

use serde::{Deserialize, Serialize};

use super::data::{Kind, Press};
use crate::panel::params;
use crate::panel::{Item, PanelError, PanelPlugin, ParamKind};

/// How long a conversation lasts after its last step.
pub(crate) const TTL_MS: i64 = 10 * 60 * 1000;

/// A chat's open conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Conv {
    /// The admin it belongs to.
    pub user: i64,
    /// Ties its buttons to it.
    pub nonce: String,
    /// The plugin.
    pub plugin: String,
    /// A view or an action.
    pub kind: Kind,
    /// The view's or action's name.
    pub item: String,
    /// Parameters answered so far, as typed.
    pub answers: Vec<(String, String)>,
    /// Where it stands.
    pub stage: Stage,
    /// When it ends (Unix ms).
    pub expires_ms: i64,
}

/// Where a conversation stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stage {
    /// Waiting for parameter `index`.
    Asking(usize),
    /// An action's parameters are complete; Yes queues it under this request id.
    Confirm(String),
    /// A view is shown; its next page's cursor.
    Viewing(Option<String>),
}

impl Conv {
    /// Whether the admin's next plain message is an answer.
    pub(crate) fn asking(&self) -> bool {
        matches!(self.stage, Stage::Asking(_))
    }
}

/// What the admin did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// `/admin`.
    Open,
    /// A menu button.
    Press(Press),
    /// A plain message while asked for a parameter.
    Text(String),
    /// `/cancel` while asked for a parameter.
    Cancel,
}

/// What to show next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing new (a stale button: just the toast).
    Nothing,
    /// The list of plugins, this page.
    Home(usize),
    /// A plugin's views and actions, this page.
    Plugin(String, usize),
    /// Ask the conversation's current parameter, after this complaint about the last answer.
    Ask(Conv, Option<String>),
    /// Ask to confirm the conversation's action.
    Confirm(Conv),
    /// Run the conversation's view at this page and show it.
    RunView(Conv, Option<String>),
    /// Queue the conversation's action under this request id.
    Queue(Conv, String),
    /// A short message.
    Say(String),
}

/// What becomes of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Leave it as it is.
    Keep,
    /// Store this one.
    Set(Conv),
    /// End it.
    Clear,
}

/// One step of the menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    pub next: Next,
    pub conv: Change,
    /// The callback answer's text (for presses).
    pub toast: Option<String>,
}

/// A stale button's toast.
pub(crate) const STALE: &str = "This menu has expired. Send /admin to start again.";

fn step_of(next: Next, conv: Change) -> Step {
    Step { next, conv, toast: None }
}

fn stale() -> Step {
    Step { next: Next::Nothing, conv: Change::Keep, toast: Some(STALE.into()) }
}

/// The plugin called `name`.
pub(crate) fn plugin<'a>(plugins: &'a [PanelPlugin], name: &str) -> Option<&'a PanelPlugin> {
    plugins.iter().find(|p| p.plugin == name)
}

/// The conversation's view or action.
pub(crate) fn item<'a>(plugins: &'a [PanelPlugin], conv: &Conv) -> Option<&'a Item> {
    let p = plugin(plugins, &conv.plugin)?;
    match conv.kind {
        Kind::View => p.spec.view(&conv.item),
        Kind::Action => p.spec.action(&conv.item),
    }
}

/// Decide the next step. `conv` is the chat's live conversation (not expired, the
/// admin's own); `fresh` makes nonces and request ids.
pub(crate) fn step(
    plugins: &[PanelPlugin],
    conv: Option<Conv>,
    user: i64,
    input: Input,
    now_ms: i64,
    fresh: &mut dyn FnMut() -> String,
) -> Step {
    let ends = |c: &Option<Conv>| if c.is_some() { Change::Clear } else { Change::Keep };
    let press = match input {
        Input::Open => return step_of(Next::Home(0), ends(&conv)),
        Input::Cancel => return step_of(Next::Say("Cancelled.".into()), Change::Clear),
        Input::Text(text) => {
            return match conv {
                Some(c) if c.asking() => answer(plugins, c, Some(text), now_ms, fresh),
                _ => step_of(Next::Nothing, Change::Keep),
            };
        }
        Input::Press(p) => p,
    };
    // A button of this conversation, or `None` (stale).
    let mine = |nonce: &str| conv.clone().filter(|c| c.nonce == nonce);
    match press {
        Press::Home(page) => step_of(Next::Home(page), ends(&conv)),
        Press::Plugin(name, page) => match plugin(plugins, &name) {
            Some(_) => step_of(Next::Plugin(name, page), ends(&conv)),
            None => Step { toast: Some(format!("No plugin {name} any more.")), ..step_of(Next::Home(0), ends(&conv)) },
        },
        Press::Start(kind, name, index) => {
            let found = plugin(plugins, &name).and_then(|p| match kind {
                Kind::View => p.spec.views.get(index),
                Kind::Action => p.spec.actions.get(index),
            });
            let Some(found) = found else {
                return Step { toast: Some(STALE.into()), ..step_of(Next::Home(0), ends(&conv)) };
            };
            let c = Conv {
                user,
                nonce: fresh(),
                plugin: name,
                kind,
                item: found.name.clone(),
                answers: Vec::new(),
                stage: Stage::Asking(0),
                expires_ms: now_ms + TTL_MS,
            };
            if found.params.is_empty() {
                complete(plugins, c, fresh)
            } else {
                step_of(Next::Ask(c.clone(), None), Change::Set(c))
            }
        }
        Press::Choice(nonce, index) => {
            let Some(c) = mine(&nonce).filter(Conv::asking) else { return stale() };
            let choice = current(plugins, &c).and_then(|spec| match &spec.kind {
                ParamKind::Choice(list) => list.get(index).cloned(),
                _ => None,
            });
            match choice {
                Some(choice) => answer(plugins, c, Some(choice), now_ms, fresh),
                None => stale(),
            }
        }
        Press::Skip(nonce) => match mine(&nonce).filter(Conv::asking) {
            Some(c) => answer(plugins, c, None, now_ms, fresh),
            None => stale(),
        },
        Press::Yes(nonce) => match mine(&nonce) {
            Some(c) => match c.stage.clone() {
                Stage::Confirm(request) => step_of(Next::Queue(c, request), Change::Clear),
                _ => stale(),
            },
            None => Step { toast: Some("Already done (or expired).".into()), ..stale() },
        },
        Press::No(nonce) => match mine(&nonce) {
            Some(c) => Step { toast: Some("Cancelled.".into()), ..step_of(Next::Plugin(c.plugin, 0), Change::Clear) },
            None => stale(),
        },
        Press::More(nonce) => match mine(&nonce) {
            Some(c) => match c.stage.clone() {
                Stage::Viewing(Some(cursor)) => step_of(Next::RunView(c, Some(cursor)), Change::Keep),
                _ => stale(),
            },
            None => stale(),
        },
    }
}

/// The parameter being asked.
fn current<'a>(plugins: &'a [PanelPlugin], c: &Conv) -> Option<&'a crate::panel::ParamSpec> {
    let Stage::Asking(index) = c.stage else { return None };
    item(plugins, c)?.params.get(index)
}

/// Take `value` (or a skip) for the asked parameter: check it alone with
/// `params::parse`, then ask the next one or complete the item.
fn answer(
    plugins: &[PanelPlugin],
    mut c: Conv,
    value: Option<String>,
    now_ms: i64,
    fresh: &mut dyn FnMut() -> String,
) -> Step {
    let (Some(it), Stage::Asking(index)) = (item(plugins, &c), c.stage.clone()) else {
        return Step { toast: Some(STALE.into()), ..step_of(Next::Say(STALE.into()), Change::Clear) };
    };
    let Some(spec) = it.params.get(index) else { return complete(plugins, c, fresh) };
    c.expires_ms = now_ms + TTL_MS;
    match value {
        None if spec.required => {
            return step_of(Next::Ask(c.clone(), Some(format!("{} is required.", spec.title))), Change::Set(c));
        }
        None => {}
        Some(text) => {
            let alone = Item { params: vec![spec.clone()], ..it.clone() };
            let raw = vec![(spec.name.clone(), text)];
            if let Err(e) = params::parse(&alone, &raw) {
                let why = match e {
                    PanelError::BadParam { why, .. } => why,
                    other => other.to_string(),
                };
                return step_of(Next::Ask(c.clone(), Some(why)), Change::Set(c));
            }
            c.answers.extend(raw);
        }
    }
    if index + 1 < it.params.len() {
        c.stage = Stage::Asking(index + 1);
        return step_of(Next::Ask(c.clone(), None), Change::Set(c));
    }
    complete(plugins, c, fresh)
}

/// Every parameter is answered: run the view, or ask to confirm the action.
fn complete(plugins: &[PanelPlugin], mut c: Conv, fresh: &mut dyn FnMut() -> String) -> Step {
    let Some(it) = item(plugins, &c) else { return step_of(Next::Say(STALE.into()), Change::Clear) };
    if let Err(e) = params::parse(it, &c.answers) {
        return step_of(Next::Say(format!("⚠️ {e}")), Change::Clear);
    }
    match c.kind {
        Kind::View => {
            c.stage = Stage::Viewing(None);
            step_of(Next::RunView(c.clone(), None), Change::Set(c))
        }
        Kind::Action => {
            c.stage = Stage::Confirm(fresh());
            step_of(Next::Confirm(c.clone()), Change::Set(c))
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
