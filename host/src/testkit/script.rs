//! Conversation scripts: what is typed into `wharf chat` and what it should print back.
//!
//! ```text
//! # The greeter counts visits (lines starting with # are comments).
//! > /hello
//! bot: Hello! This is visit 1.
//!      [1] Again
//! > 1
//! bot (popup): Type /hello again!
//! ```
//!
//! A line starting with `>` is typed (everything `wharf chat` understands: text,
//! `/commands`, a button's number, `/as ID`, `/admin`, `/upload PATH [caption]` with PATH
//! relative to the script). The lines after it, up to the next `>`, are what the chat
//! must print in answer, in order and nothing else; spaces around a line do not count,
//! and `{*}` in an expected line matches any text.

use std::path::{Path, PathBuf};

/// A malformed script.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The script's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Expected output before anything was typed.
    #[error("line {line}: expected output before the first `> ` input line")]
    OutputFirst {
        /// Line number (from 1).
        line: usize,
    },
    /// No input at all.
    #[error("the script types nothing: add `> TEXT` lines")]
    Empty,
}

/// One input line and the output expected after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Line number of the input in the script (from 1).
    pub line: usize,
    /// What is typed.
    pub input: String,
    /// What the chat must print in answer, trimmed.
    pub expect: Vec<String>,
}

/// A parsed conversation script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Where it came from (for reports and `/upload` paths); empty for a string.
    pub path: PathBuf,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// Parse `text`; `/upload` paths are taken relative to `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<Self, ScriptError> {
        let mut steps: Vec<Step> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(input) = line.strip_prefix('>') {
                steps.push(Step { line: i + 1, input: upload_relative(input.trim(), dir), expect: Vec::new() });
            } else {
                let Some(step) = steps.last_mut() else { return Err(ScriptError::OutputFirst { line: i + 1 }) };
                step.expect.push(line.to_owned());
            }
        }
        if steps.is_empty() {
            return Err(ScriptError::Empty);
        }
        Ok(Self { path: PathBuf::new(), steps })
    }

    /// Read and parse the script at `path`.
    pub fn load(path: &Path) -> Result<Self, ScriptError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ScriptError::Read { path: path.to_owned(), source })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut script = Self::parse(&text, dir)?;
        script.path = path.to_owned();
        Ok(script)
    }
}

/// `/upload PATH …` with a relative PATH made relative to `dir`.
fn upload_relative(input: &str, dir: &Path) -> String {
    let Some(rest) = input.strip_prefix("/upload ") else { return input.to_owned() };
    let rest = rest.trim_start();
    let (path, caption) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if Path::new(path).is_absolute() || dir.as_os_str().is_empty() {
        return input.to_owned();
    }
    let full = dir.join(path);
    format!("/upload {} {caption}", full.display()).trim_end().to_owned()
}

/// Whether `actual` matches the expected line `pattern` (`{*}` matches any text).
pub fn line_matches(pattern: &str, actual: &str) -> bool {
    let parts: Vec<&str> = pattern.split("{*}").collect();
    let [first, middle @ .., last] = parts.as_slice() else { return pattern == actual };
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_steps_and_comments() {
        let s = Script::parse(
            "# hi\n> /start\nbot: Hello\n   [1] Ping  \n\n> 1\n> /upload a.txt /import\n",
            Path::new("d"),
        )
        .unwrap();
        assert_eq!(s.steps.len(), 3);
        assert_eq!(
            s.steps[0],
            Step { line: 2, input: "/start".into(), expect: vec!["bot: Hello".into(), "[1] Ping".into()] }
        );
        assert!(s.steps[1].expect.is_empty());
        assert_eq!(s.steps[2].input, format!("/upload {} /import", Path::new("d/a.txt").display()));
        assert!(matches!(Script::parse("bot: first\n> x", Path::new("")), Err(ScriptError::OutputFirst { line: 1 })));
        assert!(matches!(Script::parse("# nothing\n", Path::new("")), Err(ScriptError::Empty)));
    }

    #[test]
    fn wildcards() {
        assert!(line_matches("bot: order #{*} paid", "bot: order #42 paid"));
        assert!(line_matches("{*}", "anything"));
        assert!(line_matches("a{*}b{*}c", "a1b2c"));
        assert!(!line_matches("a{*}b", "a1c"));
        assert!(!line_matches("ab{*}ba", "aba"));
        assert!(line_matches("exact", "exact") && !line_matches("exact", "exact!"));
    }
}
