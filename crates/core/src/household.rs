//! Households and residents as they are typed (on a page, in an API body, in a CSV row) and
//! as they are checked: personal data kept to what the work needs — a birth year, not a
//! birth date; a citizen ID never in clear, only its keyed hash and last four digits — and
//! consent recorded with who gave it and for what.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::outreach::Barriers;
use crate::person::{CitizenId, PhoneNumber, parse_birth_year, parse_sex};
use crate::{Invalid, text};

/// A household to create; text already checked and NFC.
#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub unit_id: i64,
    pub code: String,
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: Barriers,
    /// Who consented, for which purposes.
    pub consent: Option<(String, String)>,
}

/// Changes of a household's own fields.
#[derive(Debug, Clone)]
pub struct HouseholdUpdate {
    pub address: Option<String>,
    pub head_name: Option<String>,
    pub size: i32,
    pub smartphones: i32,
    pub barriers: Barriers,
}

/// A resident to add.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub full_name: Option<String>,
    pub birth_year: Option<i32>,
    pub sex: Option<&'static str>,
    pub youth_union: bool,
    /// The groups the resident belongs to, as bits (group `n` is bit `n − 1`; youth-union
    /// members are group 1 whether or not its bit is set here).
    pub groups: i64,
    /// Keyed hash and last four digits of the citizen ID.
    pub cccd: Option<(String, String)>,
    pub phone: Option<String>,
    pub consent: Option<(String, String)>,
}

impl NewResident {
    /// The groups as stored: the youth-union flag's group included.
    pub fn group_bits(&self) -> i64 {
        if self.youth_union { self.groups | 1 } else { self.groups }
    }
    /// Whether the resident is a youth-union member (the flag, or group 1).
    pub fn is_youth_union(&self) -> bool {
        self.group_bits() & 1 != 0
    }
    /// What their figures are counted by.
    pub fn traits(&self) -> crate::rollup::Traits {
        crate::rollup::Traits::new(self.sex, self.birth_year, self.group_bits())
    }
}

/// The purposes a consent can cover.
pub const PURPOSES: [&str; 3] = ["outreach", "contact", "statistics"];

/// Checks a list of purposes (comma-separated).
pub fn parse_purposes(s: &str) -> Result<String, Invalid> {
    let mut out: Vec<&str> = Vec::new();
    for p in s.split([',', ';', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let known = PURPOSES
            .iter()
            .find(|k| **k == p)
            .ok_or_else(|| Invalid::field("purpose-invalid", "purposes").with_detail(p))?;
        if !out.contains(known) {
            out.push(known);
        }
    }
    if out.is_empty() {
        return Err(Invalid::field("required", "purposes"));
    }
    Ok(out.join(","))
}

/// The keyed hash that stands for a citizen ID.
pub fn cccd_hash(key: &str, id: &CitizenId) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(id.expose().as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn optional_line(s: Option<&str>, field: &'static str, max: usize) -> Result<Option<String>, Invalid> {
    text::parse_line(s.unwrap_or(""), field, max)
}

fn count(s: &str, field: &'static str, min: i32) -> Result<i32, Invalid> {
    let t = s.trim();
    match t.parse::<i32>() {
        Ok(n) if (min..=100).contains(&n) => Ok(n),
        _ => Err(Invalid::field("count-invalid", field).with_detail(t)),
    }
}

/// A household as typed (a form or a JSON body).
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdInput {
    /// The household's code (unique).
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub head_name: Option<String>,
    /// People in the household (1–100).
    #[serde(default)]
    pub size: String,
    /// Smartphones in the home (0–100).
    #[serde(default)]
    pub smartphones: String,
    /// Barrier codes, separated by commas: no_smartphone, elderly_alone, no_id_card, no_internet, disability, language.
    #[serde(default)]
    pub barriers: String,
    /// Who gave consent to record the household's data.
    #[serde(default)]
    pub consent_by: Option<String>,
    /// For which purposes: outreach, contact, statistics (comma-separated).
    #[serde(default)]
    pub consent_purposes: Option<String>,
}

/// Parses a consent pair: both or neither.
pub fn parse_consent(by: Option<&str>, purposes: Option<&str>) -> Result<Option<(String, String)>, Invalid> {
    let by = optional_line(by, "consent_by", 120)?;
    let purposes = purposes.map(str::trim).filter(|s| !s.is_empty());
    match (by, purposes) {
        (None, None) => Ok(None),
        (Some(b), Some(p)) => Ok(Some((b, parse_purposes(p)?))),
        (Some(_), None) => Err(Invalid::field("required", "consent_purposes")),
        (None, Some(_)) => Err(Invalid::field("required", "consent_by")),
    }
}

/// Checks a household's fields.
pub fn parse_household(unit_id: i64, i: &HouseholdInput) -> Result<NewHousehold, Invalid> {
    let code = text::clean_line(&i.code).ok_or(Invalid::field("required", "code"))?;
    if code.chars().count() > 40 || code.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Invalid::field("household-code-invalid", "code").with_detail(code));
    }
    let (u, consent) = parse_changes(i)?;
    Ok(NewHousehold {
        unit_id,
        code,
        address: u.address,
        head_name: u.head_name,
        size: u.size,
        smartphones: u.smartphones,
        barriers: u.barriers,
        consent,
    })
}

/// Checks the fields an edit may change (all but the code and unit), and a consent given
/// with them.
pub fn parse_changes(i: &HouseholdInput) -> Result<(HouseholdUpdate, Option<(String, String)>), Invalid> {
    let u = HouseholdUpdate {
        address: optional_line(i.address.as_deref(), "address", 300)?,
        head_name: optional_line(i.head_name.as_deref(), "head_name", 120)?,
        size: count(&i.size, "size", 1)?,
        smartphones: count(&i.smartphones, "smartphones", 0)?,
        barriers: Barriers::parse_list(&i.barriers)?,
    };
    Ok((u, parse_consent(i.consent_by.as_deref(), i.consent_purposes.as_deref())?))
}

/// A resident as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentInput {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub birth_year: Option<String>,
    /// m or f.
    #[serde(default)]
    pub sex: Option<String>,
    #[serde(default)]
    pub youth_union: Option<String>,
    /// Codes of the groups the resident belongs to (`social_security`, `disability`…; see
    /// `GET /api/v1/residentGroups`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Citizen ID (12 digits): only its keyed hash and last four digits are kept.
    #[serde(default)]
    pub cccd: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub consent_by: Option<String>,
    #[serde(default)]
    pub consent_purposes: Option<String>,
}

fn truthy(s: Option<&str>) -> bool {
    matches!(s.map(|v| v.trim().to_ascii_lowercase()).as_deref(), Some("1" | "true" | "yes" | "on" | "có" | "co"))
}

/// Checks a resident's fields in `year` (the year now, in Vietnam); the citizen ID needs the
/// configured key.
pub fn parse_resident(i: &ResidentInput, cccd_key: Option<&str>, year: i32) -> Result<NewResident, Invalid> {
    let cccd = match i.cccd.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let id = CitizenId::parse(raw, year)?;
            let key = cccd_key.ok_or(Invalid::field("cccd-not-configured", "cccd"))?;
            Some((cccd_hash(key, &id), id.last4().to_owned()))
        }
    };
    let phone = match i.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(PhoneNumber::parse(s)?.as_str().to_owned()),
        None => None,
    };
    Ok(NewResident {
        full_name: optional_line(i.full_name.as_deref(), "full_name", 120)?,
        birth_year: parse_birth_year(i.birth_year.as_deref().unwrap_or(""), year)?,
        sex: parse_sex(i.sex.as_deref().unwrap_or(""))?,
        youth_union: truthy(i.youth_union.as_deref()),
        groups: 0,
        cccd,
        phone,
        consent: parse_consent(i.consent_by.as_deref(), i.consent_purposes.as_deref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn households_parse() {
        let i = HouseholdInput {
            code: "H-001".into(),
            address: Some(" Số 12, ấp Bình Hòa ".into()),
            head_name: Some("Nguyễn Văn A".into()),
            size: "4".into(),
            smartphones: "0".into(),
            barriers: "no_smartphone,elderly_alone".into(),
            consent_by: Some("Nguyễn Văn A".into()),
            consent_purposes: Some("outreach, statistics".into()),
        };
        let h = parse_household(1, &i).unwrap();
        assert_eq!(h.address.as_deref(), Some("Số 12, ấp Bình Hòa"));
        assert_eq!(h.barriers.count(), 2);
        assert_eq!(h.consent.unwrap().1, "outreach,statistics");
        let bad = HouseholdInput { size: "0".into(), ..i.clone() };
        assert_eq!(parse_household(1, &bad).unwrap_err().code, "count-invalid");
        let bad = HouseholdInput { consent_purposes: None, ..i.clone() };
        assert_eq!(parse_household(1, &bad).unwrap_err().field, Some("consent_purposes"));
        let bad = HouseholdInput { barriers: "no_wifi".into(), ..i };
        assert_eq!(parse_household(1, &bad).unwrap_err().code, "barrier-invalid");
    }

    #[test]
    fn residents_parse_and_hash_ids() {
        let i = ResidentInput {
            cccd: Some("080195123456".into()),
            phone: Some("+84 912 345 678".into()),
            ..Default::default()
        };
        assert_eq!(parse_resident(&i, None, 2025).unwrap_err().code, "cccd-not-configured");
        let r = parse_resident(&i, Some("k".repeat(32).as_str()), 2025).unwrap();
        let (hash, last4) = r.cccd.unwrap();
        assert_eq!(last4, "3456");
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("080195"));
        assert_eq!(r.phone.as_deref(), Some("0912345678"));
        let other = parse_resident(&i, Some("j".repeat(32).as_str()), 2025).unwrap();
        assert_ne!(other.cccd.unwrap().0, hash, "the hash depends on the key");
    }
}
