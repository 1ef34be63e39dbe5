//! Vietnamese text: NFC normalisation, the folded search key and collation.
//!
//! Every string ngoso stores goes through [`nfc`]. Searches compare [`fold`]ed keys, so
//! "nguyen van a", "Nguyễn Văn A" and "NGUYỄN VĂN A" find the same record; lists sort by
//! [`sort_key`], the ICU collation key for the `vi` locale, stored as bytes so that both
//! databases order rows the same way with a plain byte comparison.

use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed, CollatorPreferences};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::Invalid;

/// Returns `s` in Unicode Normalisation Form C. Nothing else changes: emoji, stray symbols
/// and private-use characters are data and stay exactly as given.
pub fn nfc(s: &str) -> String {
    if unicode_normalization::is_nfc(s) { s.to_owned() } else { s.nfc().collect() }
}

/// The folded search key: NFC, lower case, tone and vowel marks removed, `đ` → `d`, runs of
/// white space collapsed to one space, trimmed.
pub fn fold(s: &str) -> String {
    let lower = nfc(s).to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut pending_space = false;
    for c in lower.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(match c {
            'đ' => 'd',
            other => other,
        });
    }
    out
}

fn collator() -> &'static CollatorBorrowed<'static> {
    static COLLATOR: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    COLLATOR.get_or_init(|| {
        let prefs = CollatorPreferences::from(icu_locale_core::locale!("vi"));
        Collator::try_new(prefs, CollatorOptions::default())
            .expect("the Vietnamese collation data is compiled into the binary")
    })
}

/// The ICU collation key of `s` for Vietnamese (`vi`). Comparing two keys byte by byte gives
/// the same order as comparing the strings with [`compare`].
///
/// Keys depend on the ICU data version: after an upgrade of the collation data the stored
/// keys are recomputed (the store does this on migration).
pub fn sort_key(s: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(s.len() * 2 + 8);
    let Ok(()) = collator().write_sort_key_to(&nfc(s), &mut key);
    key
}

/// Compares two strings in Vietnamese alphabetical order.
pub fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    collator().compare(a, b)
}

/// Trims and NFC-normalises a one-line field; returns `None` when nothing is left.
pub fn clean_line(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() { None } else { Some(nfc(t)) }
}

/// Multi-line text a person typed (a description, an answer, a note): NFC, line ends made
/// `\n`, trimmed, at most `max` characters. Emoji and symbols stay; control characters other
/// than tab and line breaks are refused (PostgreSQL cannot store NUL, and none is typed).
pub fn parse_text(s: &str, field: &'static str, max: usize) -> Result<String, Invalid> {
    let t = s.replace("\r\n", "\n").replace('\r', "\n");
    let t = t.trim();
    if t.is_empty() {
        return Err(Invalid::field("required", field));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::field("text-control-chars", field));
    }
    let t = nfc(t);
    let n = t.chars().count();
    if n > max {
        return Err(Invalid::field("too-long", field).with_detail(max.to_string()));
    }
    Ok(t)
}

/// A one-line optional field (a name, an address): NFC, trimmed, at most `max` characters;
/// `None` when empty.
pub fn parse_line(s: &str, field: &'static str, max: usize) -> Result<Option<String>, Invalid> {
    if s.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Invalid::field("text-control-chars", field));
    }
    let Some(t) = clean_line(s) else { return Ok(None) };
    if t.chars().count() > max {
        return Err(Invalid::field("too-long", field).with_detail(max.to_string()));
    }
    Ok(Some(t))
}

/// A web address: `http://` or `https://`, no spaces, at most 500 characters; `None` when
/// empty.
pub fn parse_url(s: &str, field: &'static str) -> Result<Option<String>, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.len() <= 500
        && t.len() > "https://".len()
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(Some(t.to_owned())) } else { Err(Invalid::field("url-invalid", field).with_detail(t)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fold_removes_marks_and_d_stroke() {
        assert_eq!(fold("Nguyễn Văn A"), "nguyen van a");
        assert_eq!(fold("ĐỖ  Thị   Đào "), "do thi dao");
        assert_eq!(fold("Ấp Bình Hòa"), fold("ấp bình hoà"));
        assert_eq!(fold("Long An Số 🍜"), "long an so 🍜");
    }

    #[test]
    fn nfc_keeps_both_tone_placements_distinct() {
        // "hòa" and "hoà" are both correct spellings; NFC keeps them apart.
        assert_ne!(nfc("ho\u{300}a"), nfc("hoa\u{300}"));
        assert_eq!(nfc("ho\u{300}a"), "hòa");
        assert_eq!(fold("hòa"), fold("hoà"));
    }

    #[test]
    fn nfc_keeps_emoji_and_stray_symbols() {
        let s = "quá trìn♉h 𓆏trình chính꧅ đoàn🅘 ��nhờ ꦺn";
        assert_eq!(nfc(s), s);
    }

    #[test]
    fn vietnamese_alphabet_order() {
        let mut words = vec!["đá", "du", "ăn", "ân", "an", "bé", "ơi", "ôm", "om", "xa", "ưa", "uống"];
        words.sort_by(|a, b| compare(a, b));
        assert_eq!(words, vec!["an", "ăn", "ân", "bé", "du", "đá", "om", "ôm", "ơi", "uống", "ưa", "xa"]);
    }

    #[test]
    fn tones_sort_after_letters() {
        let mut words = vec!["ạ", "á", "ã", "ả", "à", "a"];
        words.sort_by(|a, b| compare(a, b));
        assert_eq!(words, vec!["a", "à", "ả", "ã", "á", "ạ"]);
    }

    proptest! {
        #[test]
        fn nfc_is_idempotent(s in "\\PC*") {
            let once = nfc(&s);
            prop_assert_eq!(nfc(&once), once.clone());
        }

        #[test]
        fn fold_is_idempotent_and_markless(s in "\\PC*") {
            let f = fold(&s);
            prop_assert_eq!(fold(&f), f.clone());
            prop_assert!(!f.contains('đ'));
            prop_assert!(!f.chars().any(is_combining_mark));
            prop_assert!(!f.starts_with(' ') && !f.ends_with(' ') && !f.contains("  "));
        }

        #[test]
        fn fold_ignores_case_and_normal_form(s in "[a-zA-ZàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĐ ]{0,40}") {
            let decomposed: String = s.nfd().collect();
            prop_assert_eq!(fold(&s), fold(&decomposed));
            prop_assert_eq!(fold(&s.to_uppercase()), fold(&s));
        }

        #[test]
        fn sort_keys_agree_with_compare(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            let by_key = sort_key(&a).cmp(&sort_key(&b));
            let direct = compare(&nfc(&a), &nfc(&b));
            prop_assert_eq!(by_key, direct);
        }
    }
}
