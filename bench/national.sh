#!/usr/bin/env bash
# The dashboard at national scale on PostgreSQL: the country after the 2025 restructuring
# (34 provinces, 3,321 communes, about 30,000 hamlets) with roll-ups standing for about 27
# million households and three years of visits and monthly data values, generated directly
# as aggregates by bench/gen_national.py (27 million households would not fit this machine;
# so `ngoso check` is not run: there are no raw records to recount). ngoso: median of 20
# loads of the unit page for 2024 (`GET /app/units/{id}?period=2024`) of the country, one
# province and one commune. Baseline, in the same run: psql's own time to read the roll-up
# rows of the unit and of each unit below it, summed over shards — the rows the page's
# figures come from.
#
#   bench/national.sh          (needs psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
for tool in psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init national

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

url=$(new_db postgres national)
"$BIN" --database "$url" migrate >/dev/null
python3 bench/gen_national.py units >"$WORK/units.csv"
"$BIN" --database "$url" import units "$WORK/units.csv" >/dev/null
python3 bench/gen_national.py rollups >"$WORK/rollups.tsv"
psql -q "$url" -c "CREATE UNLOGGED TABLE staging (code TEXT, figure TEXT, period TEXT, value BIGINT)"
psql -q "$url" -c "\\copy staging FROM '$WORK/rollups.tsv'"
psql -q "$url" -c "INSERT INTO rollups (unit_id, figure, period, shard, value) SELECT u.id, s.figure, s.period, 0, s.value FROM staging s JOIN units u ON u.code = s.code" \
    -c "DROP TABLE staging" -c "ANALYZE"
rows=$(psql -At "$url" -c "SELECT COUNT(*) FROM rollups")
units=$(psql -At "$url" -c "SELECT string_agg(n || ' ' || kind, ', ' ORDER BY n) FROM (SELECT kind, COUNT(*) AS n FROM units GROUP BY kind) k")
households=$(psql -At "$url" -c "SELECT value FROM rollups r JOIN units u ON u.id = r.unit_id WHERE u.code = 'VN' AND r.figure = 'households'")
echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role admin --password-stdin >/dev/null

p=$(port)
"$BIN" --database "$url" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$p"
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
JAR=$WORK/jar
csrf=$(curl -fs -c "$JAR" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -fs -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "username=bench" \
    --data-urlencode "password=bench-password-123" --data-urlencode "next=/app/units" "$BASE/login"

TABLE=""
for which in country province commune; do
    case $which in
        country) code=VN ;;
        province) code=P07 ;;
        commune) code=P07C004 ;;
    esac
    read -r id below <<<"$(psql -At -F ' ' "$url" -c "SELECT u.id, (SELECT COUNT(*) FROM units c WHERE c.parent_id = u.id) FROM units u WHERE u.code = '$code'")"
    page="$BASE/app/units/$id?period=2024"
    for _ in 1 2 3; do curl -fs -b "$JAR" -o /dev/null "$page"; done
    ng=$(for _ in $(seq 20); do curl -fs -b "$JAR" -o /dev/null -w '%{time_total}\n' "$page"; done | median | awk '{ printf "%.2f", $1 * 1000 }')
    q="SELECT unit_id, figure, period, SUM(value) FROM rollups WHERE unit_id IN (SELECT id FROM units WHERE id = $id OR parent_id = $id) GROUP BY unit_id, figure, period"
    base=$(for _ in 1 2 3 4 5; do (echo '\timing on'; echo "$q;") | psql -q -o /dev/null "$url" 2>&1 | awk '/^Time:/ { print $2 }'; done | median)
    echo "$which ($below below): page $ng ms, rows $base ms"
    TABLE+="| $which ($code, $below units below) | $ng ms | $(printf '%.2f' "$base") ms | $(calc "int($ng / $base * 10 + 0.5) / 10")× |"$'\n'
done
stop

{
    echo "## The dashboard at national scale (\`bench/national.sh\`)"
    echo
    echo "$(date +%F), $(nproc) cores, release build; PostgreSQL a throwaway cluster on the same machine (shared_buffers 2 GB)."
    echo "Units: $units; $rows roll-up rows standing for $households households and three years of"
    echo "visits and monthly data values, **generated directly as aggregates** by \`bench/gen_national.py\`"
    echo "(27 million households would not fit this machine; no raw records, so no \`ngoso check\`)."
    echo "ngoso: median of 20 loads of the unit page for 2024 over HTTP (an administrator's session)."
    echo "Baseline: psql's own time to read the roll-up rows of the unit and of each unit below it, median of 5."
    echo
    echo "| unit | dashboard page | reading its roll-up rows | page / rows |"
    echo "|---|---|---|---|"
    printf '%s' "$TABLE"
} | python3 bench/update_results.py national
echo "bench/RESULTS.md updated"
