#!/usr/bin/env bash
# The dashboard (the unit page, `GET /app/units/{id}?period=2024`: headline indicators with
# targets and the year before, the units below compared, their table, figures by sex, age
# and group, the visits of recent months, the teams needing attention) for the province and
# for one commune, on the demo province (three years of visits, data values, places and
# feedback) at 100,000 and at N households (default 1,000,000), on SQLite and PostgreSQL.
# Baseline, in the same run: the plain SQL that computes the unit's own headline figures
# (statuses reached, households and households visited, visits of 2024 and 2023, data values
# of 2024 and 2023, feedback of 2024 and 2023, places paying cashless) from the raw tables,
# by the database's own client with its own timing. Median of 20 page loads, of 5 baselines.
#
#   bench/dashboard.sh [N]          (needs sqlite3, psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-1000000}
SMALL=100000
for tool in sqlite3 psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init dashboard

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

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

page_ms() { # unit id -> median ms of 20 loads (after 3 to warm up)
    local url="$BASE/app/units/$1?period=2024" times=()
    for _ in 1 2 3; do curl -fs -b "$JAR" -o /dev/null "$url"; done
    for _ in $(seq 20); do times+=("$(curl -fs -b "$JAR" -o /dev/null -w '%{time_total}' "$url")"); done
    printf '%s\n' "${times[@]}" | median | awk '{ printf "%.2f", $1 * 1000 }'
}

baseline_sql() { # path upper -> the SQL
    local w="u.path >= '$1' AND u.path < '$2'"
    cat <<SQL
SELECT s.service_id, s.status_id, COUNT(*) FROM subject_statuses s JOIN households h ON h.id = s.household_id JOIN units u ON u.id = h.unit_id WHERE $w GROUP BY s.service_id, s.status_id;
SELECT COUNT(*) FROM households h JOIN units u ON u.id = h.unit_id WHERE $w;
SELECT COUNT(DISTINCT v.household_id) FROM visits v JOIN households h ON h.id = v.household_id JOIN units u ON u.id = h.unit_id WHERE $w;
SELECT v.month >= '202401', COUNT(*), SUM(CASE WHEN v.result = 'met' THEN 1 ELSE 0 END) FROM visits v JOIN households h ON h.id = v.household_id JOIN units u ON u.id = h.unit_id WHERE $w AND v.month BETWEEN '202301' AND '202412' GROUP BY v.month >= '202401';
SELECT d.element_id, d.period >= '202401', SUM(d.value) FROM data_values d JOIN units u ON u.id = d.unit_id WHERE $w AND d.period BETWEEN '202301' AND '202412' GROUP BY d.element_id, d.period >= '202401';
SELECT f.received_at >= 1704042000, COUNT(*), SUM(CASE WHEN f.answered_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN f.answered_at <= f.due_at THEN 1 ELSE 0 END) FROM feedback f JOIN units u ON u.id = f.unit_id WHERE $w AND f.received_at >= 1672506000 AND f.received_at < 1735664400 GROUP BY f.received_at >= 1704042000;
SELECT p.kind, SUM(CASE WHEN p.cashless_since <= '2024-12-31' THEN 1 ELSE 0 END), SUM(CASE WHEN p.online_fees_since <= '2024-12-31' THEN 1 ELSE 0 END) FROM places p JOIN units u ON u.id = p.unit_id WHERE $w GROUP BY p.kind;
SQL
}

baseline_ms() { # backend URL path upper -> median ms of 5
    local sqlf=$WORK/base.sql times=() t0 t1
    baseline_sql "$3" "$4" >"$sqlf"
    for _ in 1 2 3 4 5 6; do
        if [ "$1" = sqlite ]; then
            t0=$(now); sqlite3 "${2#sqlite://}" <"$sqlf" >/dev/null; t1=$(now)
            times+=("$(calc "($t1 - $t0) * 1000")")
        else
            # psql's own timing of each statement, summed (no process start).
            times+=("$( (echo '\timing on'; cat "$sqlf") | psql -q "$2" 2>&1 | awk '/^Time:/ { s += $2 } END { print s }')")
        fi
    done
    printf '%s\n' "${times[@]:1}" | median | awk '{ printf "%.2f", $1 }'
}

TABLE=""
for n in $SMALL $N; do
    for backend in sqlite postgres; do
        echo "== $backend at $n households"
        url=$(new_db "$backend" "dash_${backend}_$n")
        "$BIN" --database "$url" demo --no-serve --households "$n" --dir "$WORK/demo-$backend-$n" >/dev/null
        echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role officer --unit 80 --password-stdin >/dev/null
        read -r pid ppath <<<"$(sql "$backend" "$url" "SELECT id, path FROM units WHERE code = '80' AND valid_to IS NULL")"
        read -r cid cpath <<<"$(sql "$backend" "$url" "SELECT c.id, c.path FROM households h JOIN units a ON a.id = h.unit_id JOIN units c ON c.id = a.parent_id ORDER BY h.id LIMIT 1")"
        if [ "$backend" = postgres ]; then
            # Statistics after the bulk load, as autovacuum's analyze gives them shortly after.
            psql -q "$url" -c "ANALYZE" >/dev/null
        fi
        serve "$url"
        # The demo leaves citizen messages to send (no gateway is set: each is given up);
        # the server works through them first. Measure once they are done.
        for _ in $(seq 600); do
            left=$(sql "$backend" "$url" "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL")
            [ "$left" = 0 ] && break
            sleep 1
        done
        for which in province commune; do
            if [ $which = province ]; then id=$pid; path=$ppath; else id=$cid; path=$cpath; fi
            upper="${path%/}0"
            ng=$(page_ms "$id")
            base=$(baseline_ms "$backend" "$url" "$path" "$upper")
            echo "$which: page $ng ms, plain SQL $base ms"
            TABLE+="| $backend | $n | $which | $ng ms | $base ms | $(calc "int($base / $ng * 10 + 0.5) / 10")× |"$'\n'
        done
        stop
        "$BIN" --database "$url" check >/dev/null
        [ "$backend" = sqlite ] && rm -f "${url#sqlite://}"* || psql -q "$PG_ADMIN" -c "DROP DATABASE dash_${backend}_$n" >/dev/null
    done
done

{
    echo "## The dashboard (\`bench/dashboard.sh $N\`)"
    echo
    echo "$(date +%F), $(nproc) cores, release build; PostgreSQL a throwaway cluster on the same machine (shared_buffers 2 GB)."
    echo "The demo province (three years of visits, data values, places and feedback). ngoso: median of 20"
    echo "loads of the whole unit page for 2024 over HTTP (curl, the session of an officer of the province),"
    echo "which reads the headline with targets and the year before, the units below compared and"
    echo "tabled, figures by sex, age and group, recent months and the teams needing attention."
    echo "Baseline: the plain SQL that computes the unit's own headline figures from the raw tables"
    echo "(statuses, households, visits, data values, feedback and places of 2024 and 2023), median of 5:"
    echo "\`sqlite3\` run on a file of it (process start included), psql's own timing summed. \`ngoso check\`"
    echo "found no difference afterwards. Measured once the server had worked through the demo's outbox;"
    echo "on PostgreSQL after \`ANALYZE\` of the loaded database."
    echo
    echo "| database | households | unit | dashboard page | plain SQL | page faster by |"
    echo "|---|---|---|---|---|---|"
    printf '%s' "$TABLE"
} | python3 bench/update_results.py dashboard
echo "bench/RESULTS.md updated"
