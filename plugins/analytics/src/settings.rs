//! `[plugins.analytics.settings]`, checked when the plugin loads.

use serde::Deserialize;

/// The settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Days of rows kept (7-3650): older days, and users not seen since, are pruned.
    pub keep_days: u32,
    /// Complete days `/stats` covers without an argument (1-`keep_days`).
    pub default_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self { keep_days: 90, default_days: 7 }
    }
}

impl Settings {
    /// Read and check the settings.
    pub fn load() -> Result<Self, String> {
        let s: Self = wharf_sdk::settings::all().map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    fn check(&self) -> Result<(), String> {
        if !(7..=3650).contains(&self.keep_days) {
            return Err(format!("setting `keep_days`: must be 7-3650, got {}", self.keep_days));
        }
        if !(1..=self.keep_days).contains(&self.default_days) {
            return Err(format!(
                "setting `default_days`: must be 1-keep_days ({}), got {}",
                self.keep_days, self.default_days
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        assert_eq!(Settings::default().check(), Ok(()));
        assert!(Settings { keep_days: 6, default_days: 1 }.check().is_err());
        assert!(Settings { keep_days: 30, default_days: 31 }.check().is_err());
        assert!(Settings { keep_days: 30, default_days: 0 }.check().is_err());
    }
}
