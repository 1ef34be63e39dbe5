#!/usr/bin/env bash
# The raw export of visits (GET /api/v1/export/visits, CSV) at 20,000 and at N visits
# (default 1,000,000), against the database's own CSV output of the same columns of the same
# join, in the same run: `sqlite3 -csv` and `psql \copy (SELECT …) TO`. ODK Central's export
# of 20,000 submissions takes 0.8–1.0 s on this kind of machine (the issue's figure). Visits
# are stored through the API (batches of 100), so `ngoso check` must stay clean.
#
#   bench/export.sh [N]          (needs sqlite3, psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-1000000}
SMALL=20000
for tool in sqlite3 psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init export

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

# The same columns as the export, straight from the database.
SELECT="SELECT v.id, u.code, h.code, v.team_id, v.visited_at, v.month, v.result, v.barriers, v.note \
FROM visits v JOIN households h ON h.id = v.household_id JOIN units u ON u.id = h.unit_id ORDER BY v.seq"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Median of 3 of each; prints "ngoso_s baseline_s rows bytes".
measure() { # backend URL
    local t0 t1 ng=() base=() rows bytes
    for _ in 1 2 3; do
        t0=$(now)
        curl -fs -H "authorization: Bearer $TOKEN" "$BASE/api/v1/export/visits?unit=80&from=2000-01-01&to=2099-12-31" >"$WORK/out.csv"
        t1=$(now); ng+=("$(calc "$t1 - $t0")")
        t0=$(now)
        if [ "$1" = sqlite ]; then sqlite3 -csv "${2#sqlite://}" "$SELECT" >"$WORK/base.csv"
        else psql -q "$2" -c "\\copy ($SELECT) TO '$WORK/base.csv' CSV"; fi
        t1=$(now); base+=("$(calc "$t1 - $t0")")
    done
    rows=$(( $(wc -l <"$WORK/out.csv") - 1 ))
    bytes=$(wc -c <"$WORK/out.csv")
    [ "$rows" = "$(wc -l <"$WORK/base.csv")" ] || { echo "the export has $rows rows, the baseline $(wc -l <"$WORK/base.csv")" >&2; exit 1; }
    echo "$(printf '%s\n' "${ng[@]}" | median) $(printf '%s\n' "${base[@]}" | median) $rows $bytes"
}

declare -A R
for backend in sqlite postgres; do
    echo "== $backend"
    url=$(make_db "$backend" "export_$backend")
    sql "$backend" "$url" "SELECT code FROM units WHERE kind IN ('ấp', 'khu phố')" >"$WORK/hamlets.txt"
    [ -f "$WORK/h.csv" ] || python3 bench/gen_households.py "$WORK/hamlets.txt" $(( N / 3 )) >"$WORK/h.csv"
    "$BIN" --database "$url" import households "$WORK/h.csv" >/dev/null
    sql "$backend" "$url" "SELECT h.id, t.id FROM households h JOIN teams t ON t.unit_id = h.unit_id" >"$WORK/pairs.tsv"
    serve "$url"
    python3 bench/gen_visits.py "$WORK/pairs.tsv" 100 $(( SMALL / 100 )) 1 v4 >"$WORK/small.jsonl"
    python3 bench/post_bodies.py "$BASE/api/v1/visits" "$TOKEN" "$WORK/small.jsonl"
    R[small_$backend]=$(measure "$backend" "$url"); echo "at $SMALL: ${R[small_$backend]}"
    python3 bench/gen_visits.py "$WORK/pairs.tsv" 100 $(( (N - SMALL) / 100 )) 2 v4 >"$WORK/big.jsonl"
    python3 bench/post_bodies.py "$BASE/api/v1/visits" "$TOKEN" "$WORK/big.jsonl"
    R[big_$backend]=$(measure "$backend" "$url"); echo "at $N: ${R[big_$backend]}"
    stop
    R[check_$backend]=$("$BIN" --database "$url" check | tail -1)
done

row() { # label result
    set -- "$1" $2
    printf '| %s | %s | %.0f ms | %.0f ms | %.1f× | %.1f MB |\n' "$1" "$4" "$(calc "$2 * 1000")" "$(calc "$3 * 1000")" \
        "$(calc "$2 / $3")" "$(calc "$5 / 1048576")"
}
{
    echo "## Raw export of visits (\`bench/export.sh $N\`)"
    echo
    echo "$(date +%F), 2 cores, release build; PostgreSQL $(psql -At "$PG_ADMIN" -c 'SHOW server_version' | cut -d' ' -f1) is a throwaway"
    echo "cluster on the same machine. ngoso: \`GET /api/v1/export/visits\` of the province over HTTP with curl,"
    echo "as an officer (household code and note included, audit-logged), streamed CSV with RFC 3339 times"
    echo "and barrier codes. Baseline: the database's own CSV of the same columns of the same join"
    echo "(\`sqlite3 -csv\`, \`psql \\copy (SELECT …) TO\`), raw integers, same run. Median of 3."
    echo "ODK Central exports 20,000 submissions in 0.8–1.0 s on this kind of machine."
    echo
    echo "| database | visits | ngoso | baseline | ngoso ÷ baseline | size |"
    echo "|---|---|---|---|---|---|"
    for backend in sqlite postgres; do
        name=$([ $backend = sqlite ] && echo SQLite || echo PostgreSQL)
        row "$name" "${R[small_$backend]}"
        row "$name" "${R[big_$backend]}"
    done
    echo
    echo "\`ngoso check\` after the benchmark: SQLite: ${R[check_sqlite]}; PostgreSQL: ${R[check_postgres]}"
} | python3 bench/update_results.py export
echo "written to bench/RESULTS.md"
