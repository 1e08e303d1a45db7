//! What the `/admin` menu shows: each screen as HTML text (plugins' titles, values and
//! output escaped) and an inline keyboard of menu buttons. Long lists page by
//! [`PER_PAGE`]; a view's output is a `<pre>` block clipped to fit Telegram's 4096
//! characters.

use super::data::{Kind, Press};
use super::state::Conv;
use crate::panel::{Item, Output, PanelError, PanelPlugin, ParamKind, ParamSpec, render};
use crate::sink::format::escape;
use crate::telegram::outbox_call::{Button, ButtonAction, Keyboard};

/// Buttons per page of a list.
pub(crate) const PER_PAGE: usize = 8;
/// Most UTF-16 units of a screen's text (Telegram's limit is 4096; some room kept).
pub(crate) const MAX_TEXT: usize = 4000;

/// A screen: HTML text and its buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Screen {
    pub text: String,
    pub keyboard: Option<Keyboard>,
}

fn button(text: impl Into<String>, press: &Press) -> Button {
    Button { text: text.into(), action: ButtonAction::Callback(press.encode()) }
}

fn keyboard(rows: Vec<Vec<Button>>) -> Option<Keyboard> {
    let rows: Vec<Vec<Button>> = rows.into_iter().filter(|r| !r.is_empty()).collect();
    (!rows.is_empty()).then_some(Keyboard { inline_keyboard: rows })
}

/// One button per entry of this page, then a row of ◀ ▶ and `extra`.
fn paged(
    entries: Vec<Button>,
    page: usize,
    to: impl Fn(usize) -> Press,
    extra: Vec<Button>,
) -> (Vec<Vec<Button>>, usize) {
    let pages = entries.len().div_ceil(PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let mut rows: Vec<Vec<Button>> =
        entries.into_iter().skip(page * PER_PAGE).take(PER_PAGE).map(|b| vec![b]).collect();
    let mut nav = Vec::new();
    if page > 0 {
        nav.push(button("◀ Previous", &to(page - 1)));
    }
    if page + 1 < pages {
        nav.push(button("Next ▶", &to(page + 1)));
    }
    rows.push(nav);
    rows.push(extra);
    (rows, page)
}

fn page_note(page: usize, count: usize) -> String {
    let pages = count.div_ceil(PER_PAGE).max(1);
    if pages > 1 { format!(" (page {} of {pages})", page + 1) } else { String::new() }
}

/// The list of plugins with views or actions.
pub(crate) fn home(plugins: &[PanelPlugin], page: usize) -> Screen {
    if plugins.is_empty() {
        return Screen { text: "<b>Admin</b>\nNo plugin offers admin views or actions.".into(), keyboard: None };
    }
    let entries = plugins
        .iter()
        .map(|p| {
            let label = if p.disabled { format!("⛔ {} (disabled)", p.plugin) } else { p.plugin.clone() };
            button(label, &Press::Plugin(p.plugin.clone(), 0))
        })
        .collect();
    let (rows, page) = paged(entries, page, Press::Home, Vec::new());
    Screen {
        text: format!("<b>Admin</b>{}\nChoose a plugin.", page_note(page, plugins.len())),
        keyboard: keyboard(rows),
    }
}

/// A plugin's views (👁) and actions (⚙).
pub(crate) fn plugin(p: &PanelPlugin, page: usize) -> Screen {
    let views = p.spec.views.iter().enumerate().map(|(i, v)| (Kind::View, i, v));
    let actions = p.spec.actions.iter().enumerate().map(|(i, a)| (Kind::Action, i, a));
    let entries: Vec<Button> = views
        .chain(actions)
        .map(|(kind, i, item)| {
            let icon = if kind == Kind::View { "👁" } else { "⚙" };
            button(format!("{icon} {}", item.title), &Press::Start(kind, p.plugin.clone(), i))
        })
        .collect();
    let count = entries.len();
    let name = p.plugin.clone();
    let back = vec![button("⬅ Back", &Press::Home(0))];
    let (rows, page) = paged(entries, page, move |n| Press::Plugin(name.clone(), n), back);
    let state = if p.disabled { " — ⛔ disabled" } else { "" };
    Screen {
        text: format!(
            "<b>{}</b> {}{state}{}\n👁 views show, ⚙ actions change.",
            escape(&p.plugin),
            escape(&p.version),
            page_note(page, count)
        ),
        keyboard: keyboard(rows),
    }
}

fn heading(c: &Conv, it: &Item) -> String {
    format!("<b>{} · {}</b>", escape(&c.plugin), escape(&it.title))
}

/// What a parameter takes, in words.
pub(crate) fn takes(kind: &ParamKind) -> String {
    match kind {
        ParamKind::Text => "one line of text".into(),
        ParamKind::Integer => "a whole number".into(),
        ParamKind::Amount(0) => "an amount, e.g. 12".into(),
        ParamKind::Amount(d) => format!("an amount, e.g. 12.{}", "5".repeat(usize::from(*d))),
        ParamKind::Date => "a date, YYYY-MM-DD".into(),
        ParamKind::Choice(list) => format!("one of: {}", list.join(", ")),
        ParamKind::UserId => "a Telegram user id".into(),
        ParamKind::Ids => "ids separated by commas".into(),
    }
}

/// Ask the conversation's current parameter (with the complaint about the last answer).
pub(crate) fn ask(c: &Conv, it: &Item, index: usize, spec: &ParamSpec, error: Option<&str>) -> Screen {
    let mut text = heading(c, it);
    if let Some(e) = error {
        text.push_str(&format!("\n⚠️ {}", escape(e)));
    }
    text.push_str(&format!(
        "\n\n({}/{}) Send the {} ({}).",
        index + 1,
        it.params.len(),
        escape(&spec.title),
        escape(&takes(&spec.kind))
    ));
    if !spec.help.is_empty() {
        text.push_str(&format!("\n<i>{}</i>", escape(&spec.help)));
    }
    text.push_str("\n/cancel stops.");
    let mut rows: Vec<Vec<Button>> = Vec::new();
    if let ParamKind::Choice(list) = &spec.kind {
        rows.extend(list.iter().enumerate().map(|(i, v)| vec![button(v.clone(), &Press::Choice(c.nonce.clone(), i))]));
    }
    let mut last = Vec::new();
    if !spec.required {
        last.push(button("Skip ⏭", &Press::Skip(c.nonce.clone())));
    }
    last.push(button("✖ Cancel", &Press::No(c.nonce.clone())));
    rows.push(last);
    Screen { text, keyboard: keyboard(rows) }
}

/// The answers so far, one `Title: value` line each.
fn answers(it: &Item, c: &Conv) -> String {
    let mut s = String::new();
    for spec in &it.params {
        let given: Vec<&str> = c.answers.iter().filter(|(n, _)| *n == spec.name).map(|(_, v)| v.as_str()).collect();
        let shown = if given.is_empty() { "—".to_owned() } else { given.join(", ") };
        s.push_str(&format!("\n{}: {}", escape(&spec.title), escape(&clip(&shown, 200))));
    }
    s
}

/// Ask to confirm the action, showing its parameters.
pub(crate) fn confirm(c: &Conv, it: &Item) -> Screen {
    let mut text = format!("{}\nRun it?", heading(c, it));
    if !it.description.is_empty() {
        text.push_str(&format!("\n<i>{}</i>", escape(&it.description)));
    }
    text.push_str(&answers(it, c));
    let rows = vec![vec![button("✅ Yes", &Press::Yes(c.nonce.clone())), button("✖ No", &Press::No(c.nonce.clone()))]];
    Screen { text, keyboard: keyboard(rows) }
}

/// The action is queued; its reply comes as a message of its own.
pub(crate) fn queued(c: &Conv, it: &Item) -> Screen {
    let text = format!("{}\n⏳ Queued. The result follows in a new message.{}", heading(c, it), answers(it, c));
    let rows = vec![vec![button("⬅ Back", &Press::Plugin(c.plugin.clone(), 0))]];
    Screen { text, keyboard: keyboard(rows) }
}

/// A view's output (or why it did not run), with Next page and Back.
pub(crate) fn view(c: &Conv, it: &Item, result: &Result<Output, PanelError>) -> Screen {
    let head = heading(c, it);
    let mut rows = Vec::new();
    let text = match result {
        Ok(out) => {
            if out.next_page.is_some() {
                rows.push(vec![button("Next page ▶", &Press::More(c.nonce.clone()))]);
            }
            let body = render::text(&Output { blocks: out.blocks.clone(), next_page: None });
            pre(&head, body.trim_end())
        }
        Err(e) => format!("{head}\n⚠️ {}", escape(&clip(&e.to_string(), 1000))),
    };
    rows.push(vec![button("⬅ Back", &Press::Plugin(c.plugin.clone(), 0))]);
    Screen { text, keyboard: keyboard(rows) }
}

/// `head` and `body` in a `<pre>` block, the body clipped (whole characters, escaped)
/// so the text stays within [`MAX_TEXT`], with a note when it was.
pub(crate) fn pre(head: &str, body: &str) -> String {
    const NOTE: &str =
        "\n… (clipped: Telegram shows at most 4096 characters; use wharf admin or the dashboard for all)";
    let room = MAX_TEXT - utf16(head) - utf16("\n<pre></pre>") - utf16(NOTE);
    let mut out = String::new();
    let mut used = 0;
    let mut clipped = false;
    for ch in body.chars() {
        let piece = escape(ch.encode_utf8(&mut [0; 4]));
        let n = utf16(&piece);
        if used + n > room {
            clipped = true;
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    if body.is_empty() {
        out.push_str("(nothing to show)");
    }
    format!("{head}\n<pre>{out}</pre>{}", if clipped { NOTE } else { "" })
}

fn utf16(s: &str) -> usize {
    s.encode_utf16().count()
}

fn clip(s: &str, max: usize) -> String {
    super::super::turn::clip(s, max)
}

/// Plain text as a screen (escaped).
pub(crate) fn say(text: &str) -> Screen {
    Screen { text: escape(text), keyboard: None }
}
