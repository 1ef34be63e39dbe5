//! The programme of the demo province: creative models of every kind, the report's three
//! among them (a digital street and digitised relics in Cần Giuộc, a photo and video contest
//! and a seminar on rural women in the digital age in Tân Hưng, a youth counter helping
//! citizens in Châu Thành), their evaluations and awards, two years of trainings and events
//! with the team members who attended, a digital street of twenty places and a heritage route
//! of five relics with their plaques' scans.

use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use ngoso_core::programme::{
    AwardLevel, EventFields, EventForm, ModelFields, ModelForm, ModelStatus, PlaceFields, PlaceForm,
};
use ngoso_core::unit::UnitPath;
use ngoso_store::programme::{self, evaluations, events, places};
use ngoso_store::{Db, units};

use crate::Failure;
use crate::demo::Rng;
use crate::t;

/// The digital street's places: name, kind, opening hours, how one pays.
const STREET: [(&str, &str, &str, &str); 20] = [
    ("Sạp cá cô Ba", "market_stall", "5:00–11:00 hằng ngày", "VietQR"),
    ("Sạp rau bà Tư", "market_stall", "5:00–10:30 hằng ngày", "VietQR"),
    ("Tiệm tạp hoá Hai Lúa", "shop", "6:00–21:00 hằng ngày", "VietQR, thẻ ngân hàng"),
    ("Quán cà phê Gió Sông", "eatery", "6:00–22:00 hằng ngày", "VietQR, ví điện tử"),
    ("Tiệm vàng Kim Phát", "shop", "7:00–18:00, trừ Chủ nhật", "Thẻ ngân hàng, chuyển khoản"),
    ("Nhà thuốc Phước Lý", "shop", "6:30–21:30 hằng ngày", "VietQR, thẻ ngân hàng"),
    ("Sạp thịt heo chú Năm", "market_stall", "4:30–10:00 hằng ngày", "VietQR"),
    ("Quán hủ tiếu Mỹ Tho", "eatery", "5:30–13:00 hằng ngày", "VietQR"),
    ("Tiệm điện thoại Minh Anh", "shop", "7:30–21:00 hằng ngày", "VietQR, thẻ ngân hàng, trả góp"),
    ("Sạp trái cây chị Út", "market_stall", "5:00–18:00 hằng ngày", "VietQR"),
    ("Tiệm may Hồng Nhung", "shop", "7:00–19:00, trừ Thứ Hai", ""),
    ("Quán bánh xèo Cần Giuộc", "eatery", "15:00–21:00 hằng ngày", "VietQR"),
    ("Sạp khô cá sặc", "market_stall", "5:00–11:00 hằng ngày", "VietQR"),
    ("Cửa hàng vật tư nông nghiệp Thành Công", "shop", "6:30–18:00 hằng ngày", "Chuyển khoản, thẻ ngân hàng"),
    ("Tiệm bánh mì Hoà Bình", "eatery", "5:00–10:00, 15:00–20:00", "VietQR"),
    ("Sạp quần áo cô Sáu", "market_stall", "6:00–17:00 hằng ngày", "VietQR"),
    (
        "Điểm giao dịch bưu điện xã",
        "public_service",
        "7:30–11:30, 13:30–17:00, Thứ Hai–Thứ Bảy",
        "VietQR, thẻ ngân hàng",
    ),
    ("Tiệm sửa xe Tám Lợi", "shop", "6:30–18:00 hằng ngày", ""),
    ("Quán chè bà Bảy", "eatery", "13:00–21:00 hằng ngày", "VietQR"),
    ("Nhà sách Tuổi Trẻ", "shop", "7:00–21:00 hằng ngày", "VietQR, thẻ ngân hàng"),
];

/// The heritage route's relics: name and history.
const RELICS: [(&str, &str); 5] = [
    (
        "Đình Trường Bình",
        "Đình làng dựng cuối thế kỷ XIX, thờ Thành hoàng bổn cảnh; lễ Kỳ yên tổ chức hằng năm vào tháng Giêng âm lịch.",
    ),
    ("Chùa Tôn Thạnh", "Chùa cổ dựng năm 1808, nơi cụ Nguyễn Đình Chiểu sống và viết Văn tế nghĩa sĩ Cần Giuộc."),
    ("Đình Phước Lâm", "Đình làng có bộ khung gỗ và hoành phi, câu đối chạm trổ công phu; di tích cấp tỉnh."),
    ("Miếu Bà Chúa Xứ", "Miếu thờ Bà Chúa Xứ của cư dân ven sông, gắn với lễ hội cúng đình cuối năm."),
    (
        "Khu tưởng niệm nghĩa sĩ Cần Giuộc",
        "Nơi ghi dấu trận đánh đồn Cần Giuộc năm 1861 của nghĩa quân chống thực dân Pháp.",
    ),
];

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a demo day")
}

fn fields(name: &str, description: &str, started: &str, partners: &str, outcomes: &[(&str, &str)]) -> ModelFields {
    ModelFields::parse(&ModelForm {
        name,
        description,
        started_on: started,
        partners,
        outcomes: outcomes.to_vec(),
        links: Vec::new(),
    })
    .expect("a demo model is valid")
}

/// The commune open today whose name holds `word`, else `fallback`.
fn named<'a>(
    communes: &'a [units::UnitListItem],
    word: &str,
    fallback: &'a units::UnitListItem,
) -> &'a units::UnitListItem {
    communes.iter().find(|c| c.name.contains(word)).unwrap_or(fallback)
}

pub async fn generate(db: &Db, seed: u64, officer_unit: i64) -> Result<(), Failure> {
    let started = Instant::now();
    let mut rng = Rng::new(seed ^ 0x7072_6f67);
    let today = ngoso_store::teams::today();
    let root = units::children_on(db, None, today).await?;
    let Some(province) = root.first() else { return Ok(()) };
    let mut communes: Vec<units::UnitListItem> = Vec::new();
    for c in units::children_on(db, Some(province.id), today).await? {
        if c.child_count > 0 && c.kind != "huyện" && c.kind != "thị xã" && c.kind != "thành phố" {
            communes.push(c);
        } else {
            communes.extend(units::children_on(db, Some(c.id), today).await?);
        }
    }
    let own = units::get(db, officer_unit).await?;
    let Some(home) = communes.iter().find(|c| c.id == own.id).or(communes.first()).cloned() else { return Ok(()) };
    let can_giuoc = home.clone();
    let tan_hung = named(&communes, "Tân Hưng", &communes[communes.len() / 3]).clone();
    let chau_thanh = named(&communes, "Châu Thành", &communes[communes.len() / 2]).clone();

    let mut models = 0usize;
    let mut create = |unit: i64, kind: &str, status: ModelStatus, f: ModelFields| {
        models += 1;
        programme::NewModel {
            unit_id: unit,
            kind: kind.into(),
            status,
            fields: f,
            copied_from: None,
            created_by: None,
            members: Vec::new(),
        }
    };
    let street = create(
        can_giuoc.id,
        "digital_street",
        ModelStatus::Running,
        fields(
            "Tuyến phố số chợ Cần Giuộc",
            "Mỗi cửa hàng, sạp chợ trên tuyến có biển mã QR giới thiệu và nhận thanh toán không dùng tiền mặt.\nTổ công nghệ số cộng đồng hướng dẫn tiểu thương mở tài khoản và in mã VietQR.",
            "2024-04-15",
            "Đoàn Thanh niên xã\nChi nhánh ngân hàng trên địa bàn\nBan quản lý chợ",
            &[("qr_plaques", "20"), ("people_served", "3.650")],
        ),
    );
    let street = programme::create(db, &street).await?;
    let heritage = create(
        can_giuoc.id,
        "digital_heritage",
        ModelStatus::Evaluated,
        fields(
            "Số hoá di tích lịch sử Cần Giuộc",
            "Giới thiệu năm di tích trên địa bàn bằng mã QR: lịch sử, hình ảnh, giờ mở cửa.",
            "2024-07-01",
            "Phòng Văn hoá – Thông tin\nTrường THPT trên địa bàn",
            &[("relics_digitised", "5"), ("qr_plaques", "5"), ("people_served", "1.280")],
        ),
    );
    let heritage = programme::create(db, &heritage).await?;
    let contest = create(
        tan_hung.id,
        "contest",
        ModelStatus::Evaluated,
        fields(
            "Cuộc thi ảnh và video “Phụ nữ nông thôn thời đại số”",
            "Cuộc thi ảnh, video ngắn về phụ nữ nông thôn dùng công nghệ số trong sản xuất, buôn bán và đời sống.",
            "2024-08-10",
            "Hội Liên hiệp Phụ nữ xã",
            &[("entries_received", "146"), ("participants", "98")],
        ),
    );
    let contest = programme::create(db, &contest).await?;
    let seminar = create(
        tan_hung.id,
        "seminar",
        ModelStatus::Evaluated,
        fields(
            "Toạ đàm “Phụ nữ nông thôn trong thời đại số”",
            "Toạ đàm chia sẻ cách bán hàng trực tuyến, thanh toán không dùng tiền mặt và giữ an toàn trên mạng.",
            "2024-10-20",
            "Hội Liên hiệp Phụ nữ xã\nBưu điện xã",
            &[("participants", "120")],
        ),
    );
    let seminar = programme::create(db, &seminar).await?;
    let counter = create(
        chau_thanh.id,
        "help_counter",
        ModelStatus::Running,
        fields(
            "Quầy thanh niên hỗ trợ người dân",
            "Đoàn viên trực tại bộ phận một cửa hướng dẫn người dân nộp hồ sơ trực tuyến, kích hoạt định danh điện tử.",
            "2024-03-26",
            "Đoàn Thanh niên xã\nUBND xã",
            &[("people_served", "2.350")],
        ),
    );
    let counter = programme::create(db, &counter).await?;
    // Others of every kind across the province, some copied from the report's.
    let mut others = Vec::new();
    for i in 0..12 {
        let c = &communes[(i * 7 + 3) % communes.len()];
        let (kind, name, status) = match i % 6 {
            0 => ("digital_street", format!("Chợ 4.0 {}", c.name), ModelStatus::Proposed),
            1 => ("help_counter", format!("Quầy hỗ trợ dịch vụ công {}", c.name), ModelStatus::Running),
            2 => ("other", format!("Ấp không dùng tiền mặt – {}", c.name), ModelStatus::Running),
            3 => ("contest", format!("Cuộc thi “Tìm hiểu chuyển đổi số” {}", c.name), ModelStatus::Evaluated),
            4 => {
                ("seminar", format!("Hội thảo an toàn thông tin cho người cao tuổi – {}", c.name), ModelStatus::Stopped)
            }
            _ => ("other", format!("Zalo ấp kết nối người dân – {}", c.name), ModelStatus::Proposed),
        };
        let served = rng.range(80, 1_500).to_string();
        let started = format!("{}-{:02}-{:02}", 2024 + (i % 2), rng.range(1, 12), rng.range(1, 28));
        let m = create(c.id, kind, status, fields(&name, "", &started, "", &[("people_served", &served)]));
        others.push((programme::create(db, &m).await?, status));
    }
    if let Some(c) = communes.get(5) {
        programme::copy(db, street, c.id, None).await?;
        models += 1;
    }

    // Evaluations of the evaluated models, a few for the running ones; awards.
    let set = evaluations::criteria_sets(db).await?.into_iter().find(|s| s.code == "creative_model");
    let mut evaluated = vec![heritage, contest, seminar];
    evaluated.extend(others.iter().filter(|(_, s)| *s == ModelStatus::Evaluated).map(|(id, _)| *id));
    let mut n_evaluations = 0;
    if let Some(set) = &set {
        for (k, &id) in evaluated.iter().chain([street, counter].iter()).enumerate() {
            let scores = set
                .criteria
                .iter()
                .map(|c| {
                    let lo = (c.max_score as u64) / 2;
                    (c.code.clone(), rng.range(lo, c.max_score as u64).to_string())
                })
                .collect();
            let n = evaluations::NewEvaluation {
                model_id: id,
                set: set.code.clone(),
                reviewer_id: None,
                reviewer: ["Hội đồng thi đua xã", "Sở Khoa học và Công nghệ"][k % 2].into(),
                evaluated_on: day(&format!("{}-11-{:02}", 2024 + (k % 2) as i32, 10 + k)),
                comment: "Mô hình thiết thực, dễ nhân rộng.".into(),
                scores,
            };
            evaluations::evaluate(db, &n).await?;
            n_evaluations += 1;
        }
    }
    let teams = ngoso_store::teams::list(db, Some(&UnitPath::from_stored(can_giuoc.path.clone()))).await?;
    let mut awards: Vec<(&str, AwardLevel, &str, evaluations::Recipient)> = vec![
        (
            "Mô hình chuyển đổi số tiêu biểu",
            AwardLevel::Province,
            "2024-12-20",
            evaluations::Recipient::Model(heritage),
        ),
        ("Giải nhất mô hình sáng tạo", AwardLevel::Commune, "2025-01-15", evaluations::Recipient::Model(counter)),
        ("Bằng khen cuộc thi sáng tạo", AwardLevel::Province, "2024-12-20", evaluations::Recipient::Model(contest)),
    ];
    if let Some(team) = teams.first() {
        awards.push((
            "Tổ công nghệ số cộng đồng tiêu biểu",
            AwardLevel::Commune,
            "2025-12-10",
            evaluations::Recipient::Team(team.id),
        ));
    }
    let members = events::member_ids_within(db, &UnitPath::from_stored(can_giuoc.path.clone()), today).await?;
    if let Some(&m) = members.first() {
        awards.push((
            "Thành viên tổ công nghệ số tiêu biểu",
            AwardLevel::Province,
            "2025-12-10",
            evaluations::Recipient::Member(m),
        ));
    }
    for (title, level, on, to) in &awards {
        let n = evaluations::NewAward {
            title: (*title).into(),
            level: *level,
            awarded_on: day(on),
            to: *to,
            created_by: None,
        };
        evaluations::give(db, &n).await?;
    }

    // The digital street's twenty places and the heritage route's five relics, with two
    // months of their plaques' scans.
    let mut place_ids = Vec::new();
    for (name, kind, hours, how) in STREET {
        let f = PlaceFields::parse(&PlaceForm {
            kind,
            name,
            address: "Đường chợ, trung tâm xã",
            opening_hours: hours,
            cashless_how: how,
            description: "Tiểu thương trên tuyến phố số: quét mã để thanh toán, xem giờ mở cửa.",
            ..Default::default()
        })
        .expect("a demo place is valid");
        place_ids.push(places::add(db, street, &f).await?.0);
    }
    for (name, history) in RELICS {
        let f = PlaceFields::parse(&PlaceForm {
            kind: "relic",
            name,
            opening_hours: "7:00–17:00 hằng ngày",
            description: "Di tích trên tuyến di tích số của xã: quét mã để nghe giới thiệu.",
            history,
            ..Default::default()
        })
        .expect("a demo relic is valid");
        place_ids.push(places::add(db, heritage, &f).await?.0);
    }
    let mut scans = 0u64;
    for d in 0..60 {
        let on = today - chrono::Days::new(d);
        for &p in &place_ids {
            let n = rng.range(0, 6);
            if n > 0 {
                places::record_scans(db, p, on, n as i64).await?;
                scans += n;
            }
        }
    }

    // Two years of trainings and events in a dozen communes, the members who attended.
    let mut n_events = 0;
    let first = today.year() - 1;
    let mut hosts: Vec<&units::UnitListItem> = vec![&can_giuoc, &tan_hung, &chau_thanh];
    hosts.extend(communes.iter().step_by((communes.len() / 9).max(1)).take(9));
    for (h, c) in hosts.iter().enumerate() {
        let within = UnitPath::from_stored(c.path.clone());
        let crew = events::member_ids_within(db, &within, today).await?;
        for year in first..=today.year() {
            for quarter in 0..4u32 {
                let month = quarter * 3 + 1 + (h as u32 % 3);
                let Some(on) = NaiveDate::from_ymd_opt(year, month, 5 + (h as u32 % 20)) else { continue };
                if on > today {
                    continue;
                }
                let (kind, title, topic) = match quarter {
                    0 => (
                        "training",
                        "Tập huấn kỹ năng số cho tổ công nghệ số cộng đồng",
                        "Định danh điện tử, dịch vụ công trực tuyến",
                    ),
                    1 => ("campaign", "Ra quân “Ngày chủ nhật số”", "Cài ứng dụng, thanh toán không dùng tiền mặt"),
                    2 => ("training", "Bồi dưỡng an toàn thông tin cho tổ viên", "Nhận diện lừa đảo trực tuyến"),
                    _ if h % 2 == 0 => ("seminar", "Toạ đàm chuyển đổi số ở ấp", "Kinh nghiệm của các tổ"),
                    _ => ("contest", "Hội thi tổ công nghệ số giỏi", "Thực hành hướng dẫn người dân"),
                };
                let served = if kind == "campaign" { rng.range(60, 400) } else { 0 };
                let (male, female) = (served * rng.range(40, 55) / 100, 0);
                let female = if served > 0 { served - male } else { female };
                let served_s = served.to_string();
                let (male_s, female_s) = (male.to_string(), female.to_string());
                let on_s = on.to_string();
                let f = EventFields::parse(&EventForm {
                    kind,
                    title,
                    topic,
                    place: "Hội trường UBND xã",
                    organiser: "UBND xã",
                    starts_on: &on_s,
                    citizens_served: if served > 0 { &served_s } else { "" },
                    by_sex: if served > 0 { [&male_s, &female_s] } else { ["", ""] },
                    ..Default::default()
                })
                .map_err(|e| Failure::Other(format!("a demo event is invalid: {e:?}")))?;
                let attended: Vec<i64> = crew.iter().copied().filter(|_| rng.range(0, 99) < 65).collect();
                events::create(db, c.id, &f, &attended, None).await?;
                n_events += 1;
            }
        }
    }
    // The youth counter opens three days a week, with the citizens it served.
    for year in first..=today.year() {
        let Some(on) = NaiveDate::from_ymd_opt(year, 3, 26) else { continue };
        if on > today {
            continue;
        }
        let on_s = on.to_string();
        let served = rng.range(900, 1_400).to_string();
        let f = EventFields::parse(&EventForm {
            kind: "help_counter",
            title: "Quầy thanh niên hỗ trợ người dân",
            topic: "Dịch vụ công trực tuyến, định danh điện tử",
            place: "Bộ phận một cửa UBND xã",
            organiser: "Đoàn Thanh niên xã",
            starts_on: &on_s,
            ends_on: &format!("{year}-12-31").min(today.to_string()),
            opening_days: "mon, wed, fri",
            citizens_served: &served,
            ..Default::default()
        })
        .map_err(|e| Failure::Other(format!("a demo event is invalid: {e:?}")))?;
        events::create(db, chau_thanh.id, &f, &[], None).await?;
        n_events += 1;
    }
    println!(
        "{}",
        t(
            "cli-demo-programme",
            &[
                ("models", &models.to_string()),
                ("evaluations", &n_evaluations.to_string()),
                ("awards", &awards.len().to_string()),
                ("events", &n_events.to_string()),
                ("places", &place_ids.len().to_string()),
                ("scans", &scans.to_string()),
                ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64())),
            ]
        )
    );
    Ok(())
}
