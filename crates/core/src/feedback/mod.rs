//! Citizen feedback (phản ánh, kiến nghị): tracking codes, states and the moves between them,
//! channels, ratings and the text a citizen sends.
//!
//! Deadlines live in [`crate::calendar`]; the rules of who may act live in [`crate::auth`].

use std::fmt;

use chrono::NaiveDate;

use crate::error::Invalid;
use crate::text;

/// The longest description accepted, in characters.
pub const DESCRIPTION_MAX: usize = 4000;

/// Where a feedback item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Arrived; not yet with an agency.
    Received,
    /// Sent to the responsible agency.
    Forwarded,
    /// The agency is working on it.
    InProgress,
    /// The agency asked the citizen for more information.
    NeedsInfo,
    /// A public answer was published.
    Answered,
    /// Finished after the answer.
    Closed,
    /// Refused, with a reason.
    Rejected,
    /// The same as an earlier item, linked to it.
    Duplicate,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Received,
        State::Forwarded,
        State::InProgress,
        State::NeedsInfo,
        State::Answered,
        State::Closed,
        State::Rejected,
        State::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Forwarded => "forwarded",
            State::InProgress => "in_progress",
            State::NeedsInfo => "needs_info",
            State::Answered => "answered",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Result<State, Invalid> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("feedback-state-invalid", "state").with_detail(s.trim()))
    }

    /// Whether the item still waits for an answer (and so can be overdue).
    pub fn is_pending(self) -> bool {
        matches!(self, State::Received | State::Forwarded | State::InProgress | State::NeedsInfo)
    }

    /// The Open311 status: `open` while it waits for an answer, `closed` after.
    pub fn open311(self) -> &'static str {
        if self.is_pending() { "open" } else { "closed" }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of state asked for by staff (or, for [`Move::Rate`]-like steps, the citizen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Send to an agency (also a reassignment to another one).
    Forward,
    /// The agency takes it up.
    Start,
    /// Ask the citizen for more information.
    AskInfo,
    /// The information came; back to work.
    InfoReceived,
    /// Publish the reviewed answer.
    Answer,
    /// Finish an answered item.
    Close,
    /// Take an answered item up again (the citizen was not satisfied).
    Reopen,
    /// Refuse, with a reason.
    Reject,
    /// Link to an earlier item.
    Duplicate,
}

impl Move {
    pub const ALL: [Move; 9] = [
        Move::Forward,
        Move::Start,
        Move::AskInfo,
        Move::InfoReceived,
        Move::Answer,
        Move::Close,
        Move::Reopen,
        Move::Reject,
        Move::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Move::Forward => "forward",
            Move::Start => "start",
            Move::AskInfo => "ask_info",
            Move::InfoReceived => "info_received",
            Move::Answer => "answer",
            Move::Close => "close",
            Move::Reopen => "reopen",
            Move::Reject => "reject",
            Move::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Result<Move, Invalid> {
        Move::ALL
            .into_iter()
            .find(|m| m.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("feedback-move-invalid", "move").with_detail(s.trim()))
    }

    /// Whether the move needs a reason from the person making it.
    pub fn needs_reason(self) -> bool {
        matches!(self, Move::Reject | Move::AskInfo | Move::Reopen)
    }

    /// The state this move leads to from `from`, or why it is refused.
    pub fn apply(self, from: State) -> Result<State, Invalid> {
        use State::*;
        let to = match (self, from) {
            (Move::Forward, Received | Forwarded | InProgress | NeedsInfo) => Forwarded,
            (Move::Start, Forwarded) => InProgress,
            (Move::AskInfo, Forwarded | InProgress) => NeedsInfo,
            (Move::InfoReceived, NeedsInfo) => InProgress,
            (Move::Answer, Forwarded | InProgress) => Answered,
            (Move::Close, Answered) => Closed,
            (Move::Reopen, Answered) => InProgress,
            (Move::Reject, Received | Forwarded | InProgress | NeedsInfo) => Rejected,
            (Move::Duplicate, Received | Forwarded | InProgress | NeedsInfo) => Duplicate,
            _ => {
                return Err(Invalid::field("feedback-move-refused", "move").with_detail(format!(
                    "{} → {}",
                    from.as_str(),
                    self.as_str()
                )));
            }
        };
        Ok(to)
    }

    /// The moves allowed from a state, in the order a page offers them.
    pub fn allowed_from(from: State) -> Vec<Move> {
        Move::ALL.into_iter().filter(|m| m.apply(from).is_ok()).collect()
    }
}

/// How an item reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The public web form.
    Web,
    /// An Open311 client.
    Open311,
    /// A team member on a citizen's behalf.
    Team,
    /// A telephone line, typed in by staff.
    Hotline,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Web, Channel::Open311, Channel::Team, Channel::Hotline];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Open311 => "open311",
            Channel::Team => "team",
            Channel::Hotline => "hotline",
        }
    }

    pub fn parse(s: &str) -> Result<Channel, Invalid> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("feedback-channel-invalid", "channel").with_detail(s.trim()))
    }
}

/// The citizen's rating of an answer (as Hue-S asks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rating {
    Satisfied,
    Acceptable,
    NotSatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [Rating::Satisfied, Rating::Acceptable, Rating::NotSatisfied];

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::Acceptable => "acceptable",
            Rating::NotSatisfied => "not_satisfied",
        }
    }

    pub fn parse(s: &str) -> Result<Rating, Invalid> {
        Rating::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("feedback-rating-invalid", "rating").with_detail(s.trim()))
    }
}

/// A tracking code, `PAKN.YYYYMMDD.NNNN`: the day of receipt (Vietnam time) and the item's
/// number that day, from 1, at least four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackingCode {
    pub day: NaiveDate,
    pub seq: u32,
}

impl TrackingCode {
    pub fn parse(s: &str) -> Result<TrackingCode, Invalid> {
        let bad = || {
            Invalid::field("feedback-code-invalid", "code").with_detail(s.trim().chars().take(40).collect::<String>())
        };
        let t = s.trim();
        let mut parts = t.split('.');
        let (Some(p), Some(d), Some(n), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if !p.eq_ignore_ascii_case("PAKN") || d.len() != 8 || !(4..=7).contains(&n.len()) {
            return Err(bad());
        }
        if !d.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let day = NaiveDate::parse_from_str(d, "%Y%m%d").map_err(|_| bad())?;
        let seq: u32 = n.parse().map_err(|_| bad())?;
        if seq == 0 || (n.len() > 4 && n.starts_with('0')) {
            return Err(bad());
        }
        Ok(TrackingCode { day, seq })
    }
}

/// The code an item is found by, as stored: ours ([`TrackingCode`], written in our form
/// whatever the case its prefix was typed in), or the code an earlier system gave an item
/// imported with it: 1 to 40 letters, digits, `.`, `-` and `_` (safe in an address as it
/// is), kept exactly, but not beginning with our prefix `PAKN.`, which is ours alone (a
/// mistyped code of ours is refused as such, not looked for). Anything else is refused.
pub fn item_code(s: &str) -> Result<String, Invalid> {
    let t = s.trim();
    match TrackingCode::parse(t) {
        Ok(c) => Ok(c.to_string()),
        Err(e) if t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("PAKN.")) => Err(e),
        Err(_)
            if (1..=40).contains(&t.len())
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')) =>
        {
            Ok(t.to_owned())
        }
        Err(e) => Err(e),
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PAKN.{}.{:04}", self.day.format("%Y%m%d"), self.seq)
    }
}

use crate::text::{parse_line, parse_text};

/// A coordinate pair in WGS 84 degrees; both or neither.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// Parses a latitude and a longitude given as text; two empty strings are no point.
    pub fn parse(lat: &str, lon: &str) -> Result<Option<Point>, Invalid> {
        let (lat, lon) = (lat.trim(), lon.trim());
        if lat.is_empty() && lon.is_empty() {
            return Ok(None);
        }
        let num = |s: &str, field: &'static str, limit: f64| {
            s.parse::<f64>().ok().filter(|v| v.is_finite() && v.abs() <= limit).ok_or_else(|| {
                Invalid::field("coordinate-invalid", field).with_detail(s.chars().take(30).collect::<String>())
            })
        };
        Ok(Some(Point { lat: num(lat, "lat", 90.0)?, lon: num(lon, "long", 180.0)? }))
    }
}

/// A contact e-mail address: one `@`, something on both sides, a dot in the domain, no
/// spaces; at most 254 characters.
pub fn parse_email(s: &str) -> Result<Option<String>, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || Invalid::field("email-invalid", "email").with_detail(t.chars().take(60).collect::<String>());
    let (user, domain) = t.split_once('@').ok_or_else(bad)?;
    let ok = t.len() <= 254
        && !user.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if ok { Ok(Some(text::nfc(t))) } else { Err(bad()) }
}

/// The type of an extra field of a category (Open311's `datatype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

impl Datatype {
    pub const ALL: [Datatype; 6] = [
        Datatype::String,
        Datatype::Number,
        Datatype::Datetime,
        Datatype::Text,
        Datatype::Singlevaluelist,
        Datatype::Multivaluelist,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::Singlevaluelist => "singlevaluelist",
            Datatype::Multivaluelist => "multivaluelist",
        }
    }
    pub fn parse(s: &str) -> Result<Datatype, Invalid> {
        Datatype::ALL
            .into_iter()
            .find(|d| d.as_str() == s.trim())
            .ok_or_else(|| Invalid::field("datatype-invalid", "datatype").with_detail(s.trim()))
    }
    pub fn is_list(self) -> bool {
        matches!(self, Datatype::Singlevaluelist | Datatype::Multivaluelist)
    }
}

/// One choice of a list field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldValue {
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
}

/// An extra question a category asks (Open311's `attribute`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtraField {
    /// `a-z 0-9 _`, unique within the category.
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub datatype: Datatype,
    pub required: bool,
    #[serde(default)]
    pub values: Vec<FieldValue>,
    /// No longer asked (its answers on earlier items stay and are shown); a field that was
    /// never answered is deleted instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
}

impl ExtraField {
    pub fn name(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name_vi }
    }

    /// Builds a field from an administrator's form; list choices are one per line,
    /// `key = Tên / Name`.
    pub fn parse(
        code: &str,
        name_vi: &str,
        name_en: &str,
        datatype: &str,
        required: bool,
        values: &str,
    ) -> Result<ExtraField, Invalid> {
        let mut list = Vec::new();
        for line in values.lines().filter(|l| !l.trim().is_empty()) {
            let bad = || Invalid::field("field-values-invalid", "values").with_detail(line.trim());
            let (key, names) = line.split_once('=').ok_or_else(bad)?;
            let (vi, en) = names.split_once('/').unwrap_or((names, names));
            list.push(FieldValue { key: key.to_owned(), name_vi: vi.to_owned(), name_en: en.to_owned() });
        }
        ExtraField::check(code, name_vi, name_en, datatype, required, list)
    }

    /// Builds a field from its parts (a set-up document's), each checked: a code of
    /// `a-z 0-9 _`, names, a type, and choices with distinct keys for a list (none otherwise).
    pub fn check(
        code: &str,
        name_vi: &str,
        name_en: &str,
        datatype: &str,
        required: bool,
        values: Vec<FieldValue>,
    ) -> Result<ExtraField, Invalid> {
        let code = code.trim();
        if !(1..=40).contains(&code.len())
            || !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(Invalid::field("catalog-code-invalid", "code").with_detail(code));
        }
        let name_vi = parse_line(name_vi, "name_vi", 200)?.ok_or(Invalid::field("required", "name_vi"))?;
        let name_en = parse_line(name_en, "name_en", 200)?.ok_or(Invalid::field("required", "name_en"))?;
        let datatype = Datatype::parse(datatype)?;
        let mut list: Vec<FieldValue> = Vec::new();
        for v in values {
            let bad = || {
                Invalid::field("field-values-invalid", "values").with_detail(format!(
                    "{} = {}",
                    v.key.trim(),
                    v.name_vi.trim()
                ))
            };
            let key = v.key.trim();
            if key.is_empty() || key.len() > 40 || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad());
            }
            let vi = parse_line(&v.name_vi, "values", 200)?.ok_or_else(bad)?;
            let en = parse_line(&v.name_en, "values", 200)?.ok_or_else(bad)?;
            if list.iter().any(|x| x.key == key) {
                return Err(bad());
            }
            list.push(FieldValue { key: key.to_owned(), name_vi: vi, name_en: en });
        }
        if datatype.is_list() == list.is_empty() {
            return Err(Invalid::field("field-values-needed", "values").with_detail(datatype.as_str()));
        }
        Ok(ExtraField { code: code.to_owned(), name_vi, name_en, datatype, required, values: list, withdrawn: false })
    }
}

/// Checks a citizen's answers to a category's extra fields; `get` gives every value sent
/// for a field code. Returns the answers to keep, by field code.
pub fn parse_answers(
    fields: &[ExtraField],
    get: impl Fn(&str) -> Vec<String>,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, Invalid> {
    let mut out = std::collections::BTreeMap::new();
    for f in fields {
        let raw: Vec<String> = get(&f.code).into_iter().filter(|v| !v.trim().is_empty()).collect();
        let detail = || f.code.clone();
        if raw.is_empty() {
            if f.required {
                return Err(Invalid::field("attribute-required", "attribute").with_detail(detail()));
            }
            continue;
        }
        let bad = || Invalid::field("attribute-invalid", "attribute").with_detail(detail());
        let vals = match f.datatype {
            Datatype::Multivaluelist => raw,
            _ if raw.len() > 1 => return Err(bad()),
            _ => raw,
        };
        let mut kept = Vec::with_capacity(vals.len());
        for v in vals {
            let v = match f.datatype {
                Datatype::Number => {
                    let t = v.trim();
                    t.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(bad)?;
                    t.to_owned()
                }
                Datatype::Datetime => {
                    let t = v.trim();
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map(|_| ())
                        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|_| ()))
                        .map_err(|_| bad())?;
                    t.to_owned()
                }
                Datatype::String => parse_line(&v, "attribute", 500)?.ok_or_else(bad)?,
                Datatype::Text => parse_text(&v, "attribute", 4000)?,
                Datatype::Singlevaluelist | Datatype::Multivaluelist => {
                    let t = v.trim();
                    if !f.values.iter().any(|x| x.key == t) {
                        return Err(bad());
                    }
                    t.to_owned()
                }
            };
            if !kept.contains(&v) {
                kept.push(v);
            }
        }
        out.insert(f.code.clone(), kept);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
