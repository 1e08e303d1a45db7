//! `wharf new NAME`: a plugin crate outside this repository that builds for
//! `wasm32-wasip2`, has a native test (the SDK's fake host) and a component test (a
//! conversation run by `wharf test`), and a `config.toml` for `wharf chat`.
//!
//! The crate depends on `wharf-sdk` by the absolute path of this clone's
//! `plugins/sdk` (written at scaffold time), and gets the clone's `rust-toolchain.toml`
//! (the same compiler and the wasm target), `rustfmt.toml` and `Cargo.lock` (the
//! dependency versions the SDK is tested with, which also lets it build offline from the
//! local cache).

use std::path::{Path, PathBuf};

use crate::config::PluginName;

/// What to create.
#[derive(Clone, Debug)]
pub struct Options {
    /// Plugin (and crate) name: 1-32 characters of `a-z 0-9 _ -`, starting with a letter.
    pub name: String,
    /// Directory to create (must not exist, or be empty).
    pub dir: PathBuf,
    /// The SDK crate (`plugins/sdk` of a Wharf clone).
    pub sdk: PathBuf,
    /// The `wharf` binary the component test runs.
    pub wharf: PathBuf,
}

/// Why nothing (or not everything) was created.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not a plugin name.
    #[error("{0}")]
    BadName(String),
    /// The directory holds files already.
    #[error("{0} exists and is not empty")]
    Exists(PathBuf),
    /// No SDK at the given path.
    #[error("no wharf-sdk at {0} (expected plugins/sdk of a Wharf clone; pass --sdk PATH)")]
    NoSdk(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The SDK of the source tree this binary was built from.
pub fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk")
}

/// (path in the new crate, template).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    ("tests/component.rs", include_str!("template/component.rs.tmpl")),
    ("tests/hello.chat", include_str!("template/hello.chat")),
    ("config.toml", include_str!("template/config.toml.tmpl")),
    ("README.md", include_str!("template/README.md.tmpl")),
    (".gitignore", include_str!("template/gitignore.tmpl")),
];

/// Files copied from the clone's root when present.
const COPIED: &[&str] = &["rust-toolchain.toml", "rustfmt.toml", "Cargo.lock"];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError + '_ {
    move |source| ScaffoldError::Io { path: path.to_owned(), source }
}

/// `"text"` with TOML's (and Rust's) escapes for `\` and `"`.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `my-bot` → `MyBot`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Create the crate; returns the files written.
pub fn create(opts: &Options) -> Result<Vec<PathBuf>, ScaffoldError> {
    PluginName::parse(&opts.name).map_err(ScaffoldError::BadName)?;
    if std::fs::read_dir(&opts.dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ScaffoldError::Exists(opts.dir.clone()));
    }
    let sdk = opts.sdk.canonicalize().map_err(|_| ScaffoldError::NoSdk(opts.sdk.clone()))?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(ScaffoldError::NoSdk(opts.sdk.clone()));
    }
    let wharf = opts.wharf.canonicalize().unwrap_or_else(|_| opts.wharf.clone());
    let lib = opts.name.replace('-', "_");
    let prefix: String = opts.name.chars().take(16).collect();
    let vars = [
        ("{{name}}", opts.name.clone()),
        ("{{lib}}", lib),
        ("{{Type}}", type_name(&opts.name)),
        ("{{prefix}}", prefix),
        ("{{sdk}}", quoted(&sdk.display().to_string())),
        ("{{wharf}}", quoted(&wharf.display().to_string())),
    ];
    let mut written = Vec::new();
    for (rel, template) in FILES {
        let text = vars.iter().fold((*template).to_owned(), |t, (k, v)| t.replace(k, v));
        written.push(write(&opts.dir.join(rel), text.as_bytes())?);
    }
    let root = sdk.join("../..");
    for name in COPIED {
        let from = root.join(name);
        if let Ok(bytes) = std::fs::read(&from) {
            written.push(write(&opts.dir.join(name), &bytes)?);
        }
    }
    Ok(written)
}

fn write(path: &Path, bytes: &[u8]) -> Result<PathBuf, ScaffoldError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::write(path, bytes).map_err(io(path))?;
    Ok(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("my-bot_2"), "MyBot2");
        assert_eq!(quoted(r#"a\b"c"#), r#""a\\b\"c""#);
    }

    #[test]
    fn refuses_bad_names_and_full_directories() {
        let dir = tempfile::tempdir().unwrap();
        let opts = |name: &str, dir: &Path| Options {
            name: name.into(),
            dir: dir.to_owned(),
            sdk: default_sdk(),
            wharf: PathBuf::from("wharf"),
        };
        assert!(matches!(create(&opts("Bad Name", &dir.path().join("x"))), Err(ScaffoldError::BadName(_))));
        std::fs::write(dir.path().join("file"), "x").unwrap();
        assert!(matches!(create(&opts("ok", dir.path())), Err(ScaffoldError::Exists(_))));
        let made = create(&opts("my-bot", &dir.path().join("my-bot"))).unwrap();
        let lib = std::fs::read_to_string(dir.path().join("my-bot/src/lib.rs")).unwrap();
        assert!(lib.contains("pub struct MyBot;") && !lib.contains("{{"), "{lib}");
        let manifest = std::fs::read_to_string(dir.path().join("my-bot/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-bot\"") && manifest.contains("plugins/sdk\" }"), "{manifest}");
        assert!(made.iter().any(|p| p.ends_with("rust-toolchain.toml")));
    }
}
