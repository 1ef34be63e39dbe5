//! Personal data, parsed and minimised: Vietnamese phone numbers, citizen ID numbers (CCCD),
//! birth years.

use crate::error::Invalid;

/// A Vietnamese phone number in its 10-digit national form (`0912345678`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Mobile prefixes in use since the 2018 renumbering. A number outside them is kept with a
/// warning, not refused (landlines and new ranges exist).
const MOBILE_PREFIXES: [&str; 5] = ["03", "05", "07", "08", "09"];

impl PhoneNumber {
    /// Accepts `0912 345 678`, `0912.345.678`, `+84 912 345 678`, `84912345678`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
        if compact.is_empty() {
            return Err(Invalid::field("required", "phone"));
        }
        let national = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else if compact.starts_with("84") && compact.len() == 11 {
            format!("0{}", &compact[2..])
        } else {
            compact
        };
        if national.len() != 10 || !national.starts_with('0') || !national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::field("phone-invalid", "phone").with_detail(s.trim()));
        }
        Ok(Self(national))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether the number is in a known mobile range.
    pub fn is_known_mobile(&self) -> bool {
        MOBILE_PREFIXES.iter().any(|p| self.0.starts_with(p))
    }
}

/// A phone number for a list: `091****678`.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "****".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}****{tail}")
}

/// A citizen ID number (CCCD): 12 digits, no checksum. It is never stored: only a keyed
/// hash (for de-duplication) and its last four digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CitizenId(String);

impl std::fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CitizenId(********{})", self.last4())
    }
}

impl CitizenId {
    /// Checks form and plausibility: 12 digits; a province-of-registration code 001–096; a
    /// century-and-sex digit 0–3 (1900s or 2000s); a year of birth not in the future.
    pub fn parse(s: &str, current_year: i32) -> Result<Self, Invalid> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let bad = || Invalid::field("cccd-invalid", "cccd");
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let province: u32 = digits[0..3].parse().map_err(|_| bad())?;
        if !(1..=96).contains(&province) {
            return Err(bad());
        }
        let century_sex = digits.as_bytes()[3] - b'0';
        let yy: i32 = digits[4..6].parse().map_err(|_| bad())?;
        let year = match century_sex {
            0 | 1 => 1900 + yy,
            2 | 3 => 2000 + yy,
            _ => return Err(bad()),
        };
        if year > current_year {
            return Err(bad());
        }
        Ok(Self(digits))
    }
    /// The last four digits, for display.
    pub fn last4(&self) -> &str {
        &self.0[8..]
    }
    /// The digits, only to compute the keyed hash.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A year of birth: 1900 to this year.
pub fn parse_birth_year(s: &str, current_year: i32) -> Result<Option<i32>, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<i32>() {
        Ok(y) if (1900..=current_year).contains(&y) => Ok(Some(y)),
        _ => Err(Invalid::field("birth-year-invalid", "birth_year").with_detail(t)),
    }
}

/// Sex as recorded: `m`, `f` or none.
pub fn parse_sex(s: &str) -> Result<Option<&'static str>, Invalid> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "m" | "male" | "nam" => Ok(Some("m")),
        "f" | "female" | "nữ" | "nu" => Ok(Some("f")),
        other => Err(Invalid::field("sex-invalid", "sex").with_detail(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones() {
        for s in ["0912345678", "0912 345 678", "0912.345.678", "+84 912 345 678", "84912345678", "+84912345678"] {
            assert_eq!(PhoneNumber::parse(s).unwrap().as_str(), "0912345678", "{s}");
        }
        assert!(PhoneNumber::parse("0312345678").unwrap().is_known_mobile());
        assert!(!PhoneNumber::parse("0212345678").unwrap().is_known_mobile());
        for s in ["091234567", "09123456789", "1912345678", "09123x5678", "+1 912 345 678"] {
            assert_eq!(PhoneNumber::parse(s).unwrap_err().code, "phone-invalid", "{s}");
        }
        assert_eq!(mask_phone("0912345678"), "091****678");
    }

    #[test]
    fn citizen_ids() {
        let id = CitizenId::parse("080 1 95 123456", 2026).unwrap();
        assert_eq!(id.last4(), "3456");
        assert!(!format!("{id:?}").contains("0801951"));
        assert!(CitizenId::parse("080205123456", 2026).is_ok());
        for s in [
            "08019512345",
            "0801951234567",
            "000195123456",
            "097195123456",
            "080595123456",
            "080299123456",
            "08019512345a",
        ] {
            assert_eq!(CitizenId::parse(s, 2026).unwrap_err().code, "cccd-invalid", "{s}");
        }
    }

    #[test]
    fn birth_years_and_sex() {
        assert_eq!(parse_birth_year("1950", 2026).unwrap(), Some(1950));
        assert_eq!(parse_birth_year("", 2026).unwrap(), None);
        assert!(parse_birth_year("1899", 2026).is_err() && parse_birth_year("2027", 2026).is_err());
        assert_eq!(parse_sex("Nữ").unwrap(), Some("f"));
        assert!(parse_sex("x").is_err());
    }

    proptest! {
        #[test]
        fn any_ten_digit_mobile_round_trips(n in "0[35789][0-9]{8}") {
            let p = PhoneNumber::parse(&n).unwrap();
            prop_assert_eq!(p.as_str(), n.as_str());
            let intl = format!("+84 {}", &n[1..]);
            prop_assert_eq!(PhoneNumber::parse(&intl).unwrap(), p);
        }

        #[test]
        fn phone_parse_never_panics(s in "\\PC{0,20}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn cccd_parse_never_panics(s in "\\PC{0,20}") {
            let _ = CitizenId::parse(&s, 2026);
        }
    }
}
