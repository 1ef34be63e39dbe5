//! Walk lists: on a phone, on paper (A4), and as CSV.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use ngoso_core::outreach::Barriers;
use ngoso_store::units::Unit;

use crate::AppState;
use crate::auth::PageUser;
use crate::http::error::AppError;
use crate::http::render::{Ctx, PageCtx, render};

struct Item {
    id: i64,
    code: String,
    unit_name: String,
    head_name: Option<String>,
    address: Option<String>,
    last: String,
    barriers: Vec<String>,
}

#[derive(Template)]
#[template(path = "households/walk.html")]
struct Page {
    ctx: PageCtx,
    unit: Unit,
    services: Vec<(String, String, bool)>,
    items: Vec<Item>,
    print_url: String,
    csv_url: String,
}

#[derive(Template)]
#[template(path = "households/walk_print.html")]
struct Print {
    ctx: PageCtx,
    unit: Unit,
    items: Vec<Item>,
    printed: String,
    service_names: String,
}

/// `GET /app/walk?unit=ID&service=CODE…&format=print|csv`.
pub(crate) async fn page(
    State(st): State<AppState>,
    Ctx(ctx): Ctx,
    PageUser(p): PageUser,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let pairs = crate::http::extract::decode_form(raw.unwrap_or_default().as_bytes())?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let unit_id = get("unit")
        .and_then(|u| u.parse::<i64>().ok())
        .or(p.unit_id)
        .ok_or_else(|| AppError::bad_request("bad-request"))?;
    let mut chosen: Vec<String> = Vec::new();
    for (_, code) in pairs.iter().filter(|(k, _)| k == "service") {
        if !chosen.contains(code) {
            chosen.push(code.clone());
        }
    }
    let format = get("format").unwrap_or_default();
    let unit = crate::units::visible(&st.db, &p, unit_id).await?;
    let limit = if format.is_empty() { 500 } else { 100_000 };
    let list = crate::households::walk_list(&st, &p, unit.id, &chosen.join(","), limit).await?;
    let english = ctx.lang == crate::http::i18n::Lang::En;
    let cat = st.catalog().await?;
    let items: Vec<Item> = list
        .into_iter()
        .map(|w| Item {
            last: match w.last_visit_at {
                Some(t) => ctx.tr.t1("walk-last", "at", ctx.tr.datetime(&t)),
                None => ctx.t("walk-never"),
            },
            barriers: Barriers::from_bits(w.barriers)
                .iter()
                .map(|b| ctx.t(&format!("barrier-{}", b.as_str())))
                .collect(),
            id: w.id,
            code: w.code,
            unit_name: w.unit_name,
            head_name: w.head_name,
            address: w.address,
        })
        .collect();
    let service_query: String =
        chosen.iter().map(|c| format!("&service={}", crate::http::render::urlencode(c))).collect();
    match format.as_str() {
        "csv" => Ok(csv(&items, &unit)),
        "print" => {
            let names: Vec<String> =
                chosen.iter().filter_map(|c| cat.service_by_code(c)).map(|s| s.name(english).to_owned()).collect();
            let printed = crate::http::i18n::msg(
                ctx.lang,
                "walk-printed",
                &[("at", &crate::http::i18n::format_datetime(ngoso_store::now())), ("unit", &unit.name)],
            );
            render(&Print { printed, service_names: names.join(", "), ctx, unit, items })
        }
        _ => {
            let services = cat
                .services
                .iter()
                .filter(|s| s.active)
                .map(|s| (s.code.clone(), s.name(english).to_owned(), chosen.contains(&s.code)))
                .collect();
            render(&Page {
                print_url: format!("/app/walk?unit={}{service_query}&format=print", unit.id),
                csv_url: format!("/app/walk?unit={}{service_query}&format=csv", unit.id),
                ctx,
                unit,
                services,
                items,
            })
        }
    }
}

/// CSV for Excel.
fn csv(items: &[Item], unit: &Unit) -> Response {
    let header: Vec<String> =
        ["code", "head_name", "address", "unit", "last_visit", "barriers"].map(String::from).into();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.code.clone(),
                i.head_name.clone().unwrap_or_default(),
                i.address.clone().unwrap_or_default(),
                i.unit_name.clone(),
                i.last.clone(),
                i.barriers.join("; "),
            ]
        })
        .collect();
    crate::http::csvfile::download(&format!("walk-{}.csv", unit.code), &header, &rows)
}
