//! The periodic report: a known data set, and every figure of the report for a unit and a
//! period the same in the XLSX (read back with a reader), the CSV, the HTML and the JSON.

use std::collections::HashMap;
use std::io::Cursor;

use axum::http::{Method, StatusCode};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use ngoso_core::auth::Role;
use serde_json::json;

use crate::http_tests;
use crate::support::TestApp;

/// The sections in the report's order (the workbook's sheets after the cover).
const SECTIONS: [&str; 6] = ["outreach", "identity", "cashless", "feedback", "programme", "teams"];

/// A figure the Vietnamese way: `1.234.567`, `12.000.000 đồng`, `20,5 %`.
fn vi(kind: &str, v: f64) -> String {
    let group = |n: i64| {
        let s = n.abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push('.');
            }
            out.push(ch);
        }
        if n < 0 { format!("-{out}") } else { out }
    };
    match kind {
        "percent" => format!("{v:.1} %").replace('.', ","),
        "money" => format!("{} đồng", group(v.round() as i64)),
        _ => group(v.round() as i64),
    }
}

/// One figure of the report, as the JSON gives it.
#[derive(Debug, Clone)]
struct Figure {
    code: String,
    unit: String,
    combo: Option<String>,
    period: String,
    value: f64,
}

async fn every_format_carries_every_figure(app: &mut TestApp) {
    let t = app.tree().await;
    app.user("so.tt", Role::Officer, Some(&t.province)).await;
    let token = app.token("so.tt").await;
    // Values of 2024Q3 in both communes (and one of 2023Q3 for the year before).
    let set = json!({"dataValues": [
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202407", "orgUnit": "28414", "value": "12000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202407", "orgUnit": "28414", "value": "100000000"},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202408", "orgUnit": "27700", "value": "450000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202408", "orgUnit": "27700", "value": "1500000000"},
        {"dataElement": "HEALTH_FEES_CASHLESS", "period": "202309", "orgUnit": "27700", "value": "7000000"},
        {"dataElement": "HEALTH_FEES_TOTAL", "period": "202309", "orgUnit": "27700", "value": "70000000"},
        {"dataElement": "DIGITAL_SIGNATURES", "period": "202409", "orgUnit": "28414", "value": "1234"},
        {"dataElement": "DIGITAL_SIGNATURES", "period": "202409", "orgUnit": "27700", "value": "2001"},
        {"dataElement": "APP_INSTALLS", "period": "202408", "orgUnit": "28414", "value": "406800"},
    ]});
    let res = app.json(Method::POST, "/api/v1/dataValueSets", Some(set), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let targets = json!({"targets": [
        {"indicator": "HEALTH_FEES_CASHLESS_SHARE", "orgUnit": "80", "period": "2024Q3", "target": "20"},
        {"indicator": "DIGITAL_SIGNATURES", "orgUnit": "80", "period": "2024Q3", "target": 13000},
        {"indicator": "DIGITAL_SIGNATURES", "orgUnit": "794", "period": "2024Q3", "target": 4000},
    ]});
    let res = app.json(Method::PUT, "/api/v1/targets", Some(targets), Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let team = ngoso_store::teams::create(&app.db, t.hamlet_a.id, "Tổ CNSCĐ Ấp 1").await.unwrap();
    for name in ["Nguyễn Văn An", "Lê Thị Bình"] {
        let m = ngoso_store::teams::NewMember {
            full_name: name,
            role: "member",
            affiliation: "youth_union",
            phone: None,
            joined_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            user_id: None,
        };
        ngoso_store::teams::add_member(&app.db, team, &m).await.unwrap();
    }

    let url = |f: &str| format!("/api/v1/reports/periodic?unit=80&period=2024Q3&format={f}&lang=vi");
    // JSON: DHIS2's dataValueSets shape.
    let res = app.json(Method::GET, &url("json"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let doc = res.json();
    assert_eq!((doc["period"].as_str(), doc["orgUnit"].as_str()), (Some("2024Q3"), Some("80")));
    let figures: Vec<Figure> = doc["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Figure {
            code: v["dataElement"].as_str().unwrap().to_owned(),
            unit: v["orgUnit"].as_str().unwrap().to_owned(),
            combo: v["categoryOptionCombo"].as_str().map(str::to_owned),
            period: v["period"].as_str().unwrap().to_owned(),
            value: v["value"].as_str().unwrap().parse().unwrap(),
        })
        .collect();
    let get = |code: &str, unit: &str, combo: Option<&str>, period: &str| {
        figures
            .iter()
            .find(|f| f.code == code && f.unit == unit && f.combo.as_deref() == combo && f.period == period)
            .map(|f| f.value)
    };
    // The known figures: a share summed from its parts, targets and their achievement, the
    // year before, each district, the teams.
    let share = (12_000_000.0 + 450_000_000.0) * 100.0 / (100_000_000.0 + 1_500_000_000.0);
    let share = (share * 10.0f64).round() / 10.0;
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "80", None, "2024Q3"), Some(share), "28.9 %, not the mean 21 %");
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "80", Some("TARGET"), "2024Q3"), Some(20.0));
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "80", Some("ACHIEVEMENT"), "2024Q3"), Some(144.4));
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "80", None, "2023Q3"), Some(10.0));
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "807", None, "2024Q3"), Some(12.0));
    assert_eq!(get("HEALTH_FEES_CASHLESS_SHARE", "794", None, "2024Q3"), Some(30.0));
    assert_eq!(get("HEALTH_FEES_CASHLESS", "80", None, "2024Q3"), Some(462_000_000.0));
    assert_eq!(get("DIGITAL_SIGNATURES", "80", None, "2024Q3"), Some(3235.0));
    assert_eq!(get("DIGITAL_SIGNATURES", "80", Some("ACHIEVEMENT"), "2024Q3"), Some(24.9));
    assert_eq!(get("DIGITAL_SIGNATURES", "794", Some("TARGET"), "2024Q3"), Some(4000.0));
    assert_eq!(get("DIGITAL_SIGNATURES", "794", Some("ACHIEVEMENT"), "2024Q3"), Some(50.0));
    assert_eq!(get("APP_INSTALLS", "807", None, "2024Q3"), Some(406_800.0));
    assert_eq!(get("TEAMS", "80", None, "2024Q3"), Some(1.0));
    assert_eq!(get("TEAM_MEMBERS_ACTIVE", "807", None, "2024Q3"), Some(2.0));
    assert_eq!(get("TEAM_MEMBERS_ACTIVE", "794", None, "2024Q3"), Some(0.0));
    assert!(figures.len() > 40, "{}", figures.len());

    // CSV: UTF-8 with a byte-order mark; one line per figure and unit.
    let res = app.json(Method::GET, &url("csv"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.starts_with('\u{feff}'));
    assert!(res.header("content-disposition").unwrap().contains("ngoso-80-2024Q3.csv"));
    let mut rd = csv::Reader::from_reader(res.body.trim_start_matches('\u{feff}').as_bytes());
    let mut csv_cells: HashMap<(String, String, &str), f64> = HashMap::new();
    let mut section_of: HashMap<String, String> = HashMap::new();
    let mut kind_of: HashMap<String, &'static str> = HashMap::new();
    for r in rd.records() {
        let r = r.unwrap();
        let (section, code, unit) = (r[0].to_owned(), r[1].to_owned(), r[3].to_owned());
        assert_eq!(&r[5], "2024Q3");
        section_of.insert(code.clone(), section);
        for (col, what) in [(6, "value"), (7, "TARGET"), (8, "ACHIEVEMENT"), (9, "before")] {
            if !r[col].is_empty() {
                csv_cells.insert((code.clone(), unit.clone(), what), r[col].parse().unwrap());
            }
        }
    }
    // Kinds, from the indicators (the teams' lines are counts).
    let list = app.json(Method::GET, "/api/v1/indicators", None, Some(&token)).await.json();
    for i in list.as_array().unwrap() {
        let kind = match i["kind"].as_str().unwrap() {
            "money" => "money",
            "percent" => "percent",
            _ => "count",
        };
        kind_of.insert(i["code"].as_str().unwrap().to_owned(), kind);
    }
    let mut expected_csv = 0;
    for f in &figures {
        let what = match (f.combo.as_deref(), f.period == "2024Q3") {
            (None, true) => "value",
            (Some("TARGET"), _) => "TARGET",
            (Some("ACHIEVEMENT"), _) => "ACHIEVEMENT",
            _ => "before",
        };
        expected_csv += 1;
        assert_eq!(csv_cells.get(&(f.code.clone(), f.unit.clone(), what)), Some(&f.value), "CSV: {f:?}");
    }
    assert_eq!(csv_cells.len(), expected_csv, "the CSV has no figure the JSON lacks");

    // XLSX: a cover and a sheet per section; the unit's lines on top, the units below under.
    let res = app.json(Method::GET, &url("xlsx"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.header("content-disposition").unwrap().contains("ngoso-80-2024Q3.xlsx"));
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(res.bytes.clone())).expect("an XLSX workbook");
    let names = wb.sheet_names();
    assert_eq!(names.len(), 1 + SECTIONS.len(), "{names:?}");
    let cover = wb.worksheet_range(&names[0]).unwrap();
    let cover_text: Vec<String> = cover.cells().map(|(_, _, c)| c.to_string()).collect();
    for want in ["Long An (80)", "Quý 3/2024 (2024Q3)", "Báo cáo định kỳ"] {
        assert!(cover_text.iter().any(|c| c == want), "cover: {want} in {cover_text:?}");
    }
    let num = |d: Option<&Data>| match d {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        _ => None,
    };
    for f in &figures {
        let section = section_of.get(&f.code).unwrap_or_else(|| panic!("no section of {}", f.code));
        let sheet = &names[1 + SECTIONS.iter().position(|s| s == section).unwrap()];
        let range = wb.worksheet_range(sheet).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        let percent = f.combo.as_deref() == Some("ACHIEVEMENT") || kind_of.get(&f.code) == Some(&"percent");
        let (row, col) = if f.unit == "80" {
            let row = rows.iter().position(|r| r.first().map(|c| c.to_string()) == Some(f.code.clone())).unwrap();
            let col = match (f.combo.as_deref(), f.period == "2024Q3") {
                (None, true) => 2,
                (Some("TARGET"), _) => 3,
                (Some("ACHIEVEMENT"), _) => 4,
                _ => 5,
            };
            (row, col)
        } else {
            let row = rows.iter().rposition(|r| r.first().map(|c| c.to_string()) == Some(f.unit.clone())).unwrap();
            let line = rows
                .iter()
                .position(|r| r.first().map(|c| c.to_string()) == Some(f.code.clone()))
                .expect("the line on the sheet")
                - 4;
            let col = 2
                + 3 * line
                + match f.combo.as_deref() {
                    None => 0,
                    Some("TARGET") => 1,
                    _ => 2,
                };
            (row, col)
        };
        let got = num(rows[row].get(col)).unwrap_or_else(|| panic!("XLSX: nothing at {sheet} {row}:{col} for {f:?}"));
        let want = if percent { f.value / 100.0 } else { f.value };
        assert!((got - want).abs() < 1e-9, "XLSX {sheet} {row}:{col}: {got} for {f:?}");
    }

    // HTML: printable on A4; each figure in its line the Vietnamese way.
    let res = app.json(Method::GET, &url("html"), None, Some(&token)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    let css = res.body.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let style = app.get(&css).await;
    assert!(style.body.contains("@page") && style.body.contains("A4"), "{}", style.body);
    for f in &figures {
        let section = &section_of[&f.code];
        let part = res.body.split("<section>").nth(1 + SECTIONS.iter().position(|s| s == section).unwrap()).unwrap();
        let kind = if f.combo.as_deref() == Some("ACHIEVEMENT") {
            "percent"
        } else {
            kind_of.get(&f.code).copied().unwrap_or("count")
        };
        let shown = vi(kind, f.value);
        let line = if f.unit == "80" {
            part.split(&format!("<tr data-code=\"{}\">", f.code)).nth(1).unwrap().split("</tr>").next().unwrap()
        } else {
            part.split(&format!("<tr data-unit=\"{}\">", f.unit)).nth(1).unwrap().split("</tr>").next().unwrap()
        };
        assert!(line.contains(&shown), "HTML: {shown} for {f:?} in {line}");
    }
    assert!(res.body.contains("Quý 3/2024") && res.body.contains("Cùng kỳ (2023Q3)"));

    // Bad asks: a format or period that does not exist, a unit out of reach.
    let res = app.json(Method::GET, &url("pdf"), None, Some(&token)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "report-format-invalid");
    let res = app.json(Method::GET, "/api/v1/reports/periodic?unit=80&period=2024Q5", None, Some(&token)).await;
    res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "period-invalid");
    app.user("xa.a", Role::Officer, Some(&t.commune_a)).await;
    let other = app.token("xa.a").await;
    let res = app.json(Method::GET, &url("json"), None, Some(&other)).await;
    assert!(res.status == StatusCode::NOT_FOUND || res.status == StatusCode::FORBIDDEN, "{}", res.status);
    let res = app.json(Method::GET, &url("json"), None, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // The dashboard links the report for its period.
    app.login("so.tt").await;
    let page = app.get(&format!("/app/units/{}?period=2024Q3", t.province.id)).await;
    assert!(page.body.contains("action=\"/api/v1/reports/periodic\"") && page.body.contains("value=\"2024Q3\""));
}

http_tests!(every_format_carries_every_figure);
