//! A secret setting (a key, a password in a URL): kept as given, never shown. Its `Debug`
//! and `Display` print `***`, so a configuration or error logged whole does not leak it.

use serde::{Deserialize, Serialize};

/// A secret string; empty means "not set".
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The secret trimmed, or `None` when it is not set.
    pub fn get(&self) -> Option<&str> {
        Some(self.0.trim()).filter(|s| !s.is_empty())
    }
    pub fn is_set(&self) -> bool {
        self.get().is_some()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() { "\"***\"" } else { "\"\"" })
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() { "***" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shown() {
        let s = Secret::new("k".repeat(40));
        assert_eq!(format!("{s:?} {s}"), "\"***\" ***");
        assert_eq!(s.get().map(str::len), Some(40));
        assert_eq!(Secret::new("  ").get(), None);
        assert_eq!(format!("{:?}", Secret::default()), "\"\"");
    }
}
