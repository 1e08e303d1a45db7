//! A builder for the manifest returned by `describe`.

use crate::{CommandSpec, Manifest, SettingSpec};

/// Builder methods for [`Manifest`].
pub trait ManifestExt: Sized {
    /// A manifest with a name and version and nothing else.
    fn new(name: &str, version: &str) -> Self;
    /// Add a command anyone may use.
    fn command(self, name: &str, description: &str) -> Self;
    /// Add a command only admins may use.
    fn admin_command(self, name: &str, description: &str) -> Self;
    /// Own callback data starting with `prefix`.
    fn callback_prefix(self, prefix: &str) -> Self;
    /// Subscribe to a custom event topic.
    fn topic(self, topic: &str) -> Self;
    /// Document a setting.
    fn setting(self, name: &str, description: &str, required: bool) -> Self;
}

impl ManifestExt for Manifest {
    fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            commands: Vec::new(),
            callback_prefix: None,
            topics: Vec::new(),
            settings: Vec::new(),
        }
    }

    fn command(mut self, name: &str, description: &str) -> Self {
        self.commands.push(CommandSpec { name: name.into(), description: description.into(), admin_only: false });
        self
    }

    fn admin_command(mut self, name: &str, description: &str) -> Self {
        self.commands.push(CommandSpec { name: name.into(), description: description.into(), admin_only: true });
        self
    }

    fn callback_prefix(mut self, prefix: &str) -> Self {
        self.callback_prefix = Some(prefix.into());
        self
    }

    fn topic(mut self, topic: &str) -> Self {
        self.topics.push(topic.into());
        self
    }

    fn setting(mut self, name: &str, description: &str, required: bool) -> Self {
        self.settings.push(SettingSpec { name: name.into(), description: description.into(), required });
        self
    }
}
