#!/usr/bin/env bash
# Benchmarks of citizen feedback, each against a baseline measured in the same run:
#   1. public submissions over HTTP (POST /feedback, the form a citizen sends, wrk with 16
#      connections) vs a plain INSERT loop of the same rows through sqlx into a bare table
#      (crates/store/examples/insert_loop.rs);
#   2. the inbox with N feedback items (default 1,000,000): the first page of one agency's
#      overdue items, as the page (session cookie) and as the JSON API, vs the same SQL run
#      by sqlite3/psql;
# on SQLite and PostgreSQL, then `ngoso check`. Writes the figures into bench/RESULTS.md.
#
#   bench/feedback.sh [N]          (needs sqlite3, psql, wrk, python3, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-1000000}
SUBMISSIONS=60000
for tool in sqlite3 psql wrk python3 curl; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client wrk python3 curl)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
cargo build --release -q -p ngoso-store --example insert_loop
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
LOOP=$ROOT/${CARGO_TARGET_DIR:-target}/release/examples/insert_loop
. bench/lib.sh
bench_init feedback

# A database with the demo's tree, agencies, categories and routing; an agency account of
# the provincial transport department scoped to the province.
make_db() { # backend name -> URL
    local backend=$1 name=$2 url
    url=$(new_db "$backend" "$name")
    "$BIN" --database "$url" demo --no-serve --households 0 --dir "$WORK/demo-$name" >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role agency_staff --unit 80 --password-stdin >/dev/null
    sql "$backend" "$url" "UPDATE users SET agency_id = (SELECT id FROM agencies WHERE code = 'so_xd') WHERE username = 'bench'" >/dev/null
    echo "$url"
}

serve() { # URL -> sets SERVER, BASE, TOKEN, COOKIE
    local p
    p=$(port)
    NGOSO_DB_MAX_CONNECTIONS=16 NGOSO_FEEDBACK_PER_CLIENT_PER_HOUR=0 "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 50); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    TOKEN=$(curl -fs -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-123"}' \
        "$BASE/api/v1/auth/token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
    local jar=$WORK/jar csrf
    rm -f "$jar"
    csrf=$(curl -fs -c "$jar" "$BASE/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
    curl -fs -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "username=bench" \
        --data-urlencode "password=bench-password-123" --data-urlencode "next=/app/feedback" "$BASE/login"
    COOKIE=$(awk -F'\t' 'NF >= 7 {printf "%s%s=%s", (n++ ? "; " : ""), $6, $7}' "$jar")
}

count() { sql "$1" "$2" "SELECT COUNT(*) FROM feedback"; }

# Public submissions: items stored per second and wrk's p50/p99, then the INSERT loop.
submissions() { # backend URL -> "items/s p50 p99 stored loop_rows/s"
    local backend=$1 url=$2 before after t0 t1 out
    sql "$backend" "$url" "SELECT code FROM units WHERE depth = 3" >"$WORK/hamlets.txt"
    python3 bench/gen_feedback.py "$WORK/hamlets.txt" "$SUBMISSIONS" "$RANDOM" "$WORK/bodies.txt" "$WORK/rows.tsv"
    serve "$url"
    # The form's CSRF token and the cookie it is bound to, as a browser gets them with the
    # page: every body is sent with them (one browser's, as far as the check can tell).
    local jar=$WORK/form-jar csrf cookie
    csrf=$(curl -fs -c "$jar" "$BASE/feedback" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
    cookie=$(awk '$6 == "ngoso_csrf" {print $6 "=" $7}' "$jar")
    before=$(count "$backend" "$url")
    t0=$(now)
    out=$(THREADS=2 BODIES=$WORK/bodies.txt CSRF=$csrf COOKIE=$cookie \
        wrk -t2 -c16 -d10s --latency -s bench/wrk-form.lua "$BASE/feedback" 2>&1)
    t1=$(now)
    echo "$out" >>"$WORK/wrk.log"
    after=$(count "$backend" "$url")
    stop
    local p50 p99 loop
    p50=$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
    p99=$(ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
    loop=$("$LOOP" "$url" "$WORK/rows.tsv")
    echo "$(calc "($after - $before) / ($t1 - $t0)") $p50 $p99 $((after - before)) $loop"
}

# N items straight into the tables (the HTTP path would take hours), with their folded search
# keys as the store writes them: spread over 540 days, seven agencies, the hamlets of the demo's
# current tree (after the 2025 restructuring); 30 % still pending with a 14-day deadline, the rest
# answered. The figures' counters are rebuilt and their roll-ups up the tree added from them so
# that `ngoso check` holds.
bulk() { # backend URL
    local backend=$1 url=$2 now
    now=$(date +%s)
    local body="
        INSERT INTO feedback (code, category_id, unit_id, description, extra, channel, citizen_key_hash, agency_id, state, pending,
            received_at, due_at, updated_at, answered_at, answer, has_photo, search_key)
        SELECT 'PAKN.20250101.' || (1000000 + s.n), c0 + s.n % 7, h.id, 'Phản ánh số ' || s.n, '{}', 'web', 'x', a0 + s.n % 7,
            CASE WHEN s.n % 10 < 3 THEN 'in_progress' ELSE 'answered' END, s.n % 10 < 3,
            $now - (s.n * 47) % 46656000, $now - (s.n * 47) % 46656000 + 1209600, $now - (s.n * 47) % 46656000,
            CASE WHEN s.n % 10 < 3 THEN NULL ELSE $now - (s.n * 47) % 46656000 + (s.n % 20) * 86400 END,
            CASE WHEN s.n % 10 < 3 THEN NULL ELSE 'Đã xử lý.' END, FALSE, 'phan anh so ' || s.n
        FROM seq s JOIN h ON h.k = s.n % (SELECT COUNT(*) FROM h) CROSS JOIN vars"
    local counters="
        INSERT INTO feedback_counts (unit_id, category_id, agency_id, month, received, answered, on_time)
        SELECT unit_id, category_id, agency_id, month, SUM(r), SUM(a), SUM(o) FROM (
            SELECT COALESCE(unit_id, 0) AS unit_id, category_id, COALESCE(agency_id, 0) AS agency_id, MONTH(received_at) AS month, 1 AS r, 0 AS a, 0 AS o FROM feedback
            UNION ALL
            SELECT COALESCE(unit_id, 0), category_id, COALESCE(agency_id, 0), MONTH(answered_at), 0, 1, CASE WHEN answered_at <= due_at THEN 1 ELSE 0 END
            FROM feedback WHERE answered_at IS NOT NULL) x
        GROUP BY unit_id, category_id, agency_id, month"
    # The bulk items' counts added up the tree, as the store keeps them: for the item's unit
    # and every ancestor (a unit whose path begins the item's), one row per figure and month.
    # The items are in units still open, whose figures go nowhere else.
    local bulk_items="FROM feedback WHERE length(code) = 21 AND code LIKE 'PAKN.20250101.%'"
    local rollups="
        INSERT INTO rollups (unit_id, figure, period, shard, value)
        SELECT a.id, x.figure, x.month, 0, SUM(x.v) FROM (
            SELECT unit_id, figure, month, COUNT(*) AS v FROM (
                SELECT unit_id, 'feedback_received' AS figure, MONTH(received_at) AS month $bulk_items
                UNION ALL SELECT unit_id, 'feedback_answered', MONTH(answered_at) $bulk_items AND answered_at IS NOT NULL
                UNION ALL SELECT unit_id, 'feedback_on_time', MONTH(answered_at) $bulk_items AND answered_at <= due_at) i
            GROUP BY unit_id, figure, month) x
        JOIN units u ON u.id = x.unit_id JOIN units a ON substr(u.path, 1, length(a.path)) = a.path
        WHERE TRUE GROUP BY a.id, x.figure, x.month
        ON CONFLICT (unit_id, figure, period, shard) DO UPDATE SET value = rollups.value + excluded.value"
    if [ "$backend" = sqlite ]; then
        local r="strftime('%Y%m', received_at + 25200, 'unixepoch')" a="strftime('%Y%m', answered_at + 25200, 'unixepoch')"
        local c=${counters//MONTH(received_at)/$r} u=${rollups//MONTH(received_at)/$r}
        c=${c//MONTH(answered_at)/$a}
        u=${u//MONTH(answered_at)/$a}
        sqlite3 "${url#sqlite://}" "
            CREATE TEMP TABLE h AS SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, id FROM units WHERE kind IN ('ấp', 'khu phố') AND valid_to IS NULL;
            CREATE TEMP TABLE vars AS SELECT (SELECT MIN(id) FROM feedback_categories) AS c0, (SELECT MIN(id) FROM agencies) AS a0;
            WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N)
            $body;
            DELETE FROM feedback_counts;
            $c;
            $u;
            ANALYZE;" >/dev/null
    else
        local r="to_char(to_timestamp(received_at + 25200) AT TIME ZONE 'UTC', 'YYYYMM')"
        local a="to_char(to_timestamp(answered_at + 25200) AT TIME ZONE 'UTC', 'YYYYMM')"
        local c=${counters//MONTH(received_at)/$r} u=${rollups//MONTH(received_at)/$r}
        c=${c//MONTH(answered_at)/$a}
        u=${u//MONTH(answered_at)/$a}
        psql -q "$url" -c "
            CREATE TEMP TABLE h AS SELECT ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, id FROM units WHERE kind IN ('ấp', 'khu phố') AND valid_to IS NULL;
            CREATE TEMP TABLE vars AS SELECT (SELECT MIN(id) FROM feedback_categories) AS c0, (SELECT MIN(id) FROM agencies) AS a0;
            WITH seq(n) AS (SELECT generate_series(1, $N))
            $body;
            DELETE FROM feedback_counts;
            $c;
            $u;
            ANALYZE;" >/dev/null
    fi
}

# The first inbox page of the agency's overdue items: page and API (wrk -c1 median and p99)
# and the same SQL run by sqlite3/psql (median of 5).
inbox() { # backend URL -> "page_p50 page_p99 api_p50 api_p99 sql_ms overdue"
    local backend=$1 url=$2 out page api agency path hi q base overdue
    serve "$url"
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$BASE/app/feedback?overdue=1")
    [ "$code" = 200 ] || { echo "the inbox page answered $code, not 200" >&2; exit 1; }
    out=$(wrk -t1 -c1 -d5s --latency -H "Cookie: $COOKIE" "$BASE/app/feedback?overdue=1" 2>&1)
    echo "$out" >>"$WORK/wrk.log"
    page="$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')") $(ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")"
    out=$(wrk -t1 -c1 -d5s --latency -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/feedback?overdue=true" 2>&1)
    api="$(ms "$(echo "$out" | awk '$1 == "50%" {print $2}')") $(ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")"
    stop
    agency=$(sql "$backend" "$url" "SELECT id FROM agencies WHERE code = 'so_xd'")
    path=$(sql "$backend" "$url" "SELECT path FROM units WHERE code = '80' AND valid_to IS NULL")
    hi="${path%/}0"
    local t
    t=$(date +%s)
    q="SELECT f.id, f.code, f.category_id, u.name, a.code, f.state, f.received_at, f.due_at, f.extended, SUBSTR(f.description, 1, 140)
       FROM feedback f LEFT JOIN units u ON u.id = f.unit_id LEFT JOIN agencies a ON a.id = f.agency_id
       WHERE f.agency_id = $agency AND f.pending AND f.due_at < $t AND ((u.path >= '$path' AND u.path < '$hi'))
       ORDER BY f.due_at, f.id LIMIT 51"
    if [ "$backend" = sqlite ]; then
        base=$(python3 - "${url#sqlite://}" "$q" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
times = []
for _ in range(5):
    t = time.perf_counter()
    db.execute(sys.argv[2]).fetchall()
    times.append((time.perf_counter() - t) * 1000)
print(round(sorted(times)[2], 2))
PY
)
    else
        base=$(for _ in 1 2 3 4 5; do psql -At "$url" -c '\timing on' -c "$q" | awk '/^Time:/ {print $2}'; done | sort -g | awk 'NR == 3')
    fi
    overdue=$(sql "$backend" "$url" "SELECT COUNT(*) FROM feedback WHERE agency_id = $agency AND pending AND due_at < $t")
    echo "$page $api $base $overdue"
}

declare -A R
for backend in sqlite postgres; do
    echo "== $backend"
    url=$(make_db "$backend" "fb_$backend")
    R[submit_$backend]=$(submissions "$backend" "$url"); echo "submissions: ${R[submit_$backend]}"
    R[check_submit_$backend]=$("$BIN" --database "$url" check | tail -1 || true)
    url=$(make_db "$backend" "inbox_$backend")
    t0=$(now); bulk "$backend" "$url"; t1=$(now)
    R[items_$backend]=$(count "$backend" "$url")
    echo "bulk: ${R[items_$backend]} items in $(calc "$t1 - $t0") s"
    R[inbox_$backend]=$(inbox "$backend" "$url"); echo "inbox: ${R[inbox_$backend]}"
    R[check_inbox_$backend]=$("$BIN" --database "$url" check | tail -1 || true)
done

row_submit() { # backend label
    set -- ${R[submit_$1]} "$2"
    printf '| %s | %.0f items/s | %s ms | %s ms | %.0f rows/s | %.1f× |' "$6" "$1" "$2" "$3" "$5" "$(calc "$5 / $1")"
}
row_inbox() { # backend label
    set -- ${R[inbox_$1]} "$2"
    printf '| %s | %s ms | %s ms | %s ms | %s ms | %s ms | %s |' "$7" "$1" "$2" "$3" "$4" "$5" "$6"
}

SECTION=$(cat <<MD
## Citizen feedback (\`bench/feedback.sh $N\`)

$(date -u +%Y-%m-%d), $(nproc) cores, release build; PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') is a throwaway
cluster on the same machine (fsync off, shared_buffers 2 GB). wrk runs on the same two cores as the server.
Data: the demo's tree, agencies, categories and routing.

### Public submissions over HTTP (\`POST /feedback\`)

wrk, 2 threads, 16 connections, 10 s, each request a different citizen's form
(\`bench/gen_feedback.py\`: category, description with Vietnamese text and emoji, hamlet, a
phone number and consent for half of them). Items/s counts the items stored during the run.
Each stored item is: checks, the day's tracking number, routing, deadline in working days,
the item, two history rows, the figures' counter and the outbox rows, in one transaction,
and the HTML receipt. Baseline: \`crates/store/examples/insert_loop.rs\`, the same rows
written one \`INSERT\` at a time through sqlx into a bare table, one connection.

| database | ngoso | p50 | p99 | plain INSERT loop | baseline / ngoso |
|---|---|---|---|---|---|
$(row_submit sqlite "SQLite (WAL)")
$(row_submit postgres "PostgreSQL")

### Inbox with ${R[items_sqlite]} feedback items

The first page (50 items) of the overdue items of one agency (\`so_xd\`, a seventh of the
items), for an agency account scoped to the province: median and p99 of wrk -c1 over 5 s,
as the HTML page (\`GET /app/feedback?overdue=1\`, session cookie) and as JSON
(\`GET /api/v1/feedback?overdue=true\`). Baseline: the same SQL run by sqlite3/psql, median
of 5. Goal: under 20 ms.

| database | page p50 | page p99 | API p50 | API p99 | same SQL alone | overdue items of the agency |
|---|---|---|---|---|---|---|
$(row_inbox sqlite "SQLite (WAL)")
$(row_inbox postgres "PostgreSQL")

\`ngoso check\` after the benchmarks: SQLite: ${R[check_submit_sqlite]} / ${R[check_inbox_sqlite]}; PostgreSQL: ${R[check_submit_postgres]} / ${R[check_inbox_postgres]}
MD
)
printf '%s\n' "$SECTION" | python3 bench/update_results.py feedback
echo "bench/RESULTS.md updated"
