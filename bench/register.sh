#!/usr/bin/env bash
# Reading a province's register back after an import (issue 18, item 7): N households
# (default 294,000, a province) with three residents each are imported, then read whole by
# an integrator through the bulk read (GET /api/v1/households/export, 1,000 a page with their
# residents, following the cursor), against the named baseline of before — one
# GET /api/v1/households/{id} a household — measured in the same run on 2,000 households and
# scaled to N. One client on one keep-alive connection, as an integrator's script reads.
#
#   bench/register.sh [N]          (needs sqlite3, psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-294000}
SAMPLE=2000
for tool in sqlite3 psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init register

make_db() { # backend name -> URL
    local url
    url=$(new_db "$1" "$2")
    "$BIN" --database "$url" demo --no-serve --households 0 --dir "$WORK/demo-$2" >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role officer --unit 80 --password-stdin >/dev/null
    echo "$url"
}

serve() { # URL -> sets SERVER, BASE, TOKEN
    local p
    p=$(port)
    "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 50); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    TOKEN=$(curl -fs -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-123"}' \
        "$BASE/api/v1/auth/token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
}

# Reads the register both ways on one connection; prints "pages households residents
# bulk_seconds sample_seconds".
read_register() { # BASE TOKEN
    python3 - "$1" "$2" "$SAMPLE" <<'PY'
import http.client, json, sys, time, urllib.parse
base, token, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"authorization": f"Bearer {token}"}
def get(path):
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"{path}: {r.status} {body[:200]!r}")
    return json.loads(body)
t0 = time.perf_counter()
after, pages, households, residents, ids = None, 0, 0, 0, []
while True:
    page = get("/api/v1/households/export?limit=1000" + (f"&after={after}" if after else ""))
    pages += 1
    households += len(page["households"])
    residents += sum(len(x["residents"]) for x in page["households"])
    ids.extend(x["household"]["id"] for x in page["households"][:3])
    after = page["next"]
    if after is None:
        break
bulk = time.perf_counter() - t0
chosen = (ids * (sample // max(1, len(ids)) + 1))[:sample]
t0 = time.perf_counter()
for i in chosen:
    get(f"/api/v1/households/{i}")
one_by_one = time.perf_counter() - t0
print(pages, households, residents, f"{bulk:.3f}", f"{one_by_one:.3f}")
PY
}

declare -A R
for backend in sqlite postgres; do
    echo "== $backend"
    url=$(make_db "$backend" "register_$backend")
    sql "$backend" "$url" "SELECT code FROM units WHERE kind IN ('ấp', 'khu phố')" >"$WORK/hamlets.txt"
    [ -f "$WORK/h.csv" ] || python3 bench/gen_households.py "$WORK/hamlets.txt" "$N" >"$WORK/h.csv"
    [ -f "$WORK/r.csv" ] || python3 - "$WORK/h.csv" >"$WORK/r.csv" <<'PY'
import csv, sys
names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường"]
print("household_code,full_name,birth_year,sex")
for i, row in enumerate(csv.DictReader(open(sys.argv[1]))):
    for j, n in enumerate(names):
        print(f"{row['code']},{n},{1950 + (i + j * 17) % 60},{'mf'[j % 2]}")
PY
    "$BIN" --database "$url" import households "$WORK/h.csv" >/dev/null 2>&1
    "$BIN" --database "$url" import residents "$WORK/r.csv" >/dev/null 2>&1
    serve "$url"
    R[$backend]=$(read_register "$BASE" "$TOKEN")
    echo "${R[$backend]}"
    stop
done

{
    echo "## A province's register read back (\`bench/register.sh $N\`)"
    echo
    echo "$(date +%F), 2 cores, release build; PostgreSQL $(psql -At "$PG_ADMIN" -c 'SHOW server_version' | cut -d' ' -f1) is a throwaway"
    echo "cluster on the same machine. $N households with three residents each, imported by \`ngoso import\`, then"
    echo "read by one client on one keep-alive connection as an officer of the province (every page audit-logged;"
    echo "households the restructuring of 2025 moved outside the province are not theirs to read)."
    echo "ngoso: \`GET /api/v1/households/export\`, 1,000 households a page with their residents, following the"
    echo "cursor. Baseline (the way before): one \`GET /api/v1/households/{id}\` a household, timed on $SAMPLE"
    echo "households in the same run and scaled to $N."
    echo
    echo "| database | requests | households / residents read | bulk read | one GET a household (scaled) | baseline ÷ bulk |"
    echo "|---|---|---|---|---|---|"
    for backend in sqlite postgres; do
        name=$([ $backend = sqlite ] && echo SQLite || echo PostgreSQL)
        set -- ${R[$backend]}
        scaled=$(calc "$5 * $2 / $SAMPLE")
        printf '| %s | %s pages (vs %s GETs) | %s / %s | %.1f s | %.0f s (%.1f ms each) | %.0f× |\n' \
            "$name" "$1" "$2" "$2" "$3" "$4" "$scaled" "$(calc "$5 * 1000 / $SAMPLE")" "$(calc "$scaled / $4")"
    done
} | python3 bench/update_results.py register
echo "written to bench/RESULTS.md"
