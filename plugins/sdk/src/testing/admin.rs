//! Admin views and actions on the fake host: [`Harness::view`] runs a view read-only
//! (every write is `access-denied`, as on the host), [`Harness::act`] runs an action as a
//! turn (its effects kept on `Ok`, dropped on `Err` or a panic).

use super::harness::{Harness, Rollback};
use super::state::{Installed, Turn};
use crate::admin::{Admin, AdminError, AdminSpec, Output, Params, Value};
use crate::{Context, Plugin};

impl<P: Plugin + Admin> Harness<P> {
    /// The plugin's admin spec, as `spec()` returns it.
    pub fn admin_spec(&self) -> AdminSpec {
        let _on = Installed::new(&self.state);
        self.state.borrow_mut().in_describe = true;
        let spec = P::spec();
        self.state.borrow_mut().in_describe = false;
        spec
    }

    /// The context of an admin call: no chat, `is_admin`, the user the first of
    /// [`Harness::with_admins`] (none without admins, as for `wharf admin`).
    fn admin_context(&mut self) -> Context {
        self.turn_id += 1;
        let s = self.state.borrow();
        Context {
            chat_id: None,
            user_id: s.admins.first().copied(),
            is_admin: true,
            language: None,
            now_ms: s.now_ms,
            turn_id: self.turn_id,
        }
    }

    /// Show view `name` with `params` (e.g. `[("city", Value::Choice("Warsaw".into()))]`)
    /// and page cursor `page`, read-only as on the host: every write (KV, messages,
    /// events, timers, business events, HTTP) is `access-denied`, and nothing the view
    /// did is kept, whatever it returns.
    ///
    /// # Panics
    /// If `name` is not a view of the spec (the host would not call it).
    pub fn view<'a>(
        &mut self,
        name: &str,
        params: impl IntoIterator<Item = (&'a str, Value)>,
        page: Option<&str>,
    ) -> Result<Output, AdminError> {
        let spec = self.admin_spec();
        assert!(spec.views.iter().any(|v| v.name == name), "the spec has no view {name:?}");
        let params: Params = params.into_iter().collect();
        let ctx = self.admin_context();
        self.state.borrow_mut().turn = Turn { read_only: true, ..Turn::default() };
        let before = self.state.borrow().fx.clone();
        let rollback = Rollback { state: &self.state, before: Some(before) };
        let result = {
            let _on = Installed::new(&self.state);
            P::view(name, &params, page, &ctx)
        };
        // Nothing a view did is kept (its writes were refused anyway).
        rollback.finish(false);
        self.state.borrow_mut().turn = Turn::default();
        result
    }

    /// Run action `name` with `params` as one turn: its effects (KV, messages, events,
    /// timers, business events) are kept when it returns `Ok`, all dropped on `Err` or a
    /// panic. Events it emits on topics the plugin subscribes to are handled next.
    ///
    /// # Panics
    /// If `name` is not an action of the spec.
    pub fn act<'a>(
        &mut self,
        name: &str,
        params: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<Output, AdminError> {
        let spec = self.admin_spec();
        assert!(spec.actions.iter().any(|v| v.name == name), "the spec has no action {name:?}");
        let params: Params = params.into_iter().collect();
        let ctx = self.admin_context();
        self.state.borrow_mut().turn = Turn::default();
        let before = self.state.borrow().fx.clone();
        let emitted_before = before.emitted.len();
        let rollback = Rollback { state: &self.state, before: Some(before) };
        let result = {
            let _on = Installed::new(&self.state);
            P::act(name, &params, &ctx)
        };
        rollback.finish(result.is_ok());
        if result.is_ok() {
            self.deliver_emitted(emitted_before, 0, 0);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use crate::admin::{Admin, AdminError, AdminSpec, Output, Param, Params, Value};
    use crate::testing::Harness;
    use crate::{Context, kv, log, prelude::*, telegram};

    /// Notes in KV: view `notes` (tries a write when `probe` is set), action `add`
    /// (fails after writing when the text is `fail`), action `tell` (messages the admin).
    struct Notes;

    impl Plugin for Notes {
        fn describe() -> Manifest {
            Manifest::new("notes", "1.0.0")
        }

        fn handle(_event: Event, _ctx: Context) -> Result<Flow, HandlerError> {
            Ok(Flow::Continue)
        }
    }

    impl Admin for Notes {
        fn spec() -> AdminSpec {
            AdminSpec::new()
                .view("notes", "Notes")
                .param(Param::text("probe", "Probe"))
                .action("add", "Add")
                .param(Param::text("text", "Text").required())
                .action("tell", "Tell me")
        }

        fn view(_name: &str, params: &Params, _page: Option<&str>, _ctx: &Context) -> Result<Output, AdminError> {
            let mut out = Output::table(["Note"]);
            for key in kv::keys("note:")? {
                let text: String = kv::get(&key)?.unwrap_or_default();
                out = out.row(key, [text]);
            }
            if params.text("probe").is_some() {
                let refused = kv::set("probe", &1).is_err()
                    && telegram::send_text(1, "x").is_err()
                    && log::Event::new("notes.probe").title("Probe").record().is_err();
                out = out.and(Output::key_values([("write refused", if refused { "yes" } else { "no" })]));
            }
            Ok(out)
        }

        fn act(name: &str, params: &Params, ctx: &Context) -> Result<Output, AdminError> {
            if name == "tell" {
                let admin = ctx.user_id.ok_or_else(|| AdminError::AccessDenied("no admin id".into()))?;
                telegram::send_text(admin, "hello admin")?;
                return Ok(Output::text("told"));
            }
            let text = params.required_text("text")?;
            let n = kv::increment("count", 1)?;
            kv::set(&format!("note:{n:04}"), text)?;
            if text == "fail" {
                return Err(AdminError::Other("failed after a write".into()));
            }
            Ok(Output::text(format!("note {n}")))
        }
    }

    fn text(t: &str) -> [(&'static str, Value); 1] {
        [("text", Value::Text(t.into()))]
    }

    #[test]
    fn an_action_commits_and_a_view_shows_it() {
        let mut bot = Harness::<Notes>::new();
        assert_eq!(bot.act("add", text("milk")).unwrap().texts(), ["note 1"]);
        let out = bot.view("notes", [], None).unwrap();
        assert_eq!(out.rows().len(), 1);
        assert_eq!(out.rows()[0].id.as_deref(), Some("note:0001"));
        assert_eq!(out.rows()[0].cells, ["milk"]);
    }

    #[test]
    fn a_failed_action_keeps_nothing() {
        let mut bot = Harness::<Notes>::new();
        let err = bot.act("add", text("fail")).unwrap_err();
        assert!(matches!(err, AdminError::Other(_)));
        assert_eq!(bot.kv::<i64>("count"), None);
        assert!(bot.view("notes", [], None).unwrap().rows().is_empty());
    }

    #[test]
    fn a_view_is_read_only() {
        let mut bot = Harness::<Notes>::new();
        let out = bot.view("notes", [("probe", Value::Text("y".into()))], None).unwrap();
        assert_eq!(out.value("write refused"), Some("yes"));
        assert_eq!(bot.kv::<i64>("probe"), None);
        assert!(bot.texts(1).is_empty());
        // An action afterwards writes again.
        bot.act("add", text("x")).unwrap();
        assert_eq!(bot.kv::<i64>("count"), Some(1));
    }

    #[test]
    fn an_action_runs_as_the_first_admin() {
        let mut bot = Harness::<Notes>::new().with_admins(&[77]);
        bot.act("tell", []).unwrap();
        assert_eq!(bot.texts(77), ["hello admin"]);
        let mut anonymous = Harness::<Notes>::new();
        assert!(matches!(anonymous.act("tell", []), Err(AdminError::AccessDenied(_))));
    }

    #[test]
    fn the_spec_builds_items_with_params_in_order() {
        let spec: crate::admin::raw::AdminSpec = Notes::spec().into();
        assert_eq!(spec.views.len(), 1);
        let names: Vec<_> = spec.actions.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["add", "tell"]);
        assert!(spec.actions[0].params[0].required);
        assert!(spec.actions[1].params.is_empty());
    }

    #[test]
    fn params_are_typed() {
        let p: Params = [
            ("t", Value::Text("  ".into())),
            ("c", Value::Choice("Warsaw".into())),
            ("n", Value::Integer(5)),
            ("a", Value::Amount(1250)),
            ("d", Value::Date("2026-12-01".into())),
            ("u", Value::UserId(42)),
            ("i", Value::Ids(vec!["a".into(), "b".into()])),
        ]
        .into_iter()
        .collect();
        assert_eq!(p.text("t"), None, "blank text is absent");
        assert_eq!(p.text("c"), Some("Warsaw"));
        assert_eq!((p.integer("n"), p.amount("a"), p.user_id("u")), (Some(5), Some(1250), Some(42)));
        assert_eq!(p.integer("a"), None, "kinds do not mix");
        assert_eq!(p.date("d"), Some("2026-12-01"));
        assert_eq!(p.date_ms("d").unwrap(), Some(1_796_083_200_000));
        assert_eq!(p.ids("i"), ["a", "b"]);
        assert!(p.ids("zz").is_empty());
        assert!(matches!(p.required_text("t"), Err(AdminError::InvalidInput(_))));
    }

    #[test]
    fn output_builders_fill_the_last_block() {
        let out = Output::text("hi")
            .and(Output::table(["A", "B"]).row("1", ["x", "y"]).plain_row(["t", "u"]).actions(["go"]))
            .and(Output::series("Daily", ["d1", "d2"]).line("users", [1, 2]))
            .next_page("p2");
        assert_eq!(out.blocks.len(), 3);
        assert_eq!(out.rows()[1].id, None);
        let crate::admin::Block::Series(s) = &out.blocks[2] else { panic!("a series") };
        assert_eq!(s.lines[0].values, [1, 2]);
        assert_eq!(out.next_page.as_deref(), Some("p2"));
    }
}
