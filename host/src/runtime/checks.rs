//! Checks of a whole plugin set against the config, which no single plugin's load can
//! make, so an operator is never left with a silent misconfiguration:
//!
//! - a `[bot.start]` button running a command no plugin declares is an error (the
//!   button would do nothing);
//! - two plugins declaring the same command: a warning naming the one that gets it (the
//!   first in run order; the other never sees it as its own);
//! - a `[plugins.X]` table whose module calls itself Y: a warning (logs and notices name
//!   the table, the module's author names the other).

use super::plugin::PluginSet;
use crate::config::BotConfig;

/// What a set check found.
#[derive(Debug, Default)]
pub struct SetReport {
    /// Problems that stop the bot from starting.
    pub errors: Vec<String>,
    /// Problems worth knowing about; the bot runs.
    pub warnings: Vec<String>,
}

pub(crate) fn check(bot: &BotConfig, set: &PluginSet) -> SetReport {
    let mut report = SetReport::default();
    for p in &set.plugins {
        if p.manifest.name != p.name().as_str() {
            report.warnings.push(format!(
                "[plugins.{}] loads a module that calls itself {:?}: it is known as {} here (logs, notices, grants)",
                p.name(),
                p.manifest.name,
                p.name()
            ));
        }
    }
    let mut owners: Vec<(&str, &str)> = Vec::new();
    for p in &set.plugins {
        for c in &p.manifest.commands {
            match owners.iter().find(|(name, _)| *name == c.name) {
                Some((_, first)) => report.warnings.push(format!(
                    "/{} is declared by plugins {first} and {}: {first} runs first and owns it (its admin-only \
                     flag, the menu and /help use its declaration)",
                    c.name,
                    p.name()
                )),
                None => owners.push((&c.name, p.name().as_str())),
            }
        }
    }
    for b in bot.start.iter().flat_map(|s| s.buttons.iter().flatten()) {
        if !owners.iter().any(|(name, _)| *name == b.command) {
            report
                .errors
                .push(format!("[bot.start] button {:?} runs /{}, which no enabled plugin declares", b.text, b.command));
        }
    }
    report
}
