#!/usr/bin/env bash
# Benchmarks of door-to-door outreach, each against a baseline measured in the same run:
#   1. `ngoso import households` of N generated households (default 1,000,000) vs loading
#      the same CSV into a bare table (`sqlite3 .import`, `psql \copy`), and vs the floor
#      the tables set: the households and consents ngoso wrote, copied by the database's
#      own tool into the tables of a fresh database with the same tree;
#   2. visit ingest over HTTP with wrk: batches of 100 (random v4 and time-ordered v7
#      UUIDs) and one visit per request, on SQLite and on PostgreSQL;
#   3. the roll-up read of the province's figures (GET /api/v1/units/{id}/figures) vs the
#      plain SQL GROUP BY over the raw tables that computes the same figures, at 100,000 and
#      at N households;
# then `ngoso check` on every database. Writes the figures into bench/RESULTS.md.
#
#   bench/outreach.sh [N]          (needs sqlite3, psql, wrk, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-1000000}
SMALL=100000
for tool in sqlite3 psql wrk python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client wrk python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init outreach

# A database with the demo's tree, teams and accounts, no households.
make_db() { # backend name -> URL
    local backend=$1 name=$2 url
    url=$(new_db "$backend" "$name")
    "$BIN" --database "$url" demo --no-serve --households 0 --dir "$WORK/demo-$name" >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role officer --unit 80 --password-stdin >/dev/null
    echo "$url"
}

serve() { # URL -> sets SERVER, BASE, TOKEN
    local p
    p=$(port)
    NGOSO_DB_MAX_CONNECTIONS=16 "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 50); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    TOKEN=$(curl -fs -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-123"}' \
        "$BASE/api/v1/auth/token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
}

# wrk over a file of bodies; prints "requests/s p50 p99" (ms).
load() { # bodies threads connections seconds
    local out
    out=$(THREADS=$2 BODIES=$1 TOKEN=$TOKEN wrk -t"$2" -c"$3" -d"$4"s --latency -s bench/wrk-bodies.lua "$BASE/api/v1/visits" 2>&1)
    echo "$out" >>"$WORK/wrk.log"
    local rps p50 p99
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    echo "$rps $(ms "$p50") $(ms "$p99")"
}

count_visits() { sql "$1" "$2" "SELECT COUNT(*) FROM visits"; }

# Visit ingest: one run of wrk; prints "visits/s p50 p99 accepted ran-out".
# The bodies hold 1,200,000 visits in batches and 240,000 one at a time: enough for 150,000
# and 30,000 visits/s over 8 seconds. Once a thread has sent all its bodies it sends its
# last one again, a replay that stores nothing, so a run that used them all stored them in
# less time than it took: its rate is then only a lower bound, and the table says so.
ingest() { # backend URL batch uuid connections seconds
    local backend=$1 url=$2 batch=$3 kind=$4 conns=$5 secs=$6 before after t0 t1 res n ran_out
    local bodies=$WORK/bodies-$batch-$kind.jsonl
    n=$(( batch == 1 ? 240000 : 12000 ))
    python3 bench/gen_visits.py "$WORK/pairs.tsv" "$batch" "$n" "$RANDOM" "$kind" >"$bodies"
    before=$(count_visits "$backend" "$url")
    t0=$(now)
    res=$(load "$bodies" 2 "$conns" "$secs")
    t1=$(now)
    after=$(count_visits "$backend" "$url")
    set -- $res
    ran_out=$(( after - before >= batch * n ? 1 : 0 ))
    [ $ran_out = 0 ] || echo "every body was sent before the run ended: the rate is a lower bound" >&2
    # Visits actually stored per second of the run.
    echo "$(calc "($after - $before) / ($t1 - $t0)") $2 $3 $((after - before)) $ran_out"
}

# The province's figures: ngoso's read over HTTP (median latency of wrk -c1) and the plain
# SQL that computes the same figures from the raw tables (median of 5 runs).
read_figures() { # backend URL -> "ngoso_ms baseline_ms"
    local backend=$1 url=$2 id path hi ngoso base
    id=$(sql "$backend" "$url" "SELECT id FROM units WHERE code = '80' AND valid_to IS NULL")
    path=$(sql "$backend" "$url" "SELECT path FROM units WHERE id = $id")
    hi="${path%/}0"
    local out
    out=$(wrk -t1 -c1 -d4s --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/units/$id/figures" 2>&1)
    ngoso=$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
    local W="JOIN units u ON u.id = h.unit_id WHERE u.path >= '$path' AND u.path < '$hi'"
    local q1="SELECT COUNT(*), SUM(CASE WHEN h.barriers & 1 <> 0 THEN 1 ELSE 0 END), SUM(CASE WHEN h.barriers & 2 <> 0 THEN 1 ELSE 0 END), SUM(CASE WHEN h.barriers & 4 <> 0 THEN 1 ELSE 0 END), SUM(CASE WHEN h.barriers & 8 <> 0 THEN 1 ELSE 0 END), SUM(CASE WHEN h.barriers & 16 <> 0 THEN 1 ELSE 0 END), SUM(CASE WHEN h.barriers & 32 <> 0 THEN 1 ELSE 0 END) FROM households h $W"
    local q2="SELECT COUNT(*), SUM(CASE WHEN r.youth_union THEN 1 ELSE 0 END) FROM residents r JOIN households h ON h.id = r.household_id $W"
    local q3="SELECT v.month, COUNT(*), SUM(CASE WHEN v.result = 'met' THEN 1 ELSE 0 END) FROM visits v JOIN households h ON h.id = v.household_id $W GROUP BY v.month"
    local q4="SELECT COUNT(DISTINCT v.household_id) FROM visits v JOIN households h ON h.id = v.household_id $W"
    local q5="SELECT s.service_id, s.status_id, COUNT(*) FROM subject_statuses s JOIN households h ON h.id = s.household_id $W GROUP BY s.service_id, s.status_id"
    local q6="SELECT v.month, v.barriers, COUNT(*) FROM visits v JOIN households h ON h.id = v.household_id $W GROUP BY v.month, v.barriers"
    if [ "$backend" = sqlite ]; then
        base=$(python3 - "${url#sqlite://}" "$q1" "$q2" "$q3" "$q4" "$q5" "$q6" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
times = []
for _ in range(5):
    t = time.perf_counter()
    for q in sys.argv[2:]:
        db.execute(q).fetchall()
    times.append((time.perf_counter() - t) * 1000)
print(round(sorted(times)[2], 2))
PY
)
    else
        base=$(for _ in 1 2 3 4 5; do
            psql -At "$url" -c '\timing on' -c "$q1" -c "$q2" -c "$q3" -c "$q4" -c "$q5" -c "$q6" \
                | awk '/^Time:/ {s += $2} END {print s}'
        done | sort -g | awk 'NR == 3')
    fi
    echo "$ngoso $base"
}

import_households() { # backend URL csv -> "ngoso_s baseline_s"
    local backend=$1 url=$2 csv=$3 t0 t1 ng base
    t0=$(now)
    "$BIN" --database "$url" import households "$csv" >/dev/null
    t1=$(now)
    ng=$(calc "$t1 - $t0")
    if [ "$backend" = sqlite ]; then
        rm -f "$WORK/bare.db"
        t0=$(now)
        sqlite3 "$WORK/bare.db" "CREATE TABLE h (code TEXT, unit_code TEXT, size TEXT, smartphones TEXT, address TEXT, head_name TEXT, barriers TEXT, consent_by TEXT, consent_purposes TEXT);" ".mode csv" ".import --skip 1 $csv h"
        t1=$(now)
    else
        psql -q "$url" -c "CREATE TABLE bare (code TEXT, unit_code TEXT, size TEXT, smartphones TEXT, address TEXT, head_name TEXT, barriers TEXT, consent_by TEXT, consent_purposes TEXT)" >/dev/null
        t0=$(now)
        psql -q "$url" -c "\\copy bare FROM '$csv' WITH (FORMAT csv, HEADER true)" >/dev/null
        t1=$(now)
        psql -q "$url" -c "DROP TABLE bare" >/dev/null
    fi
    base=$(calc "$t1 - $t0")
    echo "$ng $base"
}

# The floor the tables set: the rows an import wrote (households with their ids and search
# keys, and their consents) copied into a fresh database with the same tree by the
# database's own tool, with the tables' indexes and keys. Prints the seconds.
HCOLS="id, unit_id, code, address, head_name, search_key, size, smartphones, barriers, created_at, updated_at"
CCOLS="household_id, resident_id, given_by, purposes, given_at, recorded_by"
table_floor() { # backend URL-of-the-imported-database
    local backend=$1 url=$2 floor t0 t1
    floor=$(make_db "$backend" "floor_$backend")
    if [ "$backend" = sqlite ]; then
        t0=$(now)
        sqlite3 "${floor#sqlite://}" "PRAGMA foreign_keys = ON" "ATTACH '${url#sqlite://}' AS big" "BEGIN" \
            "INSERT INTO households SELECT * FROM big.households ORDER BY id" \
            "INSERT INTO consents SELECT * FROM big.consents ORDER BY id" "COMMIT"
        t1=$(now)
        rm -f "${floor#sqlite://}"*
    else
        psql -q "$url" -c "\\copy (SELECT $HCOLS FROM households ORDER BY id) TO '$WORK/floor-h.tsv'" \
            -c "\\copy (SELECT $CCOLS FROM consents ORDER BY id) TO '$WORK/floor-c.tsv'"
        t0=$(now)
        psql -q "$floor" -c "\\copy households ($HCOLS) FROM '$WORK/floor-h.tsv'" \
            -c "\\copy consents ($CCOLS) FROM '$WORK/floor-c.tsv'" >/dev/null
        t1=$(now)
        psql -q "$PG_ADMIN" -c "DROP DATABASE floor_$backend" >/dev/null
        rm -f "$WORK"/floor-?.tsv
    fi
    calc "$t1 - $t0"
}

declare -A R
for backend in sqlite postgres; do
    echo "== $backend"
    # N households: import, visits, read.
    url=$(make_db "$backend" "big_$backend")
    sql "$backend" "$url" "SELECT code FROM units WHERE kind IN ('ấp', 'khu phố')" >"$WORK/hamlets.txt"
    [ -f "$WORK/h$N.csv" ] || python3 bench/gen_households.py "$WORK/hamlets.txt" "$N" >"$WORK/h$N.csv"
    R[import_$backend]=$(import_households "$backend" "$url" "$WORK/h$N.csv")
    echo "import: ${R[import_$backend]}"
    R[floor_$backend]=$(table_floor "$backend" "$url")
    echo "the finished rows into the tables: ${R[floor_$backend]}"
    sql "$backend" "$url" "SELECT h.id, t.id FROM households h JOIN teams t ON t.unit_id = h.unit_id" >"$WORK/pairs.tsv"
    serve "$url"
    R[batch4_$backend]=$(ingest "$backend" "$url" 100 v4 16 8); echo "batches v4: ${R[batch4_$backend]}"
    R[batch7_$backend]=$(ingest "$backend" "$url" 100 v7 16 8); echo "batches v7: ${R[batch7_$backend]}"
    R[single_$backend]=$(ingest "$backend" "$url" 1 v4 32 8); echo "single: ${R[single_$backend]}"
    R[read_big_$backend]=$(read_figures "$backend" "$url"); echo "read at $N: ${R[read_big_$backend]}"
    R[visits_big_$backend]=$(count_visits "$backend" "$url")
    stop
    R[check_big_$backend]=$("$BIN" --database "$url" check | tail -1)
    # 100,000 households with as many visits: the read should not change.
    url=$(make_db "$backend" "small_$backend")
    # Spread over every hamlet, as the N households are: the first SMALL lines of their file
    # would fill only the first tenth of the hamlets, and the read would have fewer units'
    # figures to sum at 100,000 households than at 1,000,000.
    [ -f "$WORK/h$SMALL.csv" ] || python3 bench/gen_households.py "$WORK/hamlets.txt" "$SMALL" >"$WORK/h$SMALL.csv"
    "$BIN" --database "$url" import households "$WORK/h$SMALL.csv" >/dev/null
    sql "$backend" "$url" "SELECT h.id, t.id FROM households h JOIN teams t ON t.unit_id = h.unit_id" >"$WORK/pairs.tsv"
    serve "$url"
    ingest "$backend" "$url" 100 v7 8 6 >/dev/null
    R[read_small_$backend]=$(read_figures "$backend" "$url"); echo "read at $SMALL: ${R[read_small_$backend]}"
    R[visits_small_$backend]=$(count_visits "$backend" "$url")
    stop
    R[check_small_$backend]=$("$BIN" --database "$url" check | tail -1)
done

row_import() { # backend label baseline-label floor-label
    local label=$2 base_label=$3 floor_label=$4 floor=${R[floor_$1]}
    set -- ${R[import_$1]}
    printf '| %s | %.1f s | %s: %.1f s | %.1f× | %s: %.1f s | %.1f× |' "$label" "$1" "$base_label" "$2" "$(calc "$1 / $2")" \
        "$floor_label" "$floor" "$(calc "$1 / $floor")"
}
row_ingest() { # "at least" when the bodies ran out before the run ended
    set -- ${R[$1]}
    printf '%s | %s%.0f | %s ms | %s ms' "" "$([ "$5" = 1 ] && echo 'at least ')" "$1" "$2" "$3"
}
row_read() {
    local b=$1 s big
    s=(${R[read_small_$b]}); big=(${R[read_big_$b]})
    printf '| %s | %s ms | %s ms | %.0f× | %s ms | %s ms | %.0f× |' "$2" "${s[0]}" "${s[1]}" "$(calc "${s[1]} / ${s[0]}")" "${big[0]}" "${big[1]}" "$(calc "${big[1]} / ${big[0]}")"
}

SECTION=$(cat <<MD
## Outreach (\`bench/outreach.sh $N\`)

$(date -u +%Y-%m-%d), $(nproc) cores, release build; PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') is a throwaway
cluster on the same machine (fsync off, shared_buffers 2 GB). The load tool (wrk, 2 threads) runs on the same two
cores as the server. Data: the demo's tree (1,257 units, 1,241 teams) and households from
\`bench/gen_households.py\`, listed hamlet by hamlet as a commune register lists them (so a
hamlet's households have neighbouring ids).

### Import of $N households

Every household of the file comes with a consent. The baseline loads the file's text into a
bare table. The floor is what the tables themselves cost: the households ngoso wrote (ids,
search keys and all) and their consents, copied by the database's own tool into the tables
of a fresh database with the same tree, with their indexes (\`households\`: three,
\`consents\`: two) and keys.

| database | \`ngoso import households\` | baseline (same file, same run) | ratio | the finished rows into the tables | ratio |
|---|---|---|---|---|---|
$(row_import sqlite "SQLite (WAL)" '`sqlite3 .import` into a bare table' '`INSERT … SELECT` from the imported database')
$(row_import postgres "PostgreSQL" '`psql \copy` into a bare table' '`psql \copy`')

### Visit ingest over HTTP (\`POST /api/v1/visits\`)

Each request is one team's upload: visits to households of its hamlet made in the last two
weeks, each with one service outcome, all new (no replays). Visits/s counts the visits
stored during the run ("at least" where every body was sent before the run's end); latencies
are wrk's.

| database | request | visits/s | p50 | p99 |
|---|---|---|---|---|
| SQLite | 100 visits, random v4 UUIDs, 16 connections $(row_ingest batch4_sqlite) |
| SQLite | 100 visits, time-ordered v7 UUIDs, 16 connections $(row_ingest batch7_sqlite) |
| SQLite | 1 visit, 32 connections $(row_ingest single_sqlite) |
| PostgreSQL | 100 visits, random v4 UUIDs, 16 connections $(row_ingest batch4_postgres) |
| PostgreSQL | 100 visits, time-ordered v7 UUIDs, 16 connections $(row_ingest batch7_postgres) |
| PostgreSQL | 1 visit, 32 connections $(row_ingest single_postgres) |

### Roll-up read of the province (every figure of the unit page)

ngoso: median latency of \`GET /api/v1/units/{province}/figures\` over HTTP. Baseline: the
plain SQL \`GROUP BY\` over households, residents, visits and statuses that computes the
same figures, run in-process (SQLite) or by psql's own timing (PostgreSQL), median of 5.

| database | ngoso at $SMALL | GROUP BY at $SMALL | faster | ngoso at $N | GROUP BY at $N | faster |
|---|---|---|---|---|---|---|
$(row_read sqlite "SQLite")
$(row_read postgres "PostgreSQL")

Visits in the databases when read: ${R[visits_small_sqlite]} and ${R[visits_big_sqlite]} (SQLite), ${R[visits_small_postgres]} and ${R[visits_big_postgres]} (PostgreSQL).

\`ngoso check\` after the benchmarks: SQLite: ${R[check_big_sqlite]} / ${R[check_small_sqlite]}; PostgreSQL: ${R[check_big_postgres]} / ${R[check_small_postgres]}
MD
)
printf '%s\n' "$SECTION" | python3 bench/update_results.py outreach
echo "bench/RESULTS.md updated"
