//! Validation errors of the domain.
//!
//! An error carries a stable `code` (used by the JSON API and as the message id in the
//! catalogues) and the field it concerns; the words a person reads live in the web crate's
//! message catalogues, in Vietnamese and English.

use std::fmt;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Stable machine-readable code, e.g. `unit-code-invalid`.
    pub code: &'static str,
    /// The field of the input that is wrong, when there is one.
    pub field: Option<&'static str>,
    /// A value to show in the message (the offending code, a limit…).
    pub detail: Option<String>,
}

impl Invalid {
    pub fn new(code: &'static str) -> Self {
        Self { code, field: None, detail: None }
    }
    pub fn field(code: &'static str, field: &'static str) -> Self {
        Self { code, field: Some(field), detail: None }
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)?;
        if let Some(field) = self.field {
            write!(f, " ({field})")?;
        }
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}
