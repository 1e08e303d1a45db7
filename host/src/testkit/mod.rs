//! Component-level tests of plugins: a conversation [`Script`] typed into `wharf chat`
//! (the real runtime, the built `.wasm` plugins, the bundled Bot API emulator) and its
//! answers compared with the script's, step by step. `wharf test` runs scripts from the
//! command line; tests call [`run`].
//!
//! The chat prints what a user would see, so a session tried by hand with `wharf chat`
//! can be pasted into a script as it is (with `> ` before each typed line).

mod feed;
mod script;

use std::fmt;
use std::path::Path;

pub use script::{Script, ScriptError, Step, line_matches};

use crate::config::Config;

/// Running a script failed (as opposed to the conversation going differently).
#[derive(Debug, thiserror::Error)]
#[error("running {script}: {message}")]
pub struct RunError {
    /// The script.
    pub script: String,
    /// What went wrong (the runtime did not start, a plugin did not load, …).
    pub message: String,
}

/// A step whose answer differed from the script's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The step.
    pub step: Step,
    /// What the chat printed in answer, trimmed.
    pub got: Vec<String>,
}

/// How a script went.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The script's path (`(script)` for a script from a string).
    pub script: String,
    /// Steps run.
    pub steps: usize,
    /// Steps whose answers differed.
    pub mismatches: Vec<Mismatch>,
}

impl Outcome {
    /// Every step got the expected answer.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            return write!(f, "PASS {} ({} steps)", self.script, self.steps);
        }
        write!(f, "FAIL {} ({} of {} steps differ)", self.script, self.mismatches.len(), self.steps)?;
        for m in &self.mismatches {
            write!(f, "\n  line {}: > {}\n    expected:", m.step.line, m.step.input)?;
            for line in &m.step.expect {
                write!(f, "\n      {line}")?;
            }
            if m.step.expect.is_empty() {
                write!(f, "\n      (nothing)")?;
            }
            write!(f, "\n    got:")?;
            for line in &m.got {
                write!(f, "\n      {line}")?;
            }
            if m.got.is_empty() {
                write!(f, "\n      (nothing)")?;
            }
        }
        Ok(())
    }
}

/// Point `config` at a fresh SQLite database in `dir` and stop watching plugin files,
/// so that a script starts from an empty bot.
pub fn isolate(config: &mut Config, dir: &Path) {
    config.storage.url = format!("sqlite:{}", dir.join("wharf.db").display());
    config.runtime.watch = false;
}

/// Run `script` against the bot `config` describes (see [`isolate`] for a fresh one):
/// type each step's input into `wharf chat` and compare what it prints in answer.
pub async fn run(config: &Config, script: &Script) -> Result<Outcome, RunError> {
    let name =
        if script.path.as_os_str().is_empty() { "(script)".to_owned() } else { script.path.display().to_string() };
    let inputs: Vec<String> = script.steps.iter().map(|s| s.input.clone()).collect();
    let (input, output) = feed::Feed::new(&inputs);
    crate::chat::run(config, input, output.clone())
        .await
        .map_err(|e| RunError { script: name.clone(), message: format!("{e:#}") })?;
    let answers = output.answers();
    let mut mismatches = Vec::new();
    for (i, step) in script.steps.iter().enumerate() {
        let got: Vec<String> = answers.get(i).cloned().unwrap_or_default();
        let same = got.len() == step.expect.len() && step.expect.iter().zip(&got).all(|(e, g)| line_matches(e, g));
        if !same {
            mismatches.push(Mismatch { step: step.clone(), got });
        }
    }
    Ok(Outcome { script: name, steps: script.steps.len(), mismatches })
}
