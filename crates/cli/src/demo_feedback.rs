//! The feedback part of the demo: agencies, categories with extra fields, routing, the
//! holidays of 2025–2026, and a few thousand items in every state over the last eighteen
//! months, made through the same store calls as real work so every figure and history row
//! is what the application itself would have written.

use std::time::Instant;

use ngoso_core::calendar::{DayKind, DayOff};
use ngoso_core::feedback::{Channel, ExtraField, Move, Rating, TrackingCode};
use ngoso_store::feedback::{self as store, MoveInput, NewItem};
use ngoso_store::feedback_setup::{self as setup, NewCategory};
use ngoso_store::{Db, units};

use crate::Failure;
use crate::demo::Rng;

/// (code, Vietnamese, English, days, kind, extra field: (code, vi, en, choices))
type CategorySpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str, &'static str, &'static str)>,
);

const CATEGORIES: [CategorySpec; 7] = [
    (
        "giao_thong",
        "Giao thông, đường sá",
        "Roads and traffic",
        "10",
        "working",
        Some((
            "loai",
            "Loại sự cố",
            "Kind of problem",
            "o_ga = Ổ gà, sụt lún / Pothole\nden_duong = Đèn đường hỏng / Street light out\nngap = Ngập nước / Flooding\nbien_bao = Biển báo / Road sign",
        )),
    ),
    ("moi_truong", "Môi trường, rác thải", "Environment and waste", "10", "working", None),
    ("dien_nuoc", "Điện, nước sinh hoạt", "Power and water", "7", "working", None),
    ("an_ninh", "An ninh, trật tự", "Public order", "5", "working", None),
    ("thu_tuc", "Thủ tục hành chính, dịch vụ công", "Administrative procedures", "15", "working", None),
    (
        "chuyen_doi_so",
        "Ứng dụng số, VNeID, thanh toán",
        "Digital services, VNeID, payments",
        "7",
        "working",
        Some((
            "ung_dung",
            "Ứng dụng",
            "Application",
            "vneid = VNeID / VNeID\napp_tinh = Ứng dụng công dân tỉnh / Provincial app\nvssid = VssID / VssID\nthanh_toan = Thanh toán không dùng tiền mặt / Cashless payment",
        )),
    ),
    ("khac", "Khác", "Other", "20", "calendar", None),
];

/// (code, Vietnamese, English, category routed to it or None for the catch-all)
const AGENCIES: [(&str, &str, &str, Option<&str>); 6] = [
    ("vp_ubnd_tinh", "Văn phòng UBND tỉnh", "Provincial People's Committee Office", None),
    ("so_xd", "Sở Xây dựng (giao thông)", "Department of Construction (transport)", Some("giao_thong")),
    ("so_nnmt", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment", Some("moi_truong")),
    ("dien_luc", "Công ty Điện lực Long An", "Long An Power Company", Some("dien_nuoc")),
    ("cong_an", "Công an tỉnh", "Provincial Police", Some("an_ninh")),
    ("so_khcn", "Sở Khoa học và Công nghệ", "Department of Science and Technology", Some("chuyen_doi_so")),
];

/// Days off on weekdays, and make-up working days, 2025–2026.
const DAYS: [(&str, DayOff, &str); 20] = [
    ("2025-01-01", DayOff::Holiday, "Tết Dương lịch"),
    ("2025-01-27", DayOff::Holiday, "Tết Ất Tỵ"),
    ("2025-01-28", DayOff::Holiday, "Tết Ất Tỵ"),
    ("2025-01-29", DayOff::Holiday, "Tết Ất Tỵ"),
    ("2025-01-30", DayOff::Holiday, "Tết Ất Tỵ"),
    ("2025-01-31", DayOff::Holiday, "Tết Ất Tỵ"),
    ("2025-04-07", DayOff::Holiday, "Giỗ Tổ Hùng Vương"),
    ("2025-04-26", DayOff::Workday, "Làm bù cho 02/5"),
    ("2025-04-30", DayOff::Holiday, "Ngày Giải phóng miền Nam"),
    ("2025-05-01", DayOff::Holiday, "Quốc tế Lao động"),
    ("2025-05-02", DayOff::Holiday, "Nghỉ bù"),
    ("2025-09-01", DayOff::Holiday, "Quốc khánh"),
    ("2025-09-02", DayOff::Holiday, "Quốc khánh"),
    ("2026-01-01", DayOff::Holiday, "Tết Dương lịch"),
    ("2026-02-16", DayOff::Holiday, "Tết Bính Ngọ"),
    ("2026-02-17", DayOff::Holiday, "Tết Bính Ngọ"),
    ("2026-02-18", DayOff::Holiday, "Tết Bính Ngọ"),
    ("2026-02-19", DayOff::Holiday, "Tết Bính Ngọ"),
    ("2026-02-20", DayOff::Holiday, "Tết Bính Ngọ"),
    ("2026-09-02", DayOff::Holiday, "Quốc khánh"),
];

const TEXTS: [(&str, &[&str]); 7] = [
    (
        "giao_thong",
        &[
            "Đoạn đường trước trường tiểu học có ổ gà lớn, xe máy dễ té ngã.",
            "Đèn đường trên Tỉnh lộ 826 tắt mấy đêm liền 🌑",
            "Mưa lớn là ngập cả đoạn đường vào ấp, nước ngang đầu gối.",
            "Biển báo giao thông ở ngã ba bị gãy, đề nghị thay mới.",
        ],
    ),
    (
        "moi_truong",
        &[
            "Rác thải đổ bừa bãi ven kênh, bốc mùi hôi 🤢",
            "Xe thu gom rác không đến 2 tuần nay.",
            "Cơ sở chăn nuôi xả nước thải ra mương.",
        ],
    ),
    (
        "dien_nuoc",
        &[
            "Nước máy có mùi lạ, đục từ hôm qua.",
            "Cúp điện thường xuyên vào buổi tối, không báo trước.",
            "Đồng hồ nước nhà tôi chạy dù không dùng.",
        ],
    ),
    (
        "an_ninh",
        &["Thanh niên tụ tập đua xe ban đêm, gây ồn ào.", "Karaoke hát quá 22 giờ ảnh hưởng người già, trẻ nhỏ."],
    ),
    (
        "thu_tuc",
        &[
            "Hồ sơ cấp đổi giấy chứng nhận quyền sử dụng đất quá hạn chưa có kết quả.",
            "Nộp hồ sơ trực tuyến nhưng bị yêu cầu nộp lại bản giấy.",
        ],
    ),
    (
        "chuyen_doi_so",
        &[
            "Không kích hoạt được tài khoản định danh mức 2, báo lỗi sai thông tin.",
            "Ứng dụng công dân tỉnh không đăng nhập được sau khi cập nhật 📱",
            "Quét mã QR trả tiền học phí bị trừ tiền nhưng trường báo chưa nhận.",
            "Cần hướng dẫn cho người cao tuổi cài VssID.",
        ],
    ),
    (
        "khac",
        &["Đề nghị lắp thêm ghế đá ở công viên ấp.", "Góp ý: nên có thêm buổi hướng dẫn kỹ năng số vào cuối tuần."],
    ),
];

const ANSWERS: [&str; 5] = [
    "Cơ quan đã kiểm tra hiện trường và khắc phục xong. Cảm ơn ông/bà đã phản ánh.",
    "Đã chỉ đạo đơn vị chuyên môn xử lý; dự kiến hoàn thành trong tuần tới.",
    "Tổ công nghệ số cộng đồng đã đến tận nhà hướng dẫn, tài khoản đã hoạt động.",
    "Đã làm việc với đơn vị liên quan, sự việc đã được chấn chỉnh.",
    "Nội dung đã được tiếp thu, sẽ đưa vào kế hoạch năm sau.",
];

const DAY: i64 = 86_400;

/// Creates the feedback set-up and `n` items; the demo commune gets its own office. With
/// `reported`, that many more items were received in 2024, every one answered (the seed
/// report's year).
pub async fn generate(
    db: &Db,
    seed: u64,
    n: usize,
    demo_commune: &str,
    reported: Option<usize>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let mut rng = Rng::new(seed ^ 0x5041_4B4E);
    let mut cats = Vec::new();
    for (code, vi, en, days, kind, field) in CATEGORIES {
        let id = setup::create_category(
            db,
            &NewCategory {
                code,
                name_vi: vi,
                name_en: en,
                description_vi: "",
                description_en: "",
                deadline_days: days,
                day_kind: kind,
            },
        )
        .await?;
        let mut choices = vec![];
        if let Some((fcode, fvi, fen, values)) = field {
            let f = ExtraField::parse(fcode, fvi, fen, "singlevaluelist", true, values)
                .map_err(|e| Failure::Other(e.to_string()))?;
            choices = f.values.iter().map(|v| v.key.clone()).collect();
            setup::add_field(db, id, f).await?;
        }
        let kind = DayKind::parse(kind).map_err(|e| Failure::Other(e.to_string()))?;
        cats.push((id, code, days.parse::<u32>().unwrap_or(10), kind, field.map(|f| f.0), choices));
    }
    for (day, kind, name) in DAYS {
        let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|e| Failure::Other(e.to_string()))?;
        setup::set_day(db, d, kind, name).await?;
    }
    let cal = setup::calendar(db).await?;
    let mut agencies = Vec::new();
    for (code, vi, en, _) in AGENCIES {
        agencies.push(setup::create_agency(db, code, vi, en, "").await?.0);
    }
    let commune = units::by_code(db, demo_commune).await?;
    let (commune_office, _) = setup::create_agency(
        db,
        "ubnd_xa_demo",
        &format!("UBND {}", commune.name),
        &format!("{} People's Committee", commune.name),
        "",
    )
    .await?;
    // Places: hamlets (most items), communes, or none (an address only).
    let all = units::down_to_depth(db, 3).await?;
    let hamlets: Vec<&(i64, String, String, i32)> = all.iter().filter(|u| u.3 == 3).collect();
    let communes: Vec<&(i64, String, String, i32)> = all.iter().filter(|u| u.3 == 2).collect();
    let staff = |name: &str| {
        let name = name.to_owned();
        async move {
            let u = ngoso_core::user::Username::parse(&name).map_err(|e| Failure::Other(e.to_string()))?;
            ngoso_store::users::by_username(db, &u)
                .await?
                .map(|u| u.id)
                .ok_or_else(|| Failure::Other(format!("no account {name}")))
        }
    };
    let drafter = staff("canbo.gtvt").await?;
    let reviewer = staff("admin").await?;
    let member = staff("thanhvien").await?;
    let now = ngoso_store::now();
    let span = 540 * DAY;
    let mut made = 0usize;
    // The first item of each category: a later one of the category may be its duplicate.
    let mut first_of: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for i in 0..n {
        // The first few arrive before any routing rule exists: they wait, received.
        if i == n.min(24) {
            setup::set_route(db, None, None, agencies[0]).await?;
            for (k, (_, _, _, cat)) in AGENCIES.iter().enumerate() {
                if let Some(cat) = cat {
                    let cid = cats.iter().find(|c| c.1 == *cat).map(|c| c.0);
                    setup::set_route(db, cid, None, agencies[k]).await?;
                }
            }
            setup::set_route(db, None, Some(commune.id), commune_office).await?;
        }
        let (cid, ccode, days, kind, field, choices) = rng.pick(&cats).clone();
        // Older items are fewer: the platform grew.
        let age = (rng.range(0, 1000) as f64 / 1000.0).powf(1.6) * span as f64;
        let received = now - age as i64 - rng.range(0, 3600) as i64;
        let place = rng.range(0, 99);
        let (unit_id, address) = if place < 70 && !hamlets.is_empty() {
            (Some(rng.pick(&hamlets).0), None)
        } else if place < 90 && !communes.is_empty() {
            (Some(rng.pick(&communes).0), None)
        } else {
            (
                None,
                Some(format!(
                    "Số {} đường {}",
                    rng.range(1, 300),
                    rng.pick(&["Hùng Vương", "Nguyễn Huệ", "Quốc lộ 1A"])
                )),
            )
        };
        let texts = TEXTS.iter().find(|t| t.0 == ccode).map(|t| t.1).unwrap_or(&[]);
        let channel = match rng.range(0, 99) {
            0..=59 => Channel::Web,
            60..=84 => Channel::Team,
            85..=94 => Channel::Hotline,
            _ => Channel::Open311,
        };
        let with_contact = rng.range(0, 1) == 0;
        let mut extra = std::collections::BTreeMap::new();
        if let Some(f) = field {
            extra.insert(f.to_owned(), vec![rng.pick(&choices).clone()]);
        }
        let item = NewItem {
            category_id: cid,
            unit_id,
            address,
            point: None,
            description: rng.pick(texts).to_string(),
            extra,
            channel,
            contact_name: with_contact.then(|| {
                format!(
                    "{} {}",
                    rng.pick(&["Nguyễn", "Trần", "Lê", "Phạm"]),
                    rng.pick(&["Văn An", "Thị Hoa", "Minh Tâm"])
                )
            }),
            contact_phone: with_contact.then(|| format!("09{:08}", rng.range(0, 99_999_999))),
            contact_email: None,
            consent: with_contact,
            submitted_by: (channel == Channel::Team).then_some(member),
            api_key_id: None,
            photo: None,
            received_at: received,
            client_id: None,
            media_url: None,
        };
        let sent = store::submit(db, &cal, days, kind, &item).await?;
        made += 1;
        let earlier = first_of.get(&cid).cloned();
        first_of.entry(cid).or_insert_with(|| sent.code.clone());
        if sent.agency_id.is_none() {
            continue;
        }
        // How far it got, by its age: older items are mostly answered, some are late.
        let age_days = (now - received) / DAY;
        let roll = rng.range(0, 99);
        let step = |d: i64| (received + d * DAY + rng_offset(i)).min(now);
        let id = sent.id;
        let mv = |m: Move, reason: Option<&str>, at: i64| {
            let input = MoveInput { reason: reason.map(str::to_owned), ..Default::default() };
            async move { store::apply_unchecked_at(db, id, drafter, m, &input, at).await }
        };
        if age_days < 1 {
            continue;
        }
        mv(Move::Start, None, step(1)).await?;
        match roll {
            0..=5 => {
                mv(Move::Reject, Some("Nội dung không thuộc phạm vi tiếp nhận phản ánh, kiến nghị."), step(2)).await?;
            }
            6..=9 if earlier.is_some() => {
                let orig = earlier.as_deref().and_then(|c| TrackingCode::parse(c).ok());
                let input = MoveInput { duplicate_of: orig, ..Default::default() };
                if store::apply_unchecked_at(db, id, drafter, Move::Duplicate, &input, step(2)).await.is_err() {
                    mv(Move::Reject, Some("Trùng nội dung đã phản ánh."), step(2)).await?;
                }
            }
            10..=13 => {
                mv(Move::AskInfo, Some("Đề nghị cho biết địa chỉ cụ thể hoặc gửi ảnh hiện trường."), step(2)).await?;
            }
            _ if age_days > i64::from(days) / 2 + 2 && roll < 88 => {
                // Answered: most on time, some late.
                let took = if roll < 70 {
                    rng.range(2, u64::from(days).max(3)) as i64
                } else {
                    i64::from(days) + rng.range(3, 20) as i64
                };
                if took >= age_days {
                    // Not answered yet: still with the agency (an answer dated now would be odd).
                    continue;
                }
                let at = step(took);
                let answer: &&str = rng.pick(&ANSWERS);
                store::draft_answer_unchecked_at(db, id, drafter, answer, at).await?;
                store::apply_unchecked_at(db, id, reviewer, Move::Answer, &MoveInput::default(), at).await?;
                if roll.is_multiple_of(3) {
                    let r =
                        *rng.pick(&[Rating::Satisfied, Rating::Satisfied, Rating::Acceptable, Rating::NotSatisfied]);
                    store::rate(db, &sent.code, &sent.citizen_key, r).await?;
                }
                if roll.is_multiple_of(2) && age_days > 30 {
                    mv(Move::Close, None, step(took + 7).min(now)).await?;
                }
            }
            _ => {
                // Still in progress: the older ones are overdue now.
                if roll.is_multiple_of(5) {
                    store::extend_unchecked(db, &cal, id, drafter, 10, kind, "Chờ kinh phí sửa chữa.").await?;
                }
            }
        }
    }
    // The seed report's year: items received through 2024, every one started and answered
    // (most within their deadline).
    const YEAR_2024: i64 = 1_704_042_000;
    const END_2024: i64 = YEAR_2024 + 366 * DAY;
    for i in 0..reported.unwrap_or(0) {
        let (cid, ccode, days, kind, field, choices) = rng.pick(&cats).clone();
        // Received through the first 355 days; answered within the year, so that the
        // year's figures hold every one.
        let received = YEAR_2024 + (i as i64 * 355 * DAY) / reported.unwrap_or(1) as i64 + rng.range(0, 3600) as i64;
        let texts = TEXTS.iter().find(|t| t.0 == ccode).map(|t| t.1).unwrap_or(&[]);
        let mut extra = std::collections::BTreeMap::new();
        if let Some(f) = field {
            extra.insert(f.to_owned(), vec![rng.pick(&choices).clone()]);
        }
        let item = NewItem {
            category_id: cid,
            unit_id: Some(rng.pick(&hamlets).0),
            address: None,
            point: None,
            description: rng.pick(texts).to_string(),
            extra,
            channel: if rng.range(0, 3) == 0 { Channel::Team } else { Channel::Web },
            contact_name: None,
            contact_phone: None,
            contact_email: None,
            consent: false,
            submitted_by: None,
            api_key_id: None,
            photo: None,
            received_at: received,
            client_id: None,
            media_url: None,
        };
        let sent = store::submit(db, &cal, days, kind, &item).await?;
        made += 1;
        let start = received + 3600;
        store::apply_unchecked_at(db, sent.id, drafter, Move::Start, &MoveInput::default(), start).await?;
        let took = if rng.range(0, 10) < 9 {
            rng.range(2, u64::from(days).max(3)) as i64
        } else {
            i64::from(days) + rng.range(2, 10) as i64
        };
        let at = (received + took * DAY + rng_offset(i)).min(END_2024 - 7200).max(start + 60);
        let answer: &&str = rng.pick(&ANSWERS);
        store::draft_answer_unchecked_at(db, sent.id, drafter, answer, at).await?;
        store::apply_unchecked_at(db, sent.id, reviewer, Move::Answer, &MoveInput::default(), at).await?;
    }
    println!(
        "{}",
        crate::t(
            "cli-demo-feedback",
            &[("count", &made.to_string()), ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64()))]
        )
    );
    Ok(())
}

/// A few hours' spread so that steps on the same day do not share a second.
fn rng_offset(i: usize) -> i64 {
    ((i * 7919) % 8 * 3600) as i64
}
