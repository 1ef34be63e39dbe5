//! Units of the administrative tree.
//!
//! The tree has any depth; `kind` names the level (tỉnh, huyện, xã, ấp…). Each unit stores a
//! materialised path of its ancestors' ids and its own (`/1/5/23/`), so "is X inside Y" is a
//! prefix test and a subtree is a range of paths.

use chrono::NaiveDate;

use crate::error::Invalid;
use crate::text;

/// Longest official code accepted.
pub const CODE_MAX: usize = 32;
/// Longest unit name accepted, in characters.
pub const NAME_MAX: usize = 200;
/// Longest level name accepted, in characters.
pub const KIND_MAX: usize = 60;

/// An official unit code: 1–32 characters, letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Invalid::field("required", "code"));
        }
        if s.chars().count() > CODE_MAX || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(Invalid::field("unit-code-invalid", "code").with_detail(s));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UnitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unit's name: NFC, trimmed, 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName(String);

impl UnitName {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let Some(name) = text::clean_line(s) else {
            return Err(Invalid::field("required", "name"));
        };
        if name.chars().count() > NAME_MAX {
            return Err(Invalid::field("too-long", "name").with_detail(NAME_MAX.to_string()));
        }
        if name.chars().any(char::is_control) {
            return Err(Invalid::field("text-control-chars", "name"));
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The level's name (tỉnh, huyện, xã, ấp…): NFC, trimmed, 1–60 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitKind(String);

impl UnitKind {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let Some(kind) = text::clean_line(s) else {
            return Err(Invalid::field("required", "kind"));
        };
        if kind.chars().count() > KIND_MAX {
            return Err(Invalid::field("too-long", "kind").with_detail(KIND_MAX.to_string()));
        }
        if kind.chars().any(char::is_control) {
            return Err(Invalid::field("text-control-chars", "kind"));
        }
        Ok(Self(kind))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The validity of a unit: from `from` (inclusive) to `to` (exclusive), either open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Validity {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Validity {
    /// Parses two optional ISO dates (`YYYY-MM-DD`); empty strings are open ends.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, Invalid> {
        let from = parse_date(from, "valid_from")?;
        let to = parse_date(to, "valid_to")?;
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
        {
            return Err(Invalid::field("validity-reversed", "valid_to"));
        }
        Ok(Self { from, to })
    }
    /// Whether the unit exists on `day`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day < t)
    }
    /// Whether some day lies in both (an open end reaches every day on its side).
    pub fn overlaps(&self, other: &Validity) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        let other_starts_before_end = match (other.from, self.to) {
            (Some(f), Some(t)) => f < t,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }
}

fn parse_date(s: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Invalid::field("date-invalid", field).with_detail(v)),
    }
}

/// A materialised path: the ids from the root down to the unit, `/1/5/23/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitPath(String);

impl UnitPath {
    /// The path of a root unit.
    pub fn root(id: i64) -> Self {
        Self(format!("/{id}/"))
    }
    /// The path of a child with id `id` under this path.
    pub fn child(&self, id: i64) -> Self {
        Self(format!("{}{id}/", self.0))
    }
    /// Wraps a path read back from the store.
    pub fn from_stored(s: String) -> Self {
        debug_assert!(s.starts_with('/') && s.ends_with('/'));
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Whether `other` is this unit or one of its descendants.
    pub fn contains(&self, other: &UnitPath) -> bool {
        other.0.starts_with(&self.0)
    }
    /// Whether `other` is a descendant of this unit, not the unit itself.
    pub fn strictly_contains(&self, other: &UnitPath) -> bool {
        other.0.len() > self.0.len() && other.0.starts_with(&self.0)
    }
    /// The ids from the root to the unit.
    pub fn ids(&self) -> Vec<i64> {
        self.0.split('/').filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
    }
    /// Depth of the unit: 0 for a root.
    pub fn depth(&self) -> usize {
        self.ids().len().saturating_sub(1)
    }
    /// The exclusive upper bound of the subtree's paths: every descendant's path `p`
    /// satisfies `self <= p < upper_bound()` in byte order.
    pub fn upper_bound(&self) -> String {
        // Paths end with '/', and '0' is the byte after '/'.
        let mut s = self.0.clone();
        s.pop();
        s.push('0');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(UnitCode::parse("80").is_ok());
        assert!(UnitCode::parse(" 27694 ").is_ok());
        assert_eq!(UnitCode::parse("").unwrap_err().code, "required");
        assert_eq!(UnitCode::parse("a/b").unwrap_err().code, "unit-code-invalid");
        assert_eq!(UnitCode::parse("mã số").unwrap_err().code, "unit-code-invalid");
    }

    #[test]
    fn names_are_nfc_and_keep_symbols() {
        let n = UnitName::parse("  Ấp Bi\u{300}nh 🌊 ").unwrap();
        assert_eq!(n.as_str(), "Ấp Bình 🌊");
        assert_eq!(UnitName::parse("  ").unwrap_err().code, "required");
        assert_eq!(UnitName::parse("a\u{7}b").unwrap_err().code, "text-control-chars");
        assert_eq!(UnitName::parse(&"x".repeat(201)).unwrap_err().code, "too-long");
    }

    #[test]
    fn validity() {
        let v = Validity::parse(Some("2020-01-01"), Some("2025-07-01")).unwrap();
        assert!(v.contains(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()));
        assert!(!v.contains(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()));
        assert_eq!(Validity::parse(Some("2025-07-01"), Some("2020-01-01")).unwrap_err().code, "validity-reversed");
        assert_eq!(Validity::parse(Some("01/07/2025"), None).unwrap_err().code, "date-invalid");
        assert_eq!(Validity::parse(Some(""), None).unwrap(), Validity::default());
    }

    #[test]
    fn paths() {
        let root = UnitPath::root(1);
        let d = root.child(5);
        let c = d.child(23);
        let other = UnitPath::root(10);
        assert!(root.contains(&c) && d.contains(&c) && c.contains(&c));
        assert!(!c.strictly_contains(&c) && d.strictly_contains(&c));
        assert!(!root.contains(&other) && !other.contains(&root));
        assert_eq!(c.ids(), vec![1, 5, 23]);
        assert_eq!(c.depth(), 2);
        assert_eq!(root.upper_bound(), "/10");
        assert!(c.as_str() >= root.as_str() && c.as_str() < root.upper_bound().as_str());
        assert!(other.as_str() >= root.upper_bound().as_str());
    }
}

/// The administrative levels a value can be entered at, read off a unit's kind (its level
/// name): `tỉnh` is a province; `huyện`, `quận`, `thị xã` a district (until 2025); `xã`,
/// `phường`, `thị trấn`, `đặc khu` a commune; `thôn`, `ấp`, `bản`, `khu phố`, `tổ dân phố`… a
/// hamlet. `thành phố` is a province at the top of the tree and a district below a province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AdminLevel {
    Province,
    District,
    Commune,
    Hamlet,
}

impl AdminLevel {
    pub const ALL: [AdminLevel; 4] =
        [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune, AdminLevel::Hamlet];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminLevel::Province => "province",
            AdminLevel::District => "district",
            AdminLevel::Commune => "commune",
            AdminLevel::Hamlet => "hamlet",
        }
    }

    pub fn parse(s: &str) -> Result<AdminLevel, Invalid> {
        AdminLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("level-invalid", "level").with_detail(s.trim()))
    }

    /// The level of a unit of this kind, whose parent is at `parent` (`None`: at the top, or
    /// a parent of no known level).
    pub fn of_kind(kind: &str, parent: Option<AdminLevel>) -> Option<AdminLevel> {
        let k = text::fold(kind);
        let k = k.trim();
        match k {
            "tinh" | "thanh pho truc thuoc trung uong" => Some(AdminLevel::Province),
            "thanh pho" => match parent {
                None => Some(AdminLevel::Province),
                Some(_) => Some(AdminLevel::District),
            },
            "huyen" | "quan" | "thi xa" | "thanh pho thuoc tinh" => Some(AdminLevel::District),
            "xa" | "phuong" | "thi tran" | "dac khu" => Some(AdminLevel::Commune),
            "thon" | "ap" | "ban" | "khu pho" | "to dan pho" | "khom" | "buon" | "soc" | "lang" | "xom" | "khu"
            | "to" | "phum" | "plei" => Some(AdminLevel::Hamlet),
            _ => None,
        }
    }

    /// The level of the last unit of a chain of kinds from the top of the tree down.
    pub fn of_chain<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Option<AdminLevel> {
        let mut level = None;
        for k in kinds {
            level = AdminLevel::of_kind(k, level);
        }
        level
    }

    /// The level in Vietnamese (`cấp xã`) or English (`commune level`).
    pub fn name(self, english: bool) -> &'static str {
        match (self, english) {
            (AdminLevel::Province, false) => "cấp tỉnh",
            (AdminLevel::District, false) => "cấp huyện",
            (AdminLevel::Commune, false) => "cấp xã",
            (AdminLevel::Hamlet, false) => "thôn, ấp, khu phố",
            (AdminLevel::Province, true) => "province level",
            (AdminLevel::District, true) => "district level",
            (AdminLevel::Commune, true) => "commune level",
            (AdminLevel::Hamlet, true) => "hamlet level",
        }
    }
}

#[cfg(test)]
mod level_tests {
    use super::AdminLevel;

    #[test]
    fn levels_are_read_off_kinds() {
        assert_eq!(AdminLevel::of_kind("tỉnh", None), Some(AdminLevel::Province));
        assert_eq!(AdminLevel::of_kind("Thành phố", None), Some(AdminLevel::Province));
        assert_eq!(AdminLevel::of_kind("thành phố", Some(AdminLevel::Province)), Some(AdminLevel::District));
        assert_eq!(AdminLevel::of_kind("huyện", Some(AdminLevel::Province)), Some(AdminLevel::District));
        assert_eq!(AdminLevel::of_kind("Xã", Some(AdminLevel::District)), Some(AdminLevel::Commune));
        assert_eq!(AdminLevel::of_kind("đặc khu", Some(AdminLevel::Province)), Some(AdminLevel::Commune));
        assert_eq!(AdminLevel::of_kind("khu phố", Some(AdminLevel::Commune)), Some(AdminLevel::Hamlet));
        assert_eq!(AdminLevel::of_kind("ấp", Some(AdminLevel::Commune)), Some(AdminLevel::Hamlet));
        assert_eq!(AdminLevel::of_kind("chi hội", None), None);
    }
}
