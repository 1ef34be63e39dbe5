//! Prometheus metrics: request counts and durations by route and status.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Counters kept in memory by this process (each `serve` process exports its own).
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry((method.to_owned(), route.to_owned(), status)).or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP ngoso_build_info Build and database backend of this process.");
        let _ = writeln!(out, "# TYPE ngoso_build_info gauge");
        let _ = writeln!(out, "ngoso_build_info{{version=\"{}\",backend=\"{backend}\"}} 1", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(out, "# HELP ngoso_http_requests_total HTTP requests handled.");
        let _ = writeln!(out, "# TYPE ngoso_http_requests_total counter");
        let m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "ngoso_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(out, "# HELP ngoso_http_request_duration_seconds Time to answer an HTTP request.");
        let _ = writeln!(out, "# TYPE ngoso_http_request_duration_seconds histogram");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((method, route, _), s) in m.iter() {
            let agg = by_route.entry((method, route)).or_default();
            agg.count += s.count;
            agg.sum += s.sum;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in by_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ =
                    writeln!(out, "ngoso_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}", s.buckets[i]);
            }
            let _ = writeln!(out, "ngoso_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "ngoso_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "ngoso_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

/// Middleware: times every request.
pub async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    // The route template, not the raw path: ids would make the series endless.
    let route =
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    st.metrics.observe(&method, &route, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn serve(State(st): State<AppState>) -> Response {
    let mut res = st.metrics.render(st.db.backend().as_str()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    res
}
