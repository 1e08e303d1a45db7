//! Unit tests of the `/admin` menu's state machine (`state::step`) and its screens.

use super::*;
use crate::panel::{PanelSpec, ParamSpec};
use crate::runtime::menu::screens;

const ADMIN: i64 = 1000;
const NOW: i64 = 1_700_000_000_000;

fn param(name: &str, kind: ParamKind, required: bool) -> ParamSpec {
    ParamSpec { name: name.into(), title: format!("The {name}"), kind, required, help: String::new() }
}

fn it(name: &str, params: Vec<ParamSpec>) -> Item {
    Item { name: name.into(), title: format!("{name} title"), description: String::new(), params }
}

/// A shop with a view (city: choice, required; note: optional text) and an action
/// (percent: integer, required), and a plugin without parameters.
fn plugins() -> Vec<PanelPlugin> {
    let city = param("city", ParamKind::Choice(vec!["Warsaw".into(), "Krakow".into()]), true);
    vec![
        PanelPlugin {
            plugin: "shop".into(),
            version: "1.0".into(),
            disabled: false,
            spec: PanelSpec {
                views: vec![it("products", vec![city, param("note", ParamKind::Text, false)])],
                actions: vec![it("discount", vec![param("percent", ParamKind::Integer, true)])],
            },
        },
        PanelPlugin {
            plugin: "gate".into(),
            version: "2.0".into(),
            disabled: false,
            spec: PanelSpec { views: vec![it("status", vec![])], actions: vec![it("flush", vec![])] },
        },
    ]
}

/// A counter for nonces and request ids: n1, n2, …
fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("n{n}")
    }
}

fn run(conv: Option<Conv>, input: Input, fresh: &mut dyn FnMut() -> String) -> Step {
    step(&plugins(), conv, ADMIN, input, NOW, fresh)
}

fn stored(s: &Step) -> Conv {
    match &s.conv {
        Change::Set(c) => c.clone(),
        other => panic!("expected a stored conversation, got {other:?}"),
    }
}

#[test]
fn open_shows_the_plugins_and_ends_a_conversation() {
    let mut f = ids();
    let s = run(None, Input::Open, &mut f);
    assert_eq!((s.next, s.conv), (Next::Home(0), Change::Keep));
    let asking = stored(&run(None, Input::Press(Press::Start(Kind::View, "shop".into(), 0)), &mut f));
    let s = run(Some(asking), Input::Open, &mut f);
    assert_eq!((s.next, s.conv), (Next::Home(0), Change::Clear));
}

#[test]
fn a_view_asks_its_parameters_one_by_one_then_runs() {
    let mut f = ids();
    let s = run(None, Input::Press(Press::Start(Kind::View, "shop".into(), 0)), &mut f);
    let c = stored(&s);
    assert_eq!(s.next, Next::Ask(c.clone(), None));
    assert_eq!((c.stage.clone(), c.nonce.as_str(), c.expires_ms), (Stage::Asking(0), "n1", NOW + TTL_MS));
    // A typed value that is not a choice is refused, and asked again.
    let s = run(Some(c.clone()), Input::Text("Paris".into()), &mut f);
    let again = stored(&s);
    assert!(matches!(&s.next, Next::Ask(_, Some(e)) if e.contains("one of: Warsaw, Krakow")), "{:?}", s.next);
    assert_eq!(again.stage, Stage::Asking(0));
    // The choice button answers it; the optional note is skipped.
    let s = run(Some(again), Input::Press(Press::Choice("n1".into(), 1)), &mut f);
    let c = stored(&s);
    assert_eq!((c.stage.clone(), c.answers.clone()), (Stage::Asking(1), vec![("city".into(), "Krakow".into())]));
    let s = run(Some(c), Input::Press(Press::Skip("n1".into())), &mut f);
    let c = stored(&s);
    assert_eq!(c.stage, Stage::Viewing(None));
    assert_eq!(s.next, Next::RunView(c, None));
}

#[test]
fn a_required_parameter_cannot_be_skipped_and_a_stale_button_does_nothing() {
    let mut f = ids();
    let c = stored(&run(None, Input::Press(Press::Start(Kind::View, "shop".into(), 0)), &mut f));
    let s = run(Some(c.clone()), Input::Press(Press::Skip("n1".into())), &mut f);
    assert!(matches!(&s.next, Next::Ask(_, Some(e)) if e.contains("required")), "{:?}", s.next);
    // Another conversation's buttons (or none at all) are stale.
    for conv in [Some(c.clone()), None] {
        for press in [Press::Skip("old".into()), Press::Choice("old".into(), 0), Press::More("old".into())] {
            let s = run(conv.clone(), Input::Press(press), &mut f);
            assert_eq!((s.next, s.conv, s.toast.as_deref()), (Next::Nothing, Change::Keep, Some(STALE)));
        }
    }
    // A choice index that does not exist is stale too.
    let s = run(Some(c), Input::Press(Press::Choice("n1".into(), 7)), &mut f);
    assert_eq!(s.next, Next::Nothing);
}

#[test]
fn an_action_is_confirmed_then_queued_once_under_its_request_id() {
    let mut f = ids();
    let c = stored(&run(None, Input::Press(Press::Start(Kind::Action, "shop".into(), 0)), &mut f));
    let s = run(Some(c), Input::Text("x".into()), &mut f);
    assert!(matches!(&s.next, Next::Ask(_, Some(e)) if e.contains("whole number")), "{:?}", s.next);
    let s = run(Some(stored(&s)), Input::Text(" 30 ".into()), &mut f);
    let c = stored(&s);
    assert_eq!(c.stage, Stage::Confirm("n2".into()));
    assert_eq!(s.next, Next::Confirm(c.clone()));
    let s = run(Some(c.clone()), Input::Press(Press::Yes("n1".into())), &mut f);
    assert_eq!((s.next, s.conv), (Next::Queue(c, "n2".into()), Change::Clear));
    // The second press finds no conversation: nothing is queued again.
    let s = run(None, Input::Press(Press::Yes("n1".into())), &mut f);
    assert_eq!(s.next, Next::Nothing);
    assert!(s.toast.is_some_and(|t| t.contains("Already done")));
}

#[test]
fn no_cancels_and_goes_back_to_the_plugin() {
    let mut f = ids();
    let c = stored(&run(None, Input::Press(Press::Start(Kind::Action, "gate".into(), 0)), &mut f));
    assert_eq!(c.stage, Stage::Confirm("n2".into()), "no parameters: straight to the confirmation");
    let s = run(Some(c), Input::Press(Press::No("n1".into())), &mut f);
    assert_eq!((s.next, s.conv), (Next::Plugin("gate".into(), 0), Change::Clear));
    let s = run(None, Input::Cancel, &mut f);
    assert_eq!((s.next, s.conv), (Next::Say("Cancelled.".into()), Change::Clear));
}

#[test]
fn text_outside_a_question_is_not_the_menus() {
    let mut f = ids();
    let c = stored(&run(None, Input::Press(Press::Start(Kind::View, "gate".into(), 0)), &mut f));
    assert_eq!(c.stage, Stage::Viewing(None));
    assert!(!c.asking());
    let s = run(Some(c), Input::Text("hello".into()), &mut f);
    assert_eq!((s.next, s.conv), (Next::Nothing, Change::Keep));
}

#[test]
fn next_page_runs_the_view_at_the_stored_cursor() {
    let mut f = ids();
    let mut c = stored(&run(None, Input::Press(Press::Start(Kind::View, "gate".into(), 0)), &mut f));
    let s = run(Some(c.clone()), Input::Press(Press::More("n1".into())), &mut f);
    assert_eq!(s.next, Next::Nothing, "no next page");
    c.stage = Stage::Viewing(Some("cursor-2".into()));
    let s = run(Some(c.clone()), Input::Press(Press::More("n1".into())), &mut f);
    assert_eq!(s.next, Next::RunView(c, Some("cursor-2".into())));
}

#[test]
fn vanished_plugins_and_items_go_back_home() {
    let mut f = ids();
    let s = run(None, Input::Press(Press::Plugin("gone".into(), 0)), &mut f);
    assert_eq!(s.next, Next::Home(0));
    let s = run(None, Input::Press(Press::Start(Kind::View, "shop".into(), 5)), &mut f);
    assert_eq!((s.next, s.toast.as_deref()), (Next::Home(0), Some(STALE)));
}

#[test]
fn lists_page_by_eight_with_back_buttons() {
    let many: Vec<PanelPlugin> = (0..11)
        .map(|i| PanelPlugin {
            plugin: format!("p{i}"),
            version: "1".into(),
            disabled: i == 3,
            spec: PanelSpec { views: (0..9).map(|v| it(&format!("v{v}"), vec![])).collect(), actions: vec![] },
        })
        .collect();
    let labels = |s: &screens::Screen| -> Vec<(String, String)> {
        s.keyboard
            .iter()
            .flat_map(|k| k.inline_keyboard.iter().flatten())
            .map(|b| match &b.action {
                crate::telegram::outbox_call::ButtonAction::Callback(d) => (b.text.clone(), d.clone()),
                crate::telegram::outbox_call::ButtonAction::Url(u) => (b.text.clone(), u.clone()),
            })
            .collect()
    };
    let first = labels(&screens::home(&many, 0));
    assert_eq!(first.len(), 9, "{first:?}");
    assert!(first.iter().any(|(t, _)| t.contains("p3") && t.contains("disabled")));
    assert_eq!(first[8], ("Next ▶".into(), "wharf:m:h:1".into()));
    let second = labels(&screens::home(&many, 1));
    assert_eq!(second.len(), 4, "{second:?}");
    assert_eq!(second[3], ("◀ Previous".into(), "wharf:m:h:0".into()));
    // A page past the end shows the last one.
    assert_eq!(labels(&screens::home(&many, 99)), second);
    let items = labels(&screens::plugin(&many[0], 1));
    assert_eq!(items[0], ("👁 v8 title".into(), "wharf:m:v:p0:8".into()));
    assert_eq!(items.last().cloned(), Some(("⬅ Back".into(), "wharf:m:h:0".into())));
}

#[test]
fn screens_escape_plugin_text_and_clip_long_output() {
    let mut f = ids();
    let mut ps = plugins();
    ps[1].spec.views[0].title = "<b>x</b> & co".into();
    let c = stored(&step(&ps, None, ADMIN, Input::Press(Press::Start(Kind::View, "gate".into(), 0)), NOW, &mut f));
    let rows =
        (0..500).map(|i| crate::panel::Row { id: None, cells: vec![format!("<row {i}> & more text here")] }).collect();
    let out = crate::panel::Output {
        blocks: vec![crate::panel::Block::Table(crate::panel::Table {
            columns: vec!["c".into()],
            rows,
            actions: vec![],
        })],
        next_page: Some("2".into()),
    };
    let screen = screens::view(&c, &ps[1].spec.views[0], &Ok(out));
    assert!(screen.text.starts_with("<b>gate · &lt;b&gt;x&lt;/b&gt; &amp; co</b>\n<pre>"), "{}", &screen.text[..80]);
    assert!(screen.text.encode_utf16().count() <= 4096);
    assert!(screen.text.contains("</pre>\n… (clipped"), "the note follows the block");
    assert!(!screen.text.contains("<row"), "cells are escaped");
    assert!(valid_html(&screen.text), "valid Telegram HTML");
    let buttons: Vec<String> =
        screen.keyboard.iter().flat_map(|k| k.inline_keyboard.iter().flatten()).map(|b| b.text.clone()).collect();
    assert_eq!(buttons, ["Next page ▶", "⬅ Back"]);
}

#[test]
fn the_question_names_the_kind_and_offers_choices_skip_and_cancel() {
    let mut f = ids();
    let c = stored(&run(None, Input::Press(Press::Start(Kind::View, "shop".into(), 0)), &mut f));
    let ps = plugins();
    let item = &ps[0].spec.views[0];
    let s = screens::ask(&c, item, 0, &item.params[0], None);
    assert!(s.text.contains("(1/2) Send the The city (one of: Warsaw, Krakow)."), "{}", s.text);
    let datas: Vec<String> = s
        .keyboard
        .iter()
        .flat_map(|k| k.inline_keyboard.iter().flatten())
        .map(|b| format!("{}={:?}", b.text, b.action))
        .collect();
    assert_eq!(datas.len(), 3, "two choices and Cancel (the city is required): {datas:?}");
    let s = screens::ask(&c, item, 1, &item.params[1], Some("bad <value>"));
    assert!(s.text.contains("⚠️ bad &lt;value&gt;"), "{}", s.text);
    assert!(s.keyboard.is_some_and(|k| k.inline_keyboard[0][0].text.starts_with("Skip")));
}

/// Whether the host's own check of plugins' messages accepts `text` as HTML.
fn valid_html(text: &str) -> bool {
    use crate::caps::bindings::wharf::bot::telegram::{Outgoing, ParseMode as Mode};
    let msg = Outgoing { text: text.to_owned(), parse_mode: Mode::Html, keyboard: None, reply_to: None };
    crate::validate::outgoing(&msg, None, crate::validate::MAX_TEXT, false).is_ok()
}
