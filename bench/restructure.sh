#!/usr/bin/env bash
# The whole country's restructuring of 2025-07-01 (10,051 old communes of the statistics
# office's list, 9,942 of them on the official mapping, into 3,300 new communes of 34
# provinces) with N households (default 1,000,000) spread over the old communes, on SQLite
# and PostgreSQL: `ngoso units restructure --official` against one plain
# `UPDATE households SET unit_id = m.new_id FROM m WHERE households.unit_id = m.old_id` of
# the same rows (the pairs it moved) on a copy of the same database, in the same run; then
# `ngoso check`, and the dashboard page of a new commune for 2025 (a period across the date)
# and of its new province.
#
# The old tree is loaded open, as a province's own tree is until it restructures. Households
# sit on the communes themselves (no hamlets): those of a merged commune move, those of a
# split one wait to be placed, as the issue says.
#
#   bench/restructure.sh [N]          (needs sqlite3, psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-1000000}
for tool in sqlite3 psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init restructure

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The old tree, open; the communes' codes; the households.
zcat data/official/units-before.csv.gz | python3 -c '
import csv, sys
r = csv.reader(sys.stdin); w = csv.writer(sys.stdout, lineterminator="\n")
for i, row in enumerate(r):
    w.writerow(row[:5] + ([""] if i else row[5:]))' >"$WORK/before.csv"
zcat data/official/units-before.csv.gz | awk -F, 'NR > 1 && length($1) == 5 { print $1 }' >"$WORK/communes.txt"
python3 bench/gen_households.py "$WORK/communes.txt" "$N" >"$WORK/households.csv"

serve() { # URL -> sets SERVER, BASE and a logged-in cookie jar
    local p csrf
    p=$(port)
    "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    JAR=$WORK/jar
    rm -f "$JAR"
    csrf=$(curl -fs -c "$JAR" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
    curl -fs -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "username=bench" \
        --data-urlencode "password=bench-password-123" --data-urlencode "next=/app/units" "$BASE/login"
}

page_ms() { # unit id -> median ms of 20 loads of its 2025 page (after 3 to warm up)
    local url="$BASE/app/units/$1?period=2025" times=()
    for _ in 1 2 3; do curl -fs -b "$JAR" -o /dev/null "$url"; done
    for _ in $(seq 20); do times+=("$(curl -fs -b "$JAR" -o /dev/null -w '%{time_total}' "$url")"); done
    printf '%s\n' "${times[@]}" | median | awk '{ printf "%.2f", $1 * 1000 }'
}

TABLE=""
PAGES=""
for backend in sqlite postgres; do
    echo "== $backend, $N households"
    url=$(new_db "$backend" "rs_$backend")
    "$BIN" --database "$url" import units "$WORK/before.csv" >/dev/null
    "$BIN" --database "$url" import households "$WORK/households.csv" >/dev/null
    # A copy for the baseline, taken before the restructuring.
    if [ "$backend" = sqlite ]; then
        base="sqlite://$WORK/base.db"
        sqlite3 "${url#sqlite://}" "VACUUM INTO '$WORK/base.db'"
    else
        psql -q "$url" -c "ANALYZE" >/dev/null
        psql -q "$PG_ADMIN" -c "CREATE DATABASE rs_base TEMPLATE rs_$backend" >/dev/null
        base="${PG_ADMIN%/*}/rs_base"
    fi
    t0=$(now)
    "$BIN" --database "$url" units restructure --official >"$WORK/restructure.out"
    t1=$(now)
    ng=$(calc "$t1 - $t0")
    cat "$WORK/restructure.out" | head -1
    moved=$(sql "$backend" "$url" "SELECT COUNT(*) FROM household_moves")
    waiting=$(sql "$backend" "$url" "SELECT COUNT(*) FROM households h JOIN units u ON u.id = h.unit_id WHERE u.valid_to IS NOT NULL")
    # The baseline: the same rows moved by one UPDATE (the mapping loaded beforehand).
    sql "$backend" "$url" "SELECT DISTINCT from_unit_id, to_unit_id FROM household_moves" >"$WORK/pairs.tsv"
    if [ "$backend" = sqlite ]; then
        sqlite3 "$WORK/base.db" "CREATE TABLE m (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL)"
        sqlite3 -separator $'\t' "$WORK/base.db" ".import $WORK/pairs.tsv m"
        t0=$(now)
        sqlite3 "$WORK/base.db" "PRAGMA journal_mode=WAL; UPDATE households SET unit_id = m.new_id FROM m WHERE households.unit_id = m.old_id" >/dev/null
        t1=$(now)
    else
        psql -q "$base" -c "CREATE TABLE m (old_id BIGINT PRIMARY KEY, new_id BIGINT NOT NULL)" -c "\\copy m FROM '$WORK/pairs.tsv'" -c "ANALYZE m" >/dev/null
        t0=$(now)
        psql -q "$base" -c "UPDATE households SET unit_id = m.new_id FROM m WHERE households.unit_id = m.old_id" >/dev/null
        t1=$(now)
    fi
    bl=$(calc "$t1 - $t0")
    "$BIN" --database "$url" check >"$WORK/check.out" || { cat "$WORK/check.out"; exit 1; }
    echo "restructure ${ng}s, one UPDATE ${bl}s; $moved moved, $waiting waiting; check clean"
    TABLE+="| $backend | $N | $moved | $waiting | $(printf '%.2f' "$ng") s | $(printf '%.2f' "$bl") s | $(calc "int($ng / $bl * 10 + 0.5) / 10")× |"$'\n'
    # The dashboard across the date: the new commune with the most households, its province.
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role admin --password-stdin >/dev/null
    [ "$backend" = postgres ] && psql -q "$url" -c "ANALYZE" >/dev/null
    read -r cid pid <<<"$(sql "$backend" "$url" "SELECT u.id, u.parent_id FROM households h JOIN units u ON u.id = h.unit_id WHERE u.valid_from = '2025-07-01' GROUP BY u.id, u.parent_id ORDER BY COUNT(*) DESC, u.id LIMIT 1")"
    serve "$url"
    c=$(page_ms "$cid")
    p=$(page_ms "$pid")
    stop
    echo "dashboard 2025: commune $c ms, province $p ms"
    PAGES+="| $backend | $c ms | $p ms |"$'\n'
    if [ "$backend" = sqlite ]; then rm -f "${url#sqlite://}"* "$WORK/base.db"*
    else psql -q "$PG_ADMIN" -c "DROP DATABASE rs_$backend" -c "DROP DATABASE rs_base" >/dev/null; fi
done

{
    echo "## The restructuring of 2025-07-01 (\`bench/restructure.sh $N\`)"
    echo
    echo "$(date +%F), $(nproc) cores, release build; PostgreSQL a throwaway cluster on the same machine (shared_buffers 2 GB)."
    echo "The statistics office's old tree of the whole country (63 provinces, 696 districts, 10,051 communes), loaded"
    echo "open, with $N households spread over the communes; then \`ngoso units restructure --official\`, the"
    echo "official mapping of 2025-07-01 (wall time of the command: the plan, 3,300 new communes and 7 new provinces opened, 27 provinces of the same code and name kept,"
    echo "every other old unit closed and linked, households moved and recorded, figures carried, teams and accounts"
    echo "followed, in one transaction). Baseline: one plain \`UPDATE households SET unit_id = m.new_id FROM m\`"
    echo "of the same rows on a copy of the database taken before, with the pairs it moved already loaded in"
    echo "\`m\` (\`sqlite3\`, \`psql\`; process start included). Households of a split commune are not moved (they"
    echo "wait for an officer), nor by the baseline. \`ngoso check\` found no difference after each run."
    echo
    echo "| database | households | moved | waiting | restructure | one UPDATE | ratio |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s' "$TABLE"
    echo
    echo "The dashboard page of the new commune with the most households, and of its new province, for 2025 (a"
    echo "period across the date: its first half is its households' past), median of 20 loads over HTTP:"
    echo
    echo "| database | new commune, 2025 | new province, 2025 |"
    echo "|---|---|---|"
    printf '%s' "$PAGES"
} | python3 bench/update_results.py restructure
echo "bench/RESULTS.md updated"
