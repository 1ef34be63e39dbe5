//! Tests of `feedback`.

use super::*;

#[test]
fn tracking_codes_round_trip() {
    let c = TrackingCode::parse("PAKN.20241015.0001").unwrap();
    assert_eq!(c.day, NaiveDate::from_ymd_opt(2024, 10, 15).unwrap());
    assert_eq!(c.seq, 1);
    assert_eq!(c.to_string(), "PAKN.20241015.0001");
    let big = TrackingCode { day: c.day, seq: 12345 };
    assert_eq!(big.to_string(), "PAKN.20241015.12345");
    assert_eq!(TrackingCode::parse(&big.to_string()).unwrap(), big);
    assert_eq!(TrackingCode::parse(" pakn.20241015.0042 ").unwrap().seq, 42);
    for bad in [
        "",
        "PAKN",
        "PAKN.20241015",
        "PAKN.20241315.0001",
        "PAKN.20241015.0000",
        "PAKN.20241015.001",
        "PAKN.20241015.00001",
        "PAKN.2024101.0001",
        "XXXX.20241015.0001",
        "PAKN.20241015.0001.1",
        "PAKN.2024１015.0001",
    ] {
        assert!(TrackingCode::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn item_codes_are_ours_or_an_earlier_systems() {
    assert_eq!(item_code(" pakn.20241015.42 ").unwrap_err().code, "feedback-code-invalid");
    assert_eq!(item_code(" pakn.20241015.0042 ").unwrap(), "PAKN.20241015.0042");
    assert_eq!(item_code(" HCC-2024_001.a ").unwrap(), "HCC-2024_001.a");
    for bad in ["", "PAKN.2024.1", "pakn.x", "mã/8", "a b", "%00", &"x".repeat(41)] {
        assert!(item_code(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn every_state_and_move_round_trips() {
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()).unwrap(), s);
    }
    for m in Move::ALL {
        assert_eq!(Move::parse(m.as_str()).unwrap(), m);
    }
    assert!(State::parse("open").is_err());
    assert!(Move::parse("teleport").is_err());
}

/// The whole transition table, written out by hand: (from, move) → to; every pair not
/// listed is refused.
#[test]
fn transitions_are_exactly_the_table() {
    use Move as M;
    use State::*;
    let allowed: &[(State, Move, State)] = &[
        (Received, M::Forward, Forwarded),
        (Received, M::Reject, Rejected),
        (Received, M::Duplicate, Duplicate),
        (Forwarded, M::Forward, Forwarded),
        (Forwarded, M::Start, InProgress),
        (Forwarded, M::AskInfo, NeedsInfo),
        (Forwarded, M::Answer, Answered),
        (Forwarded, M::Reject, Rejected),
        (Forwarded, M::Duplicate, Duplicate),
        (InProgress, M::Forward, Forwarded),
        (InProgress, M::AskInfo, NeedsInfo),
        (InProgress, M::Answer, Answered),
        (InProgress, M::Reject, Rejected),
        (InProgress, M::Duplicate, Duplicate),
        (NeedsInfo, M::Forward, Forwarded),
        (NeedsInfo, M::InfoReceived, InProgress),
        (NeedsInfo, M::Reject, Rejected),
        (NeedsInfo, M::Duplicate, Duplicate),
        (Answered, M::Close, Closed),
        (Answered, M::Reopen, InProgress),
    ];
    for from in State::ALL {
        for m in Move::ALL {
            let want = allowed.iter().find(|(f, mv, _)| *f == from && *mv == m).map(|t| t.2);
            match (m.apply(from), want) {
                (Ok(to), Some(w)) => assert_eq!(to, w, "{from} {m:?}"),
                (Err(e), None) => assert_eq!(e.code, "feedback-move-refused"),
                (got, want) => panic!("{from} {m:?}: got {got:?}, want {want:?}"),
            }
        }
    }
    for terminal in [Closed, Rejected, Duplicate] {
        assert!(Move::allowed_from(terminal).is_empty());
    }
}

#[test]
fn open311_status_follows_pending() {
    assert_eq!(State::NeedsInfo.open311(), "open");
    assert_eq!(State::Answered.open311(), "closed");
    assert_eq!(State::Duplicate.open311(), "closed");
}

#[test]
fn text_is_kept_as_given_within_limits() {
    assert_eq!(parse_text("  Đường hư 🕳️\r\nngập nước  ", "description", 4000).unwrap(), "Đường hư 🕳️\nngập nước");
    assert_eq!(parse_text("ho\u{300}a", "description", 10).unwrap(), "hòa");
    assert_eq!(parse_text("   ", "description", 10).unwrap_err().code, "required");
    assert_eq!(parse_text("a\0b", "description", 10).unwrap_err().code, "text-control-chars");
    let long = "ă".repeat(4001);
    assert_eq!(parse_text(&long, "description", DESCRIPTION_MAX).unwrap_err().code, "too-long");
    assert!(parse_text(&"ă".repeat(4000), "description", DESCRIPTION_MAX).is_ok());
    assert_eq!(parse_line(" Ấp 1 ", "address", 10).unwrap().as_deref(), Some("Ấp 1"));
    assert_eq!(parse_line("", "address", 10).unwrap(), None);
    assert!(parse_line("a\nb", "address", 10).is_err());
}

#[test]
fn extra_fields_and_answers() {
    let kind = ExtraField::parse(
        "kind",
        "Loại",
        "Kind",
        "singlevaluelist",
        true,
        "pothole = Ổ gà / Pothole\nflood = Ngập / Flood",
    )
    .unwrap();
    assert_eq!(kind.values.len(), 2);
    let size = ExtraField::parse("size_m2", "Diện tích", "Area", "number", false, "").unwrap();
    assert!(ExtraField::parse("x", "X", "X", "singlevaluelist", false, "").is_err());
    assert!(ExtraField::parse("x", "X", "X", "string", false, "a = b").is_err());
    assert!(ExtraField::parse("Bad Code", "X", "X", "string", false, "").is_err());
    let fields = vec![kind, size];
    let ans = |k: &str, v: &[&str]| {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        let k = k.to_owned();
        move |c: &str| if c == k { v.clone() } else { vec![] }
    };
    let got = parse_answers(&fields, ans("kind", &["flood"])).unwrap();
    assert_eq!(got.get("kind").unwrap(), &vec!["flood".to_string()]);
    assert_eq!(parse_answers(&fields, ans("size_m2", &["3"])).unwrap_err().code, "attribute-required");
    assert_eq!(parse_answers(&fields, ans("kind", &["fire"])).unwrap_err().code, "attribute-invalid");
    assert_eq!(parse_answers(&fields, ans("kind", &["flood", "pothole"])).unwrap_err().code, "attribute-invalid");
}

#[test]
fn points_and_emails() {
    assert_eq!(Point::parse("", "").unwrap(), None);
    assert_eq!(Point::parse("10.5", "106.4").unwrap(), Some(Point { lat: 10.5, lon: 106.4 }));
    assert!(Point::parse("91", "0").is_err());
    assert!(Point::parse("10", "").is_err());
    assert!(Point::parse("NaN", "1").is_err());
    assert_eq!(parse_email(" an@example.vn ").unwrap().as_deref(), Some("an@example.vn"));
    assert_eq!(parse_email("").unwrap(), None);
    for bad in ["an", "an@", "@x.vn", "an@vn", "a n@x.vn", "a@x.vn.", "<a@x.vn>"] {
        assert!(parse_email(bad).is_err(), "{bad}");
    }
}
