//! `ngoso demo`: Long An as it was until 2025-06-30 (its official 15 districts and 186
//! communes, with about 1,000 generated hamlets), people, visits from 2022 to today,
//! feedback and figures, then the restructuring of 2025-07-01 by the official mapping (the
//! new Tây Ninh's 61 communes from Long An, households re-homed, the hamlets of one split
//! commune left for officers to place), demo accounts, then the server.
//!
//! Each part of the demo is one step over the same seeded generator; later issues add
//! steps (teams, households, visits, feedback) after the tree.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use ngoso_core::auth::Role;
use ngoso_core::import::{ImportRow, plan_units};
use ngoso_core::user::Username;
use ngoso_store::{Db, StoreError, secrets, units, users};

use crate::config::Config;
use crate::{Failure, open_migrated, t};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "NGOSO_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Data directory of the demo (its SQLite database lives there unless --database is given).
    #[arg(long, default_value = "ngoso-demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// Seed of the generator: the same seed gives the same province.
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
    /// Generate the data and the accounts, then stop instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Households to generate across the province's hamlets [default: 20,000; with
    /// --as-reported, 500,000].
    #[arg(long)]
    pub households: Option<usize>,
    /// Make the province's 2024 figures those of the seed report: 255,600 households guided
    /// to the app, 1.3 million level-2 e-identities collected and 1 million activated (from
    /// households, residents and visits), 406,800 installs, 23,673 youth-union members,
    /// 13,000 digital signatures, about 12 billion đồng of health fees paid cashless (20 %),
    /// over 14 billion of school fees online, 70,000 social-security beneficiaries paid into
    /// an account (80 %), 1 shopping centre, 7 supermarkets and 41 markets paying cashless,
    /// and 2,330 feedback items received and answered. Fewer households than 500,000 give
    /// the same figures but for those counted door to door.
    #[arg(long)]
    pub as_reported: bool,
}

/// Households of the demo as reported: enough people for 1.3 million e-identities.
pub const AS_REPORTED_HOUSEHOLDS: usize = 500_000;

/// The seed report's figures of 2024 for the province, as the demo makes them.
pub mod reported {
    pub const HOUSEHOLDS_GUIDED_APP: u64 = 255_600;
    pub const VNEID_COLLECTED: u64 = 1_300_000;
    pub const VNEID_ACTIVATED: u64 = 1_000_000;
    pub const APP_INSTALLS: i64 = 406_800;
    pub const YOUTH_UNION_GUIDED: i64 = 23_673;
    pub const DIGITAL_SIGNATURES: i64 = 13_000;
    pub const HEALTH_FEES_CASHLESS: i64 = 12_000_000_000;
    pub const HEALTH_FEES_TOTAL: i64 = 60_000_000_000;
    pub const SCHOOL_FEES_ONLINE: i64 = 14_200_000_000;
    pub const SOCIAL_SECURITY_TO_ACCOUNT: i64 = 70_000;
    pub const SOCIAL_SECURITY_TOTAL: i64 = 87_500;
    /// Shopping centres, supermarkets and markets paying cashless by the end of 2024.
    pub const PLACES: [i64; 3] = [1, 7, 41];
    pub const FEEDBACK: usize = 2_330;
}

/// A small deterministic generator (SplitMix64): the demo must not change between runs or
/// platforms.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next_u64() as usize % items.len()]
    }
}

const SYLLABLES: [&str; 40] = [
    "Tân",
    "Long",
    "Phước",
    "Mỹ",
    "An",
    "Bình",
    "Hòa",
    "Thạnh",
    "Hưng",
    "Đức",
    "Thuận",
    "Phú",
    "Vĩnh",
    "Hiệp",
    "Lộc",
    "Khánh",
    "Nhựt",
    "Lương",
    "Tường",
    "Thới",
    "Hậu",
    "Quý",
    "Trường",
    "Định",
    "Lạc",
    "Thành",
    "Nhơn",
    "Hựu",
    "Kim",
    "Trạch",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Lợi",
    "Châu",
    "Điền",
    "Hội",
    "Sơn",
    "Xuân",
];

/// The rows of the demo tree, in the import format: Long An's official districts and
/// communes before 2025-07-01 (open, as the province's own tree was until it restructured),
/// and generated hamlets under each commune.
pub fn tree_rows(seed: u64) -> Vec<ImportRow> {
    let mut rng = Rng::new(seed);
    let official = crate::official::gunzip(crate::official::BEFORE)
        .and_then(|b| crate::commands::import::read_unit_rows(&b))
        .and_then(|rows| crate::official::of_province(rows, "80"))
        .expect("the shipped official tree has Long An");
    let mut rows = Vec::with_capacity(1300);
    let mut line = 1u64;
    let mut push = |rows: &mut Vec<ImportRow>, code: String, name: String, kind: &str, parent: &str| {
        line += 1;
        rows.push(ImportRow {
            row: line,
            code,
            name,
            kind: kind.into(),
            parent_code: parent.into(),
            ..Default::default()
        });
    };
    for u in official {
        push(&mut rows, u.code.clone(), u.name.clone(), &u.kind, &u.parent_code);
        if u.code.len() != 5 {
            continue;
        }
        let urban = u.kind != "xã";
        let hamlets = rng.range(4, 7);
        for h in 1..=hamlets {
            let hcode = format!("{}-{h:02}", u.code);
            let (hname, hkind) = if urban {
                (format!("Khu phố {h}"), "khu phố")
            } else if rng.range(0, 2) == 0 {
                (format!("Ấp {h}"), "ấp")
            } else {
                (format!("Ấp {} {}", rng.pick(&SYLLABLES), rng.pick(&SYLLABLES)), "ấp")
            };
            push(&mut rows, hcode, hname, hkind, &u.code);
        }
    }
    rows
}

/// The old communes of Long An the official mapping splits among several new ones.
fn split_communes() -> Result<std::collections::BTreeMap<String, Vec<String>>, Failure> {
    let mut succ: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in crate::official::official_rows(Some("80"), None)? {
        if !r.old_code.is_empty() {
            succ.entry(r.old_code).or_default().push(r.new_code);
        }
    }
    succ.retain(|_, v| v.len() > 1);
    Ok(succ)
}

/// The unit that carries on from `id` today: itself while open, else its successor while it
/// has exactly one.
async fn today_of(db: &Db, id: i64) -> Result<units::Unit, Failure> {
    let mut u = units::get(db, id).await?;
    for _ in 0..8 {
        if u.valid_to.is_none() {
            break;
        }
        match units::successors(db, u.id).await?.as_slice() {
            [s] => u = s.clone(),
            _ => break,
        }
    }
    Ok(u)
}

/// The restructuring of 2025-07-01 by the official mapping of Long An; the hamlets of each
/// split commune are placed among its successors in turn, but those of the first, which
/// wait for an officer on the restructuring page.
async fn restructure(db: &Db) -> Result<(), Failure> {
    let started = Instant::now();
    let day = crate::official::official_day();
    let eve = day.pred_opt().expect("a day before");
    let mut rows = crate::official::official_rows(Some("80"), None)?;
    let mut line = rows.len() + 1;
    for (old, news) in split_communes()?.iter().skip(1) {
        let Ok(unit) = units::by_code_on(db, old, eve).await else { continue };
        for (i, h) in units::children_on(db, Some(unit.id), eve).await?.into_iter().enumerate() {
            line += 1;
            rows.push(ngoso_store::restructure::MappingRow {
                line,
                old_code: h.code,
                new_code: news[i % news.len()].clone(),
                ..Default::default()
            });
        }
    }
    let s = match ngoso_store::restructure::restructure(db, &rows, day, false, None).await? {
        ngoso_store::restructure::Outcome::Done(s) => s,
        ngoso_store::restructure::Outcome::NotAllowed => {
            return Err(Failure::Other("the demo's restructuring was not allowed".into()));
        }
        ngoso_store::restructure::Outcome::Refused(e) => {
            return Err(Failure::Other(format!("the demo's restructuring was refused: {:?}", e.first())));
        }
    };
    let waiting: i64 = s.to_place.iter().map(|w| w.households).sum();
    println!(
        "{}",
        t(
            "cli-demo-restructured",
            &[
                ("closed", &s.closed.len().to_string()),
                ("opened", &s.opened.len().to_string()),
                ("moved", &s.households_moved.to_string()),
                ("waiting", &waiting.to_string()),
                ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64())),
            ]
        )
    );
    Ok(())
}

/// The demo accounts: user name, display name, role, unit code of the scope (`None`: the
/// whole tree; `"commune"`/`"hamlet"`: the demo commune or its first hamlet).
const ACCOUNTS: [(&str, &str, Role, Option<&str>); 7] = [
    ("admin", "Quản trị viên", Role::Admin, None),
    ("canbo.tinh", "Cán bộ Sở (xem)", Role::Viewer, Some("80")),
    ("canbo.xa", "Cán bộ xã", Role::Officer, Some("commune")),
    ("totruong", "Tổ trưởng ấp", Role::TeamLeader, Some("hamlet")),
    ("thanhvien", "Thành viên tổ", Role::Member, Some("hamlet")),
    ("canbo.gtvt", "Cán bộ Sở Xây dựng", Role::AgencyStaff, None),
    ("canbo.ubndxa", "Cán bộ UBND xã", Role::AgencyStaff, Some("commune")),
];

/// The agency of each agency-staff demo account.
const AGENCY_OF: [(&str, &str); 2] = [("canbo.gtvt", "so_xd"), ("canbo.ubndxa", "ubnd_xa_demo")];

/// A demo account and its fresh password.
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub unit: Option<String>,
}

/// Generates the tree if the database has none; creates (or resets the passwords of) the
/// demo accounts.
pub async fn generate(
    db: &Db,
    seed: u64,
    households: usize,
    cccd_key: &str,
    as_reported: bool,
) -> Result<Vec<DemoAccount>, Failure> {
    let fresh = units::count(db).await? == 0;
    if fresh {
        let started = Instant::now();
        let rows = tree_rows(seed);
        let plan = plan_units(&rows, &Default::default())
            .map_err(|e| Failure::Other(format!("the demo tree is invalid: {:?}", e.first())))?;
        let n = units::import(db, &plan, &|_| {}).await?;
        println!(
            "{}",
            t(
                "cli-demo-tree",
                &[("count", &n.to_string()), ("seconds", &format!("{:.1}", started.elapsed().as_secs_f64()))]
            )
        );
    } else {
        println!("{}", t("cli-demo-present", &[]));
    }
    // The commune officer works in the first rural commune of Cần Giuộc that the
    // restructuring merges whole, the team accounts in its first hamlet (or, once
    // restructured, in the units that carry on from them).
    let (commune, hamlet) = demo_commune(db).await?;
    let mut out = Vec::new();
    for (username, display, role, unit) in ACCOUNTS {
        let unit_code = match unit {
            Some("commune") => Some(commune.clone()),
            Some("hamlet") => Some(hamlet.clone()),
            u => u.map(str::to_owned),
        };
        let unit_id = match &unit_code {
            Some(code) => Some(units::by_code(db, code).await?.id),
            None => None,
        };
        let name = Username::parse(username).map_err(|e| Failure::Other(e.to_string()))?;
        let password = secrets::generate_password();
        let hash = secrets::hash_password(&password);
        match users::create(
            db,
            &users::NewUser { username: &name, display_name: display, password_hash: &hash, role, unit_id },
        )
        .await
        {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() || matches!(&e, StoreError::Invalid(i) if i.code == "username-taken") => {
                users::set_password_hash(db, &name, &hash).await?;
                users::set_disabled(db, &name, false).await?;
            }
            Err(e) => return Err(e.into()),
        }
        out.push(DemoAccount { username: username.into(), password, role, unit: unit_code });
    }
    if fresh {
        crate::demo_outreach::generate(db, seed, households, cccd_key, &hamlet, as_reported).await?;
        let reported = as_reported.then_some(reported::FEEDBACK);
        crate::demo_feedback::generate(db, seed, (households / 6).clamp(200, 20_000), &commune, reported).await?;
        crate::demo_values::generate(db, seed, as_reported).await?;
        restructure(db).await?;
        let officer = units::by_code(db, &commune).await?;
        crate::demo_programme::generate(db, seed, today_of(db, officer.id).await?.id).await?;
    }
    let agencies = ngoso_store::feedback_setup::agencies(db).await?;
    for (user, agency) in AGENCY_OF {
        let name = Username::parse(user).map_err(|e| Failure::Other(e.to_string()))?;
        if let (Some(u), Some(a)) = (users::by_username(db, &name).await?, agencies.iter().find(|a| a.code == agency)) {
            ngoso_store::feedback_setup::set_user_agency(db, u.id, Some(a.id)).await?;
        }
    }
    Ok(out)
}

async fn demo_commune(db: &Db) -> Result<(String, String), Failure> {
    let eve = crate::official::official_day().pred_opt().expect("a day before");
    let splits = split_communes()?;
    let district = units::by_code_on(db, "807", eve).await?;
    let old = units::children_on(db, Some(district.id), eve)
        .await?
        .into_iter()
        .find(|c| c.kind == "xã" && !splits.contains_key(&c.code))
        .ok_or_else(|| Failure::Other("the demo district has no commune".into()))?;
    let old_hamlet = units::children_on(db, Some(old.id), eve).await?.into_iter().next();
    let commune = today_of(db, old.id).await?;
    let hamlet = match old_hamlet {
        Some(h) => today_of(db, h.id).await?.code,
        None => commune.code.clone(),
    };
    Ok((commune.code, hamlet))
}

pub async fn run(args: DemoArgs, mut cfg: Config) -> Result<(), Failure> {
    if !cfg.database_url.is_set() {
        std::fs::create_dir_all(&args.dir).map_err(|e| Failure::Other(format!("{}: {e}", args.dir.display())))?;
        cfg.data_dir = args.dir.clone();
    }
    if let Some(l) = args.listen {
        cfg.listen = l;
    }
    if !cfg.web.cccd_key.is_set() {
        // The demo keeps its own citizen-ID key beside its data, so its pages accept IDs.
        cfg.web.cccd_key = ngoso_core::secret::Secret::new(demo_key(&args.dir)?);
    }
    let db = open_migrated(&cfg).await?;
    let households = args.households.unwrap_or(if args.as_reported { AS_REPORTED_HOUSEHOLDS } else { 20_000 });
    let accounts = generate(&db, args.seed, households, cfg.web.cccd_key.expose(), args.as_reported).await?;
    println!();
    println!("{}", t("cli-demo-accounts", &[]));
    for a in &accounts {
        println!(
            "  {:<12} {:<18} {:<14} {}",
            a.username,
            a.password,
            a.role.as_str(),
            a.unit.as_deref().unwrap_or("*")
        );
    }
    println!();
    db.close().await;
    if args.no_serve {
        return Ok(());
    }
    let db = crate::open_serving(&cfg).await?;
    crate::commands::serve::serve_db(db, &cfg).await
}

/// The demo's citizen-ID key: read from `DIR/cccd.key`, made on first use.
fn demo_key(dir: &std::path::Path) -> Result<String, Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::Other(format!("{}: {e}", dir.display())))?;
    let path = dir.join("cccd.key");
    match std::fs::read_to_string(&path) {
        Ok(k) if k.trim().len() >= 32 => Ok(k.trim().to_owned()),
        _ => {
            let k = secrets::new_token();
            std::fs::write(&path, &k).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
            Ok(k)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_is_shaped_like_long_an_and_deterministic() {
        let rows = tree_rows(2022);
        let count = |k: &[&str]| rows.iter().filter(|r| k.contains(&r.kind.as_str())).count();
        assert_eq!(count(&["tỉnh"]), 1);
        assert_eq!(count(&["huyện", "thị xã", "thành phố"]), 15);
        let communes = count(&["xã", "phường", "thị trấn"]);
        assert!((185..=195).contains(&communes), "{communes} communes");
        let hamlets = count(&["ấp", "khu phố"]);
        assert!((900..=1200).contains(&hamlets), "{hamlets} hamlets");
        let plan = plan_units(&rows, &Default::default()).expect("the demo tree is valid");
        assert_eq!(plan.len(), rows.len());
        let again = tree_rows(2022);
        assert!(rows.iter().zip(&again).all(|(a, b)| a.code == b.code && a.name == b.name));
    }
}
