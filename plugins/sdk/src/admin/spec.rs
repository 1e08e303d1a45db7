//! Builders for [`AdminSpec`]: views and actions with their parameters.

use super::raw;

/// What a plugin offers its admins; converts into the WIT `admin-spec`.
///
/// [`view`](Self::view) and [`action`](Self::action) add an item; [`param`](Self::param),
/// [`describe`](Self::describe) change the item added last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdminSpec {
    /// Read-only reports.
    pub views: Vec<raw::ItemSpec>,
    /// Changes.
    pub actions: Vec<raw::ItemSpec>,
    /// Whether the item added last is an action.
    last_action: bool,
}

impl AdminSpec {
    /// No views, no actions.
    pub fn new() -> Self {
        Self::default()
    }

    fn item(name: &str, title: &str) -> raw::ItemSpec {
        raw::ItemSpec { name: name.into(), title: title.into(), description: String::new(), params: Vec::new() }
    }

    /// Add view `name` (1-32 of `a-z 0-9 _ -`) titled `title`.
    pub fn view(mut self, name: &str, title: &str) -> Self {
        self.views.push(Self::item(name, title));
        self.last_action = false;
        self
    }

    /// Add action `name` titled `title`.
    pub fn action(mut self, name: &str, title: &str) -> Self {
        self.actions.push(Self::item(name, title));
        self.last_action = true;
        self
    }

    fn last(&mut self) -> Option<&mut raw::ItemSpec> {
        if self.last_action { self.actions.last_mut() } else { self.views.last_mut() }
    }

    /// Describe the item added last (at most 512 characters).
    pub fn describe(mut self, description: &str) -> Self {
        if let Some(item) = self.last() {
            item.description = description.into();
        }
        self
    }

    /// Add a parameter to the item added last.
    ///
    /// # Panics
    /// If no view or action was added yet.
    pub fn param(mut self, param: Param) -> Self {
        let Some(item) = self.last() else { panic!("AdminSpec::param before any view or action") };
        item.params.push(param.0);
        self
    }
}

impl From<AdminSpec> for raw::AdminSpec {
    fn from(s: AdminSpec) -> Self {
        Self { views: s.views, actions: s.actions }
    }
}

/// A parameter of a view or an action: optional unless [`required`](Self::required).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param(pub raw::ParamSpec);

impl Param {
    /// A parameter of kind `kind`.
    pub fn new(name: &str, title: &str, kind: raw::ParamKind) -> Self {
        Self(raw::ParamSpec { name: name.into(), title: title.into(), kind, required: false, help: String::new() })
    }

    /// One line of text.
    pub fn text(name: &str, title: &str) -> Self {
        Self::new(name, title, raw::ParamKind::Text)
    }

    /// A whole number.
    pub fn integer(name: &str, title: &str) -> Self {
        Self::new(name, title, raw::ParamKind::Integer)
    }

    /// Money in minor units, typed with `decimals` decimals.
    pub fn amount(name: &str, title: &str, decimals: u8) -> Self {
        Self::new(name, title, raw::ParamKind::Amount(decimals))
    }

    /// A date `YYYY-MM-DD`.
    pub fn date(name: &str, title: &str) -> Self {
        Self::new(name, title, raw::ParamKind::Date)
    }

    /// One of `choices`.
    pub fn choice(name: &str, title: &str, choices: &[&str]) -> Self {
        Self::new(name, title, raw::ParamKind::Choice(choices.iter().map(|c| (*c).to_owned()).collect()))
    }

    /// One of `choices` (owned strings, e.g. read from KV in `spec`).
    pub fn choice_of(name: &str, title: &str, choices: Vec<String>) -> Self {
        Self::new(name, title, raw::ParamKind::Choice(choices))
    }

    /// A Telegram user id.
    pub fn user_id(name: &str, title: &str) -> Self {
        Self::new(name, title, raw::ParamKind::UserId)
    }

    /// A selection of row ids of a table this plugin showed.
    pub fn ids(name: &str, title: &str) -> Self {
        Self::new(name, title, raw::ParamKind::Ids)
    }

    /// The host refuses a request without it.
    pub fn required(mut self) -> Self {
        self.0.required = true;
        self
    }

    /// A hint shown under the field.
    pub fn help(mut self, help: &str) -> Self {
        self.0.help = help.into();
        self
    }
}
