//! Accounts: user names and passwords.

use crate::error::Invalid;
use crate::text;

/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// Longest password accepted (argon2 takes any length; this bounds the work per login).
pub const PASSWORD_MAX: usize = 256;

/// A user name: 3–64 characters of `a-z 0-9 . _ -`, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err(Invalid::field("required", "username"));
        }
        let n = s.chars().count();
        if !(3..=64).contains(&n)
            || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Invalid::field("username-invalid", "username"));
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password: 10–256 characters, not only spaces.
pub fn check_new_password(p: &str) -> Result<(), Invalid> {
    let n = p.chars().count();
    if n < PASSWORD_MIN || p.trim().is_empty() {
        return Err(Invalid::field("password-too-short", "password").with_detail(PASSWORD_MIN.to_string()));
    }
    if n > PASSWORD_MAX {
        return Err(Invalid::field("too-long", "password").with_detail(PASSWORD_MAX.to_string()));
    }
    Ok(())
}

/// A display name: NFC, trimmed, 1–100 characters, no control characters.
pub fn parse_display_name(s: &str) -> Result<String, Invalid> {
    let Some(n) = text::clean_line(s) else {
        return Err(Invalid::field("required", "display_name"));
    };
    if n.chars().count() > 100 {
        return Err(Invalid::field("too-long", "display_name").with_detail("100"));
    }
    if n.chars().any(char::is_control) {
        return Err(Invalid::field("text-control-chars", "display_name"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Admin.Long-An_1 ").unwrap().as_str(), "admin.long-an_1");
        assert_eq!(Username::parse("ab").unwrap_err().code, "username-invalid");
        assert_eq!(Username::parse("người").unwrap_err().code, "username-invalid");
        assert_eq!(Username::parse("").unwrap_err().code, "required");
    }

    #[test]
    fn passwords() {
        assert!(check_new_password("đủ dài rồi nhé").is_ok());
        assert_eq!(check_new_password("short").unwrap_err().code, "password-too-short");
        assert_eq!(check_new_password("           ").unwrap_err().code, "password-too-short");
        assert_eq!(check_new_password(&"x".repeat(300)).unwrap_err().code, "too-long");
    }
}
