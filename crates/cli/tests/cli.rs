//! The `ngoso` binary as a person or a script runs it: exit codes, messages, and what ends
//! up in the database — on SQLite and on PostgreSQL.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ngoso_store::testing::TestDb;
use ngoso_store::{units, users};

fn ngoso(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ngoso"));
    cmd.args(args)
        .env("NGOSO_DATABASE_URL", url)
        .env("NGOSO_LANG", "en")
        .env("NGOSO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run ngoso");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("ngoso finishes")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn write_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p =
        std::env::temp_dir().join(format!("ngoso-cli-{}-{name}", ngoso_store::secrets::new_token()[..8].to_owned()));
    std::fs::write(&p, bytes).unwrap();
    p
}

async fn import_refuses_bad_files_whole(t: &TestDb) {
    let good = write_file(
        "good.csv",
        "code,name,kind,parent_code\n80,Long An,tỉnh,\n807,Cần Giuộc,huyện,80\n28414,Xã Phước Lý 🌾,xã,807\n"
            .as_bytes(),
    );
    let out = ngoso(&t.url, &["import", "units", good.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Imported 3 units"));
    assert_eq!(units::by_code(&t.db, "28414").await.unwrap().name, "Xã Phước Lý 🌾");

    // A cycle, a duplicate code, invalid UTF-8, an unknown parent, a missing field: all
    // reported with their row numbers, and nothing written.
    let mut bad = b"code,name,kind,parent_code\n".to_vec();
    bad.extend_from_slice("A,Ấp A,ấp,B\nB,Ấp B,ấp,A\n".as_bytes()); // rows 2, 3: a cycle
    bad.extend_from_slice("807,Again,huyện,80\n".as_bytes()); // row 4: exists already
    bad.extend_from_slice(b"C,Bad \xff name,x,80\n"); // row 5: not UTF-8
    bad.extend_from_slice("D,Ấp D,ấp,NOPE\n".as_bytes()); // row 6: unknown parent
    bad.extend_from_slice("E,,ấp,80\n".as_bytes()); // row 7: no name
    bad.extend_from_slice("F,Ấp F,ấp,28414\nF,Ấp F again,ấp,28414\n".as_bytes()); // row 9: duplicate
    let before = units::count(&t.db).await.unwrap();
    let file = write_file("bad.csv", &bad);
    let out = ngoso(&t.url, &["import", "units", file.to_str().unwrap()], None);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    for (row, words) in [
        (2, "cycle"),
        (3, "cycle"),
        (4, "already exists"),
        (5, "not UTF-8"),
        (6, "not found"),
        (7, "is required"),
        (9, "repeated in the file"),
    ] {
        assert!(
            msg.lines().any(|l| l.starts_with(&format!("row {row}:")) && l.contains(words)),
            "row {row} ({words}) in:\n{msg}"
        );
    }
    assert!(msg.contains("File refused: 7 bad rows"));
    assert_eq!(units::count(&t.db).await.unwrap(), before);
    assert!(ngoso_store::check::run(&t.db).await.unwrap().is_empty());

    let out = ngoso(&t.url, &["import", "units", "/no/such/file.csv"], None);
    assert_eq!(out.status.code(), Some(2));
    let header = write_file("header.csv", b"code,name\n1,a\n");
    let out = ngoso(&t.url, &["import", "units", header.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("kind, parent_code"));
    for f in [good, file, header] {
        let _ = std::fs::remove_file(f);
    }
}

async fn user_commands(t: &TestDb) {
    let csv =
        write_file("tree.csv", "code,name,kind,parent_code\n80,Long An,tỉnh,\n28414,Xã Phước Lý,xã,80\n".as_bytes());
    assert_eq!(ngoso(&t.url, &["import", "units", csv.to_str().unwrap()], None).status.code(), Some(0));
    let _ = std::fs::remove_file(csv);

    let out = ngoso(
        &t.url,
        &["user", "add", "--username", "canbo", "--role", "officer", "--unit", "28414", "--password-stdin"],
        Some("mật khẩu đủ dài\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let p = users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo", "mật khẩu đủ dài")
        .await
        .unwrap()
        .expect("the password works");
    assert_eq!(p.role.as_str(), "officer");

    // Bad input: exit code 2 and a clear line.
    for (args, stdin, words) in [
        (
            vec!["user", "add", "--username", "canbo", "--role", "officer", "--unit", "28414", "--password-stdin"],
            Some("another long password\n"),
            "already taken",
        ),
        (vec!["user", "add", "--username", "user2", "--role", "boss", "--unit", "28414"], None, "no role"),
        (vec!["user", "add", "--username", "user3", "--role", "officer", "--unit", "NOPE"], None, "not found"),
        (vec!["user", "add", "--username", "user4", "--role", "officer"], None, "required"),
        (
            vec!["user", "add", "--username", "user5", "--role", "viewer", "--unit", "80", "--password-stdin"],
            Some("short\n"),
            "at least 10",
        ),
        (vec!["user", "disable", "nobody"], None, "no account"),
    ] {
        let out = ngoso(&t.url, &args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(words), "{args:?}: {}", text(&out));
    }
    let out = ngoso(&t.url, &["user", "add"], None);
    assert_eq!(out.status.code(), Some(2), "bad usage");

    // A generated password is printed and works.
    let out = ngoso(&t.url, &["user", "add", "--username", "admin", "--role", "admin"], None);
    assert_eq!(out.status.code(), Some(0));
    let printed = text(&out);
    let pw = printed.lines().find_map(|l| l.strip_prefix("Password: ")).expect("a printed password").trim().to_owned();
    assert!(
        users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "admin", &pw)
            .await
            .unwrap()
            .is_some()
    );

    let out = ngoso(&t.url, &["user", "list"], None);
    assert!(text(&out).contains("canbo\tofficer\t28414\tactive"), "{}", text(&out));
    assert_eq!(ngoso(&t.url, &["user", "disable", "canbo"], None).status.code(), Some(0));
    assert!(
        users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo", "mật khẩu đủ dài")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(ngoso(&t.url, &["user", "enable", "canbo"], None).status.code(), Some(0));
    let out = ngoso(&t.url, &["user", "reset-password", "canbo", "--password-stdin"], Some("một mật khẩu mới\n"));
    assert_eq!(out.status.code(), Some(0));
    assert!(
        users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "canbo", "một mật khẩu mới")
            .await
            .unwrap()
            .is_some()
    );
}

async fn demo_generates_the_province(t: &TestDb) {
    let out = ngoso(&t.url, &["demo", "--no-serve", "--households", "300", "--dir", &demo_dir()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ngoso_store::households::count(&t.db).await.unwrap(), 300);
    assert!(ngoso_store::visits::count(&t.db).await.unwrap() > 100);
    // Feedback in every state, and agency accounts attached to their agencies.
    let states: Vec<String> = ngoso_store::on_db!(&t.db, p => sqlx::query_scalar("SELECT DISTINCT state FROM feedback ORDER BY state").fetch_all(p).await).unwrap();
    assert_eq!(
        states,
        ["answered", "closed", "duplicate", "forwarded", "in_progress", "needs_info", "received", "rejected"]
    );
    let name = ngoso_core::user::Username::parse("canbo.gtvt").unwrap();
    let gtvt = users::by_username(&t.db, &name).await.unwrap().unwrap();
    assert!(users::principal(&t.db, gtvt.id).await.unwrap().is_some_and(|p| p.agency_id.is_some()));
    let n = units::count(&t.db).await.unwrap();
    assert!((2000..2800).contains(&n), "{n} units");
    // Long An's official tree until 2025-06-30, the new Tây Ninh's 61 communes from Long An
    // since, households re-homed but for the hamlets of one split commune.
    let day = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let province = units::by_code_on(&t.db, "80", day).await.unwrap();
    assert_eq!(
        (province.name.as_str(), province.valid_to.map(|d| d.to_string())),
        ("Tỉnh Long An", Some("2025-07-01".into()))
    );
    assert_eq!(units::children_on(&t.db, Some(province.id), day).await.unwrap().len(), 15);
    let cg = units::by_code_on(&t.db, "807", day).await.unwrap();
    assert_eq!(
        (cg.name.as_str(), units::children_on(&t.db, Some(cg.id), day).await.unwrap().len()),
        ("Huyện Cần Giuộc", 15)
    );
    let tn = units::by_code(&t.db, "80").await.unwrap();
    assert_eq!(tn.name, "Tây Ninh");
    assert_eq!(units::children(&t.db, Some(tn.id)).await.unwrap().len(), 61);
    assert!(text(&out).contains("Restructured on 2025-07-01"), "{}", text(&out));
    // Three years of monthly values for every commune, adding up to the province.
    let elements = ngoso_store::values::elements(&t.db).await.unwrap();
    let year = ngoso_core::period::Period::Year(2024);
    let f = ngoso_store::values::figures(&t.db, province.id, &year, &elements).await.unwrap();
    let get = |code: &str| f[&elements.iter().find(|e| e.code == code).unwrap().id];
    let (cashless, total) = (get("HEALTH_FEES_CASHLESS").value.unwrap(), get("HEALTH_FEES_TOTAL").value.unwrap());
    assert!(total > 40_000_000_000 && cashless * 100 / total > 10, "{cashless} of {total}");
    assert_eq!(get("CASHLESS_MARKETS").reporting, get("HEALTH_FEES_TOTAL").reporting, "every commune reported");
    assert!(get("CASHLESS_MARKETS").value.unwrap() <= 41);
    // The registry of places agrees with the values.
    let day = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let places = ngoso_store::places::counts(&t.db, &province.unit_path(), day).await.unwrap();
    let markets = places[&ngoso_core::place::PlaceKind::Market].cashless;
    assert_eq!(markets, get("CASHLESS_MARKETS").value.unwrap());
    assert!(places[&ngoso_core::place::PlaceKind::School].online > 0);
    let printed = text(&out);
    let line = printed.lines().find(|l| l.trim_start().starts_with("admin ")).expect("the admin account is printed");
    let pw = line.split_whitespace().nth(1).unwrap();
    assert!(
        users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "admin", pw)
            .await
            .unwrap()
            .is_some()
    );
    // Running it again keeps the data and gives fresh passwords.
    let out = ngoso(&t.url, &["demo", "--no-serve", "--households", "300", "--dir", &demo_dir()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(units::count(&t.db).await.unwrap(), n);
    assert!(
        users::authenticate(&t.db, &ngoso_store::secrets::PasswordPool::new(1, 8), "admin", pw)
            .await
            .unwrap()
            .is_none()
    );
    let out = ngoso(&t.url, &["check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The periodic report of the province, in every format, with the same figures.
    let dir = std::env::temp_dir().join(format!("ngoso-cli-report-{}", &ngoso_store::secrets::new_token()[..8]));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["xlsx", "csv", "html", "json"] {
        let file = dir.join(format!("r.{f}"));
        let args = ["report", "--unit", "80", "--period", "2024", "--format", f, "-o", file.to_str().unwrap()];
        let out = ngoso(&t.url, &args, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("Report written to"), "{}", text(&out));
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("r.json")).unwrap()).unwrap();
    let signatures = json["dataValues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["dataElement"] == "DIGITAL_SIGNATURES" && v["orgUnit"] == "80" && v["period"] == "2024")
        .and_then(|v| v["value"].as_str().map(str::to_owned))
        .expect("the province's digital signatures");
    assert_eq!(signatures, get("DIGITAL_SIGNATURES").value.unwrap().to_string());
    let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains(",DIGITAL_SIGNATURES,"), "{csv}");
    assert!(csv.contains(",TRAININGS_HELD,") && csv.contains(",MODELS_ACTIVE,"), "the programme's section: {csv}");
    let html = std::fs::read_to_string(dir.join("r.html")).unwrap();
    assert!(html.contains("<style>") && html.contains("@page"), "a file carries its own style");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.join("r.xlsx")).unwrap();
    assert_eq!(calamine::Reader::sheet_names(&wb).len(), 7, "a cover and six sections");
    assert!(calamine::Reader::worksheet_range_at(&mut wb, 0).is_some());
    let out = ngoso(&t.url, &["report", "--unit", "NOPE", "--period", "2024"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no unit with the code “NOPE”"), "{}", text(&out));
    let out = ngoso(&t.url, &["report", "--unit", "80", "--period", "2024", "--format", "pdf"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    std::fs::remove_dir_all(&dir).ok();
}

fn demo_dir() -> String {
    std::env::temp_dir().join("ngoso-cli-demo").display().to_string()
}

async fn households_and_residents_import(t: &TestDb) {
    let tree = write_file(
        "tree.csv",
        "code,name,kind,parent_code\n80,Long An,tỉnh,\n28414,Xã Phước Lý,xã,80\n28414-01,Ấp 1,ấp,28414\n".as_bytes(),
    );
    assert_eq!(ngoso(&t.url, &["import", "units", tree.to_str().unwrap()], None).status.code(), Some(0));
    let good = write_file(
        "households.csv",
        "code,unit_code,size,smartphones,address,head_name,barriers,consent_by,consent_purposes\n\
         H1,28414-01,4,1,\"Số 7, Ấp 1\",Nguyễn Văn An,,Nguyễn Văn An,outreach;statistics\n\
         H2,28414-01,1,0,Số 9,Trần Thị Bé 👵,no_smartphone;elderly_alone,,\n"
            .as_bytes(),
    );
    let out = ngoso(&t.url, &["import", "households", good.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Imported 2 households"));
    // Not on a terminal: plain progress lines with the rate and the time left, no bar.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2/2 (") && err.contains("/s, about") && !err.contains('['), "{err}");
    let h2 = ngoso_store::testing::unaudited::household_by_code(&t.db, "H2").await.unwrap();
    assert_eq!(h2.head_name.as_deref(), Some("Trần Thị Bé 👵"));
    assert_eq!(h2.barrier_set().count(), 2);

    let mut bad = b"code,unit_code,size,smartphones,barriers\n".to_vec();
    bad.extend_from_slice(b"H1,28414-01,2,0,\n"); // row 2: exists
    bad.extend_from_slice(b"H3,NOPE,2,0,\n"); // row 3: unknown unit
    bad.extend_from_slice(b"H4,28414-01,0,0,\n"); // row 4: size 0
    bad.extend_from_slice(b"H5,28414-01,2,0,no_wifi\n"); // row 5: unknown barrier
    bad.extend_from_slice(b"H6,28414-01,2,\xff,\n"); // row 6: not UTF-8
    bad.extend_from_slice(b"H7,28414-01,2,1,\nH7,28414-01,2,1,\n"); // row 8: repeated
    let file = write_file("bad-households.csv", &bad);
    let out = ngoso(&t.url, &["import", "households", file.to_str().unwrap()], None);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    for row in [2, 3, 4, 5, 6, 8] {
        assert!(msg.lines().any(|l| l.starts_with(&format!("row {row}:"))), "row {row} in:\n{msg}");
    }
    assert_eq!(ngoso_store::households::count(&t.db).await.unwrap(), 2);
    // Rows are written while the rest of the file is still being checked: a bad row after
    // thousands of good ones still leaves nothing written.
    let mut late = b"code,unit_code,size,smartphones\n".to_vec();
    for i in 0..5000 {
        late.extend_from_slice(format!("L{i},28414-01,3,1\n").as_bytes());
    }
    late.extend_from_slice(b"L-bad,28414-01,three,1\n");
    let late_file = write_file("late-bad-households.csv", &late);
    let out = ngoso(&t.url, &["import", "households", late_file.to_str().unwrap()], None);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.lines().any(|l| l.starts_with("row 5002:")), "{msg}");
    assert_eq!(ngoso_store::households::count(&t.db).await.unwrap(), 2);
    let _ = std::fs::remove_file(late_file);

    let residents = write_file(
        "residents.csv",
        "household_code,full_name,birth_year,sex,youth_union,cccd,phone\nH1,Nguyễn Văn An,1970,m,0,,0912345678\nH1,Nguyễn Thị Hoa,2001,f,1,,\n".as_bytes(),
    );
    let out = ngoso(&t.url, &["import", "residents", residents.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let with_id =
        write_file("residents-id.csv", "household_code,full_name,cccd\nH2,Trần Thị Bé,080148123456\n".as_bytes());
    let out = ngoso(&t.url, &["import", "residents", with_id.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "no cccd_key configured: {}", text(&out));
    assert!(text(&out).contains("cccd_key"));
    let mut cmd_out = Command::new(env!("CARGO_BIN_EXE_ngoso"));
    let out = cmd_out
        .args(["import", "residents", with_id.to_str().unwrap()])
        .env("NGOSO_DATABASE_URL", &t.url)
        .env("NGOSO_LANG", "en")
        .env("NGOSO_CCCD_KEY", "a-key-for-tests-0123456789abcdefghij")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = ngoso_store::testing::unaudited::residents(&t.db, h2.id).await.unwrap();
    assert_eq!(r[0].cccd_last4.as_deref(), Some("3456"));
    let out = Command::new(env!("CARGO_BIN_EXE_ngoso"))
        .args(["import", "residents", with_id.to_str().unwrap()])
        .env("NGOSO_DATABASE_URL", &t.url)
        .env("NGOSO_LANG", "en")
        .env("NGOSO_CCCD_KEY", "a-key-for-tests-0123456789abcdefghij")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the same citizen ID twice");
    assert!(text(&out).contains("row 2:"));
    let summary =
        ngoso_store::rollups::of_unit(&t.db, ngoso_store::units::by_code(&t.db, "80").await.unwrap().id).await.unwrap();
    assert_eq!(summary[&("households".to_string(), String::new())], 2);
    assert_eq!(summary[&("residents".to_string(), String::new())], 3);
    assert_eq!(summary[&("youth_union".to_string(), String::new())], 1);
    assert!(ngoso_store::check::run(&t.db).await.unwrap().is_empty());

    // The journal lists the three imports; the first residents' import is taken back.
    let out = ngoso(&t.url, &["import", "list"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed = text(&out);
    let lines: Vec<&str> = listed.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[0].contains("residents  done  1 rows") && lines[2].contains("households  done  2 rows"), "{listed}");
    let first_residents = lines[1].trim_start_matches('#').split_whitespace().next().unwrap().to_owned();
    let out = ngoso(&t.url, &["import", "undo", &first_residents], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&format!("Import {first_residents} taken back: 2 rows deleted")), "{}", text(&out));
    let summary =
        ngoso_store::rollups::of_unit(&t.db, ngoso_store::units::by_code(&t.db, "80").await.unwrap().id).await.unwrap();
    assert_eq!(summary[&("residents".to_string(), String::new())], 1);
    assert_eq!(summary.get(&("youth_union".to_string(), String::new())).copied().unwrap_or(0), 0);
    let out = ngoso(&t.url, &["import", "undo", &first_residents], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already been taken back"), "{}", text(&out));
    let out = ngoso(&t.url, &["import", "undo", "9999"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("There is no import 9999"), "{}", text(&out));
    assert!(ngoso_store::check::run(&t.db).await.unwrap().is_empty());
    for f in [tree, good, file, residents, with_id] {
        let _ = std::fs::remove_file(f);
    }
}

/// `demo --as-reported` makes the seed report's figures of 2024: the data values, places
/// and feedback exactly at any size; with fewer households than it takes, it says the
/// door-to-door figures fall short.
async fn demo_as_reported(t: &TestDb) {
    let dir = std::env::temp_dir().join(format!("ngoso-cli-reported-{}", &ngoso_store::secrets::new_token()[..8]));
    let args = ["demo", "--no-serve", "--as-reported", "--households", "400", "--dir", dir.to_str().unwrap()];
    let out = ngoso(&t.url, &args, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("fall short of the report: it takes 500000"), "{}", text(&out));
    // Long An as it reported 2024 (80 is the new Tây Ninh's code since 2025-07-01).
    let day = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let province = units::by_code_on(&t.db, "80", day).await.unwrap();
    assert_eq!(province.name, "Tỉnh Long An");
    let year = ngoso_core::period::Period::Year(2024);
    let elements = ngoso_store::values::elements(&t.db).await.unwrap();
    let f = ngoso_store::values::figures(&t.db, province.id, &year, &elements).await.unwrap();
    let get = |code: &str| f[&elements.iter().find(|e| e.code == code).unwrap().id].value.unwrap();
    for (code, want) in [
        ("YOUTH_UNION_GUIDED", 23_673),
        ("APP_INSTALLS", 406_800),
        ("DIGITAL_SIGNATURES", 13_000),
        ("HEALTH_FEES_CASHLESS", 12_000_000_000),
        ("HEALTH_FEES_TOTAL", 60_000_000_000),
        ("SCHOOL_FEES_ONLINE", 14_200_000_000),
        ("SOCIAL_SECURITY_TO_ACCOUNT", 70_000),
        ("SOCIAL_SECURITY_TOTAL", 87_500),
        ("CASHLESS_SHOPPING_CENTRES", 1),
        ("CASHLESS_SUPERMARKETS", 7),
        ("CASHLESS_MARKETS", 41),
    ] {
        assert_eq!(get(code), want, "{code}");
    }
    let places = ngoso_store::places::counts(&t.db, &province.unit_path(), day).await.unwrap();
    use ngoso_core::place::PlaceKind as K;
    let cashless = |k: K| places.get(&k).map(|c| c.cashless).unwrap_or(0);
    assert_eq!((cashless(K::ShoppingCentre), cashless(K::Supermarket), cashless(K::Market)), (1, 7, 41));
    let counts =
        ngoso_store::feedback::figures::counts(&t.db, Some(&province.unit_path()), "202401", "202412").await.unwrap();
    let received: i64 = counts.iter().map(|c| c.received).sum();
    let answered: i64 = counts.iter().map(|c| c.answered).sum();
    assert_eq!((received, answered), (2_330, 2_330));
    let out = ngoso(&t.url, &["check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::remove_dir_all(&dir).ok();
}

async fn bad_databases_are_one_clear_line() {
    for (url, words) in [
        ("mysql://x/y", "unknown database URL scheme"),
        ("postgres://nobody@127.0.0.1:1/x", "cannot connect to PostgreSQL"),
    ] {
        let out = ngoso(url, &["migrate"], None);
        assert_eq!(out.status.code(), Some(1), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words) && err.lines().count() == 1 && !err.contains("panicked"), "{url}: {err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ngoso"))
        .args(["config"])
        .env("NGOSO_DATABASE_URL", "postgres://u:topsecret@h/db")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("postgres://u:***@h/db") && !s.contains("topsecret"), "{s}");
    for args in
        [vec!["--help"], vec!["serve", "--help"], vec!["import", "units", "--help"], vec!["user", "add", "--help"]]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_ngoso")).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

/// The official tree shipped with ngoso: one province of either side, matched by code when
/// run again or beside units already recorded, refused whole when a code of the other tree
/// names a unit of another time.
async fn official_units_load(t: &TestDb) {
    let out = ngoso(&t.url, &["units", "load-official", "--before", "--province", "80"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Added 202 units"), "{}", text(&out));
    let la = units::by_code(&t.db, "80").await.unwrap();
    assert_eq!((la.name.as_str(), la.valid_to.map(|d| d.to_string())), ("Tỉnh Long An", Some("2025-07-01".to_owned())));
    assert_eq!(units::children(&t.db, Some(la.id)).await.unwrap().len(), 15, "Long An's 15 districts");
    let cg = units::by_code(&t.db, "807").await.unwrap();
    assert_eq!((cg.name.as_str(), units::children(&t.db, Some(cg.id)).await.unwrap().len()), ("Huyện Cần Giuộc", 15));
    let out = ngoso(&t.url, &["units", "load-official", "--before", "--province", "80"], None);
    assert!(
        text(&out).contains("Added 0 units") && text(&out).contains("202 of the official list's 202"),
        "{}",
        text(&out)
    );
    assert_eq!(units::count(&t.db).await.unwrap(), 202);
    // A household in each old commune, then the official restructuring of Long An.
    let communes: Vec<String> =
        units::down_to_depth(&t.db, 2).await.unwrap().into_iter().filter(|u| u.3 == 2).map(|u| u.1).collect();
    assert_eq!(communes.len(), 186);
    let mut file = String::from("code,unit_code,size,smartphones\n");
    for (i, c) in communes.iter().enumerate() {
        file.push_str(&format!("H{i},{c},3,1\n"));
    }
    let f = write_file("la.csv", file.as_bytes());
    assert_eq!(ngoso(&t.url, &["import", "households", f.to_str().unwrap()], None).status.code(), Some(0));
    let out = ngoso(&t.url, &["units", "official-mapping", "--province", "80"], None);
    let mapping = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        mapping.starts_with("old_code,new_code,new_name,new_kind,new_parent_code\n,80,Tây Ninh,tỉnh,\n"),
        "{mapping}"
    );
    let dry = ngoso(&t.url, &["units", "restructure", "--official", "--province", "80", "--dry-run"], None);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(text(&dry).contains("202 units closed, 62 opened"), "{}", text(&dry));
    assert!(text(&dry).contains("177 households moved; 9 households wait to be placed"), "{}", text(&dry));
    assert!(text(&dry).contains("Dry run"));
    assert_eq!(units::count(&t.db).await.unwrap(), 202, "a dry run writes nothing");
    let out = ngoso(&t.url, &["units", "restructure", "--official", "--province", "80"], None);
    assert!(text(&out).contains("202 units closed, 62 opened"), "{}", text(&out));
    assert!(text(&out).contains("177 households moved; 9 households wait to be placed"), "{}", text(&out));
    // Long An closed on 2025-07-01; 80 is now Tây Ninh, with 61 communes (those of Long An).
    let tn = units::by_code(&t.db, "80").await.unwrap();
    assert_eq!((tn.name.as_str(), tn.valid_from.map(|d| d.to_string())), ("Tây Ninh", Some("2025-07-01".to_owned())));
    assert_eq!(units::children(&t.db, Some(tn.id)).await.unwrap().len(), 61);
    assert_eq!(units::successors(&t.db, la.id).await.unwrap()[0].id, tn.id);
    let waiting: i64 =
        ngoso_store::restructure::to_place(&t.db, None).await.unwrap().iter().map(|w| w.households).sum();
    assert_eq!(waiting, 9);
    assert!(ngoso_store::check::run(&t.db).await.unwrap().is_empty());
    // Again: nothing changes.
    let out = ngoso(&t.url, &["units", "restructure", "--official", "--province", "80"], None);
    assert!(text(&out).contains("Applied before"), "{}", text(&out));
    assert_eq!(units::count(&t.db).await.unwrap(), 264);
    // A bad mapping: refused whole, with its row.
    let bad = write_file("bad.csv", "old_code,new_code\n27685,NOPE\n".as_bytes());
    let out = ngoso(&t.url, &["units", "restructure", "--mapping", bad.to_str().unwrap(), "--on", "2026-01-01"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("row 2"), "{}", text(&out));
    assert_eq!(units::count(&t.db).await.unwrap(), 264);
    let out = ngoso(&t.url, &["units", "load-official", "--after", "--province", "999"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no province with code “999”"), "{}", text(&out));
    let out = ngoso(&t.url, &["units", "load-official", "--before", "--after"], None);
    assert_eq!(out.status.code(), Some(2));
    // Another province of the new tree, beside: Hà Nội (01) with its 126 communes.
    let out = ngoso(&t.url, &["units", "load-official", "--after", "--province", "01"], None);
    assert!(text(&out).contains("Added 127 units"), "{}", text(&out));
    // Both trees of another province, linked: Bình Phước (70) and Đồng Nai (75) make Đồng Nai.
    let out = ngoso(&t.url, &["units", "load-official", "--both", "--province", "70"], None);
    assert!(out.status.success(), "{}", text(&out));
    let bp = units::all_of_code(&t.db, "70").await.unwrap();
    assert_eq!(units::successors(&t.db, bp[0].id).await.unwrap()[0].code, "75");
    assert!(ngoso_store::check::run(&t.db).await.unwrap().is_empty());
}

async fn feedback_setup_commands(t: &TestDb) {
    let csv =
        write_file("tree.csv", "code,name,kind,parent_code\n80,Long An,tỉnh,\n28414,Xã Phước Lý,xã,80\n".as_bytes());
    assert_eq!(ngoso(&t.url, &["import", "units", csv.to_str().unwrap()], None).status.code(), Some(0));
    let _ = std::fs::remove_file(csv);
    let doc = serde_json::json!({
        "agencies": [{"code": "transport", "name_vi": "Sở Giao thông 🚧", "name_en": "Transport"}],
        "categories": [{"code": "roads", "name_vi": "Đường sá", "name_en": "Roads", "deadline_days": 10, "day_kind": "working"}],
        "routes": [{"category_code": "roads", "unit_code": "28414", "agency_code": "transport"}]
    });
    let file = write_file("setup.json", doc.to_string().as_bytes());
    let export = |t: &TestDb| {
        let out = ngoso(&t.url, &["feedback", "setup", "export"], None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let empty = export(t);
    // A dry run keeps nothing; the run writes it all.
    let out = ngoso(&t.url, &["feedback", "setup", "apply", file.to_str().unwrap(), "--dry-run"], None);
    assert!(out.status.success() && text(&out).contains("Dry run"), "{}", text(&out));
    assert_eq!(export(t), empty);
    let out = ngoso(&t.url, &["feedback", "setup", "apply", file.to_str().unwrap()], None);
    assert!(out.status.success() && text(&out).contains("agencies +1"), "{}", text(&out));
    let full = export(t);
    assert_eq!(full["routes"][0]["unit_code"], "28414");
    assert_eq!(full["agencies"][0]["name_vi"], "Sở Giao thông 🚧");
    // A bad entry or line: exit code 2, named, nothing kept.
    let bad = write_file(
        "bad.json",
        serde_json::json!({"routes": [{"agency_code": "transport"}, {"agency_code": "nowhere"}]})
            .to_string()
            .as_bytes(),
    );
    let out = ngoso(&t.url, &["feedback", "setup", "apply", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Routing rules, entry 2"), "{}", text(&out));
    let days =
        write_file("days.csv", "day,kind,name\n2027-01-01,holiday,Tết Dương lịch\n2027-13-01,holiday,x\n".as_bytes());
    let out = ngoso(&t.url, &["feedback", "days", "import", days.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Row 3"), "{}", text(&out));
    let not_json = write_file("x.json", b"{\"agencies\": 3}");
    let out = ngoso(&t.url, &["feedback", "setup", "apply", not_json.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(export(t), full);
    let days = write_file(
        "days.csv",
        "day;kind;name\n2027-01-01;holiday;Tết Dương lịch\n2027-02-06;workday;Làm bù\n".as_bytes(),
    );
    let out = ngoso(&t.url, &["feedback", "days", "import", days.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(export(t)["days"].as_array().unwrap().len(), 2);
    let routes = write_file("routes.csv", "agency_code,category_code,unit_code\ntransport,,80\n".as_bytes());
    let out = ngoso(&t.url, &["feedback", "routes", "import", routes.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(export(t)["routes"].as_array().unwrap().len(), 2);
    // Keys: made and printed once, listed by their start, revoked.
    let out = ngoso(&t.url, &["feedback", "key", "add", "--name", "Ứng dụng tỉnh"], None);
    assert!(out.status.success(), "{}", text(&out));
    let key = text(&out).trim().rsplit(' ').next().unwrap().to_owned();
    let id = ngoso_store::feedback_setup::check_key(&t.db, &key).await.unwrap().expect("the key works");
    let out = ngoso(&t.url, &["feedback", "key", "list"], None);
    assert!(text(&out).contains(&key[..8]) && !text(&out).contains(&key), "{}", text(&out));
    let out = ngoso(&t.url, &["feedback", "key", "revoke", &id.to_string()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ngoso_store::feedback_setup::check_key(&t.db, &key).await.unwrap(), None);
    assert_eq!(ngoso(&t.url, &["feedback", "key", "revoke", &id.to_string()], None).status.code(), Some(2));
    // Teams and members from a file: all or nothing.
    let bad_teams = write_file("teams.csv", "unit_code,team,full_name,role,affiliation\n28414,Tổ 1,Lê Văn A,leader,police\n28414,Tổ 1,Lê Văn B,boss,police\n".as_bytes());
    let out = ngoso(&t.url, &["import", "teams", bad_teams.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Row 3"), "{}", text(&out));
    assert!(ngoso_store::teams::list(&t.db, None).await.unwrap().is_empty());
    let good = write_file("teams.csv", "unit_code,team,full_name,role,affiliation,phone\n28414,Tổ 1,Lê Văn A,leader,police,0912345678\n28414,Tổ 1,Lê Văn B,member,volunteer,\n".as_bytes());
    let out = ngoso(&t.url, &["import", "teams", good.to_str().unwrap()], None);
    assert!(out.status.success() && text(&out).contains("Added 1 teams and 2 members"), "{}", text(&out));
    assert_eq!(ngoso_store::teams::list(&t.db, None).await.unwrap()[0].active_members, 2);
    let _ = (std::fs::remove_file(bad_teams), std::fs::remove_file(good));
    // Deleting what was never used.
    let out = ngoso(&t.url, &["feedback", "delete", "agency", "nowhere"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = ngoso(&t.url, &["feedback", "delete", "category", "roads"], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = ngoso(&t.url, &["feedback", "delete", "agency", "transport"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(export(t)["agencies"].as_array().unwrap().len(), 0);
    assert_eq!(export(t)["routes"].as_array().unwrap().len(), 0);
    let log = ngoso_store::audit::list(&t.db, None, 50).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "feedback.setup.apply").count(), 3, "{log:?}");
    // Past feedback from an earlier system, with its codes and dates: all or nothing.
    assert!(ngoso(&t.url, &["feedback", "setup", "apply", file.to_str().unwrap()], None).status.success());
    let past = write_file(
        "past.csv",
        "code,category,unit_code,description,received_at,state,agency_code,answered_at,answer\n\
         HCC-1,roads,28414,Ổ gà,2024-01-05 08:30,answered,transport,2024-01-09 10:00,Đã vá\n\
         HCC-2,roads,28414,Đèn tắt,2024-01-06,nope,,,\n"
            .as_bytes(),
    );
    let out = ngoso(&t.url, &["feedback", "import", past.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Row 3"), "{}", text(&out));
    std::fs::write(&past, "code,category,unit_code,description,received_at\nHCC-1,roads,28414,Ổ gà,2024-01-05 08:30\n")
        .unwrap();
    let out = ngoso(&t.url, &["feedback", "import", past.to_str().unwrap()], None);
    assert!(out.status.success() && text(&out).contains("Recorded 1 past items"), "{}", text(&out));
    let _ = std::fs::remove_file(past);
    for f in [file, bad, days, not_json, routes] {
        let _ = std::fs::remove_file(f);
    }
}

macro_rules! cli_tests {
    ($($name:ident),*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let t = ngoso_store::testing::TestDb::sqlite().await;
                    super::$name(&t).await;
                }
                // Fails without a PostgreSQL server; `None` only when NGOSO_SKIP_POSTGRES=1
                // skips it on purpose. The database goes when `t` is dropped.
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(t) = ngoso_store::testing::TestDb::postgres().await else { return };
                    super::$name(&t).await;
                }
            }
        )*
    };
}

cli_tests!(
    feedback_setup_commands,
    import_refuses_bad_files_whole,
    user_commands,
    demo_generates_the_province,
    demo_as_reported,
    households_and_residents_import,
    official_units_load
);

#[tokio::test]
async fn bad_databases() {
    bad_databases_are_one_clear_line().await;
}

/// A command that has written to a SQLite database leaves it whole in its one file: the
/// write-ahead log is folded back when the command ends, so copying the file is a backup.
#[test]
fn sqlite_commands_leave_no_write_ahead_log() {
    let db = write_file("wal.db", b"");
    std::fs::remove_file(&db).unwrap();
    let url = format!("sqlite://{}", db.display());
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    let tree = write_file(
        "wal-tree.csv",
        "code,name,kind,parent_code\n80,Long An,tỉnh,\n28414,Xã Phước Lý,xã,80\n28414-01,Ấp 1,ấp,28414\n".as_bytes(),
    );
    let households = write_file("wal-households.csv", "code,unit_code,size,smartphones\nH1,28414-01,2,1\n".as_bytes());
    let runs: [&[&str]; 4] = [
        &["migrate"],
        &["import", "units", tree.to_str().unwrap()],
        &["import", "households", households.to_str().unwrap()],
        &["user", "add", "--username", "an.vien", "--role", "viewer", "--unit", "80"],
    ];
    for args in runs {
        let out = ngoso(&url, args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "{args:?} left {}", wal.display());
    }
    // A refused file too (nothing written, yet migrations may have been).
    let bad = write_file("wal-bad.csv", "code,unit_code,size,smartphones\nH2,NOPE,2,1\n".as_bytes());
    let out = ngoso(&url, &["import", "households", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    for p in [db.clone(), tree, households, bad] {
        let _ = std::fs::remove_file(p);
    }
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
}
