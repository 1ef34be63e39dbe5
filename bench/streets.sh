#!/usr/bin/env bash
# Digital streets and heritage routes (issue 17), on SQLite and PostgreSQL. A digital street
# of N places (default 20), added through the API with long Vietnamese descriptions, then:
#
# - the weight of a place's public page with everything it loads (the page, the stylesheet,
#   the script; photos wait to be asked for), plain and gzip as a phone gets it, against the
#   issue's 50 KB and against the public statistics page of the same unit (the baseline: the
#   light public page we had);
# - the time to serve a place's page opened from its plaque (`?s=qr`: the scan is counted, a
#   write), against the same page opened without the marker (a read only);
# - the plaques: one place's as SVG and as PDF, the whole route's as one PDF (N pages), their
#   sizes and times, against one page of the route read (the baseline: a plain page).
#
#   bench/streets.sh [N]          (needs psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-20}
for tool in psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init streets

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cat >"$WORK/units.csv" <<'EOF'
code,name,kind,parent_code
80,Tỉnh Tây Ninh,tỉnh,
27880,Xã Cần Giuộc,xã,80
EOF
api() { # method path [body] -> response body
    curl -fs -X "$1" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+--data-binary "$3"} "$BASE$2"
}
serve() { # URL -> sets SERVER, BASE
    local p
    p=$(port)
    "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
fetch() { curl -fs $2 -o /dev/null -w '%{size_download} %{time_total}\n' "$BASE$1"; }
measure() { # path [--compressed] -> median bytes and milliseconds of 20 (after one to warm up)
    local out
    fetch "$1" "${2:-}" >/dev/null
    out=$(for _ in $(seq 20); do fetch "$1" "${2:-}"; done)
    echo "$(echo "$out" | awk '{print $1}' | median) $(echo "$out" | awk '{print $2 * 1000}' | median)"
}
weight() { # page path [--compressed] -> bytes of the page and all it loads
    local html css js
    html=$(curl -fs "$BASE$1")
    css=$(echo "$html" | grep -o '<link rel="stylesheet" href="[^"]*"' | sed 's/.*href="//; s/"$//')
    js=$(echo "$html" | grep -o '<script src="[^"]*"' | sed 's/.*src="//; s/"$//')
    local total=0 b
    for u in "$1" $css $js; do
        b=$(fetch "$u" "${2:-}" | awk '{print $1}')
        total=$((total + b))
    done
    echo $total
}

TABLE=""
PLAQUES=""
for backend in sqlite postgres; do
    echo "== $backend, a digital street of $N places"
    url=$(new_db "$backend" "streets_$backend")
    "$BIN" --database "$url" import units "$WORK/units.csv" >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role admin --password-stdin >/dev/null
    serve "$url"
    TOKEN=$(curl -fs -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-123"}' \
        "$BASE/api/v1/auth/token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
    model=$(api POST /api/v1/models '{"unit":"27880","kind":"digital_street","name":"Tuyến phố số chợ Cần Giuộc","status":"running"}' \
        | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
    for i in $(seq "$N"); do
        body=$(python3 -c "
import json, sys
i = int(sys.argv[1])
print(json.dumps({'kind': 'shop', 'name': f'Tiệm tạp hoá số {i} — bà Năm Phước Lý', 'address': f'Số {i}, đường chợ Cần Giuộc, ấp Chợ',
    'opening_hours': '6:00–21:00 hằng ngày', 'cashless_how': 'VietQR, thẻ ngân hàng, ví điện tử',
    'description': 'Tiệm bán gạo, nước mắm, bánh kẹo và đồ dùng trong nhà; nhận chuyển khoản bằng mã VietQR dán ở quầy. ' * 6,
    'history': 'Tiệm mở từ năm 1986, ba đời bán ở góc chợ; ngày xưa là sạp lá dừa, nay là nhà hai tầng. ' * 6}))" "$i")
        api POST "/api/v1/models/$model/places" "$body" >/dev/null
    done
    code=$(api GET "/api/v1/models/$model/places" | python3 -c 'import sys, json; print(json.load(sys.stdin)[0]["code"])')
    page_raw=$(weight "/p/$code")
    page_gz=$(weight "/p/$code" --compressed)
    stats_gz=$(weight "/stats/27880" --compressed)
    read -r _ read_ms <<<"$(measure "/p/$code")"
    read -r _ scan_ms <<<"$(measure "/p/$code?s=qr")"
    read -r svg_b svg_ms <<<"$(measure "/p/$code/plaque.svg")"
    read -r pdf_b pdf_ms <<<"$(measure "/p/$code/plaque.pdf")"
    read -r all_b all_ms <<<"$(measure "/r/$model/plaques.pdf")"
    read -r _ route_ms <<<"$(measure "/r/$model")"
    scans=$(sql "$backend" "$url" "SELECT SUM(scans) FROM route_place_scans")
    TABLE+="| $backend | $page_raw | $page_gz | $stats_gz | $(calc "$page_gz / $stats_gz" | xargs printf '%.2f') | $read_ms | $scan_ms | $(calc "$scan_ms / $read_ms" | xargs printf '%.2f') | $scans |"$'\n'
    PLAQUES+="| $backend | $svg_b B, $svg_ms ms | $pdf_b B, $pdf_ms ms | $all_b B, $all_ms ms | $route_ms ms | $(calc "$all_ms / $route_ms" | xargs printf '%.1f') |"$'\n'
    stop
done

SECTION=$(cat <<EOF
## Digital streets and heritage routes (\`bench/streets.sh $N\`)

$(date -u +%Y-%m-%d), this machine ($(nproc) cores), release build. A digital street of $N places added
through the API, each with a description and a history of about 600 characters.

### A place's public page (\`/p/{code}\`)

*Weight*: the page with everything it loads (stylesheet, script; photos wait to be asked
for), plain and gzip; the baseline is the public statistics page of the same commune, gzip,
measured the same way (the issue's limit: 50 KB). *Time*: median of 20, the page read, and
opened from its plaque (\`?s=qr\`: the day's scan count goes up, a write); the last column is
the scans counted (21 a database: 20 and a warm-up, nothing else kept).

| database | page, plain | page, gzip | statistics page, gzip | ratio | read | from the plaque | ratio | scans |
|---|---|---|---|---|---|---|---|---|
${TABLE}
### QR plaques (A6)

Median of 20, size and time: one place's plaque as SVG and as PDF, the whole route's as one
PDF of $N pages; the baseline is the route's public page served.

| database | one plaque, SVG | one plaque, PDF | route, PDF | route page | ratio (route PDF ÷ page) |
|---|---|---|---|---|---|
${PLAQUES}
EOF
)
printf '%s\n' "$SECTION" | python3 bench/update_results.py streets
echo "bench/RESULTS.md updated"
