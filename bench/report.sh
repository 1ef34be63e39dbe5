#!/usr/bin/env bash
# The periodic report of the province (`ngoso report --unit 80 --period 2024`) in each format,
# on the demo province of N households (default 20,000: three years of visits, data values,
# places, targets and feedback) on SQLite and on PostgreSQL: time (median of 3, the process
# started each time) and size. Baseline, in the same run: the database's own client
# (`sqlite3`, `psql`) started and reading every roll-up row of the province and of each unit
# below it, the rows the report's figures come from.
#
#   bench/report.sh [N]          (needs sqlite3, psql, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-20000}
for tool in sqlite3 psql python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init report

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
timed() { # command... -> milliseconds
    local t0 t1
    t0=$(now)
    "$@" >/dev/null
    t1=$(now)
    calc "($t1 - $t0) * 1000"
}

ROWS="SELECT r.unit_id, r.figure, r.period, SUM(r.value) FROM rollups r JOIN units u ON u.id = r.unit_id \
      WHERE (u.code = '80' AND u.valid_to IS NULL) OR u.parent_id = (SELECT id FROM units WHERE code = '80' AND valid_to IS NULL) GROUP BY r.unit_id, r.figure, r.period"

TABLE=""
for backend in sqlite postgres; do
    url=$(new_db "$backend" "report_$backend")
    "$BIN" --database "$url" demo --no-serve --households "$N" --dir "$WORK/demo-$backend" >/dev/null
    base=$(for _ in 1 2 3; do timed sql "$backend" "$url" "$ROWS"; done | median)
    rows=$(sql "$backend" "$url" "$ROWS" | wc -l)
    for f in xlsx csv html json; do
        out="$WORK/r.$f"
        t=$(for _ in 1 2 3; do timed "$BIN" --database "$url" report --unit 80 --period 2024 --format "$f" -o "$out"; done | median)
        size=$(stat -c %s "$out")
        TABLE+="| $backend | $f | $(printf '%.0f' "$t") ms | $(calc "int($size / 1024 + 0.5)") KB | $(printf '%.0f' "$base") ms | $(calc "int($t / $base * 10 + 0.5) / 10")× |"$'\n'
    done
    "$BIN" --database "$url" check >/dev/null
done

{
    echo "## The periodic report (\`bench/report.sh $N\`)"
    echo
    echo "$(date +%F), $(nproc) cores, release build; PostgreSQL a throwaway cluster on the same machine."
    echo "The demo province of $N households (15 districts below the province, three years of visits,"
    echo "data values, places, targets and feedback); the report of the province for 2024, the command"
    echo "started each time (median of 3). Baseline: the database's own client started and reading the"
    echo "$rows roll-up rows of the province and its districts that the report's figures come from."
    echo
    echo "| database | format | \`ngoso report\` | size | baseline | ratio |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$TABLE"
} | python3 bench/update_results.py report
echo "bench/RESULTS.md updated"
