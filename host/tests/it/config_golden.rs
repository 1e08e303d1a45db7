//! Golden tests: each `tests/golden/NAME.toml` must fail with exactly `NAME.err`.
//! Run with `UPDATE_GOLDEN=1` to rewrite the `.err` files after an intended change.

use std::path::Path;

use wharf::config::Config;

#[test]
fn bad_configs_fail_with_the_recorded_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(path).unwrap();
        let err =
            Config::parse(&text, Path::new("/srv/bot")).err().unwrap_or_else(|| panic!("{} parsed", path.display()));
        let golden = path.with_extension("err");
        if update {
            std::fs::write(&golden, format!("{err}\n")).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|_| panic!("missing {}", golden.display()));
        assert_eq!(err, want.trim_end(), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} golden configs");
}

#[test]
fn the_shipped_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config.toml");
    let config = Config::load(&path).unwrap();
    assert!(!config.plugin_specs().is_empty());
    assert!(config.storage_url().starts_with("sqlite:"));
}
