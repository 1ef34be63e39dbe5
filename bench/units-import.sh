#!/usr/bin/env bash
# Benchmark: `ngoso import units` of a generated CSV of N units (default 100,000), against the
# baseline of loading the same file into a bare table with `sqlite3 .import` (and, when a
# PostgreSQL server is at hand, psql's \copy), measured in the same run; and against the
# floor the table itself sets: the rows ngoso wrote (ids, paths, keys and all) copied into
# the `units` table of a fresh database, with its indexes and keys. Writes the figures into
# bench/RESULTS.md.
#
#   bench/units-import.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${RUNS:-3}
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (Debian: apt-get install sqlite3)" >&2; exit 1; }
cargo build --release -q -p ngoso
BIN=${CARGO_TARGET_DIR:-target}/release/ngoso
WORK=$(mktemp -d /tmp/ngoso-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 bench/gen_units.py "$N" > "$WORK/units.csv"
echo "generated $N units ($(du -h "$WORK/units.csv" | cut -f1))"

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

time_ngoso() { # URL
    local t0 t1
    t0=$(now)
    NGOSO_LOG=warn "$BIN" --database "$1" import units "$WORK/units.csv" >/dev/null
    t1=$(now)
    calc "$t1 - $t0"
}

ng_sqlite=(); base_sqlite=(); table_sqlite=()
for i in $(seq "$RUNS"); do
    rm -f "$WORK"/n.db* "$WORK"/f.db*
    NGOSO_LOG=warn "$BIN" --database "sqlite://$WORK/n.db" migrate >/dev/null
    ng_sqlite+=("$(time_ngoso "sqlite://$WORK/n.db")")
    # The finished rows into the table of a fresh database, by SQLite alone.
    NGOSO_LOG=warn "$BIN" --database "sqlite://$WORK/f.db" migrate >/dev/null
    t0=$(now)
    sqlite3 "$WORK/f.db" "PRAGMA foreign_keys = ON" "ATTACH '$WORK/n.db' AS n" "BEGIN" \
        "INSERT INTO units SELECT * FROM n.units ORDER BY id" "COMMIT"
    t1=$(now)
    table_sqlite+=("$(calc "$t1 - $t0")")
    rm -f "$WORK/b.db"
    t0=$(now)
    sqlite3 "$WORK/b.db" "CREATE TABLE units (code TEXT, name TEXT, kind TEXT, parent_code TEXT);" ".mode csv" ".import --skip 1 $WORK/units.csv units"
    t1=$(now)
    base_sqlite+=("$(calc "$t1 - $t0")")
done
NG_SQLITE=$(printf '%s\n' "${ng_sqlite[@]}" | median)
TABLE_SQLITE=$(printf '%s\n' "${table_sqlite[@]}" | median)
BASE_SQLITE=$(printf '%s\n' "${base_sqlite[@]}" | median)
ROWS=$(sqlite3 "$WORK/n.db" "SELECT COUNT(*) FROM units")
CHECK=$(NGOSO_LANG=en NGOSO_LOG=warn "$BIN" --database "sqlite://$WORK/n.db" check | tail -1)
printf 'SQLite:     ngoso import %.2f s, sqlite3 .import %.2f s, ratio %.1f×; the rows into the table %.2f s, ratio %.1f× (%s rows; check: %s)\n' \
    "$NG_SQLITE" "$BASE_SQLITE" "$(calc "$NG_SQLITE / $BASE_SQLITE")" "$TABLE_SQLITE" "$(calc "$NG_SQLITE / $TABLE_SQLITE")" "$ROWS" "$CHECK"

PG_LINE=""
if . scripts/pg-throwaway.sh && pg_throwaway_start >/dev/null 2>&1; then
    # Starting the cluster set its own exit trap: keep removing the work directory too.
    trap 'rm -rf "$WORK"; pg_throwaway_stop' EXIT
    ng_pg=(); base_pg=(); table_pg=()
    COLS="id, code, name, name_key, name_sort, kind, parent_id, path, depth, valid_from, valid_to, created_at, updated_at"
    for i in $(seq "$RUNS"); do
        db="bench_$i"
        psql -q "$NGOSO_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
            -c "DROP DATABASE IF EXISTS ${db}_f" -c "CREATE DATABASE ${db}_f" >/dev/null
        url="${NGOSO_TEST_DATABASE_URL%/*}/$db"
        NGOSO_LOG=warn "$BIN" --database "$url" migrate >/dev/null
        ng_pg+=("$(time_ngoso "$url")")
        # The finished rows into the table of a fresh database, by psql alone.
        psql -q "$url" -c "\\copy (SELECT $COLS FROM units ORDER BY id) TO '$WORK/finished.tsv'"
        NGOSO_LOG=warn "$BIN" --database "${url}_f" migrate >/dev/null
        t0=$(now)
        psql -q "${url}_f" -c "\\copy units ($COLS) FROM '$WORK/finished.tsv'" >/dev/null
        t1=$(now)
        table_pg+=("$(calc "$t1 - $t0")")
        psql -q "$url" -c "CREATE TABLE bare (code TEXT, name TEXT, kind TEXT, parent_code TEXT)" >/dev/null
        t0=$(now)
        psql -q "$url" -c "\\copy bare FROM '$WORK/units.csv' WITH (FORMAT csv, HEADER true)" >/dev/null
        t1=$(now)
        base_pg+=("$(calc "$t1 - $t0")")
    done
    NG_PG=$(printf '%s\n' "${ng_pg[@]}" | median)
    BASE_PG=$(printf '%s\n' "${base_pg[@]}" | median)
    TABLE_PG=$(printf '%s\n' "${table_pg[@]}" | median)
    printf 'PostgreSQL: ngoso import %.2f s, psql \\copy %.2f s, ratio %.1f×; the rows into the table %.2f s, ratio %.1f×\n' \
        "$NG_PG" "$BASE_PG" "$(calc "$NG_PG / $BASE_PG")" "$TABLE_PG" "$(calc "$NG_PG / $TABLE_PG")"
    PG_LINE=$(printf '| PostgreSQL %s (throwaway, fsync off) | %.2f s | `psql \\copy` into a bare table: %.2f s | %.1f× | `psql \\copy`: %.2f s | %.1f× |' \
        "$("$PG_BINDIR/postgres" --version | awk '{print $3}')" "$NG_PG" "$BASE_PG" "$(calc "$NG_PG / $BASE_PG")" \
        "$TABLE_PG" "$(calc "$NG_PG / $TABLE_PG")")
fi

SECTION=$(cat <<MD
## Import of administrative units (\`bench/units-import.sh $N\`)

$(date -u +%Y-%m-%d), $(nproc) cores, release build, median of $RUNS runs. The file: $N units
from \`bench/gen_units.py\` (a country, 34 provinces, districts, communes, hamlets).
ngoso's time is the whole command: start, read and check every row, plan the tree, compute
search and Vietnamese collation keys, write in one transaction. The first baseline only
copies the raw text into a table with no keys, checks or indexes. The second is the floor
the table sets: the rows ngoso wrote (ids, paths, search and collation keys), copied by
the database's own tool into the \`units\` table of a fresh database, with its indexes
(four on SQLite, five on PostgreSQL) and the parent key.

| database | \`ngoso import units\` | baseline, same file, same run | ratio | the finished rows into \`units\` | ratio |
|---|---|---|---|---|---|
$(printf '| SQLite (WAL) | %.2f s | `sqlite3 .import` into a bare table: %.2f s | %.1f× | `INSERT … SELECT` from the imported database: %.2f s | %.1f× |' "$NG_SQLITE" "$BASE_SQLITE" "$(calc "$NG_SQLITE / $BASE_SQLITE")" "$TABLE_SQLITE" "$(calc "$NG_SQLITE / $TABLE_SQLITE")")
$PG_LINE

\`ngoso check\` after the import: $CHECK
MD
)
printf '%s\n' "$SECTION" | python3 bench/update_results.py units-import
echo "bench/RESULTS.md updated"
