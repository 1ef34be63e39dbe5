#!/usr/bin/env bash
# The field app's sync (issue 16), on SQLite and PostgreSQL. A hamlet of N households
# (default 400) with 2 to 5 residents each and a status or two each (from a first round of
# visits); a member of the hamlet's team syncs their phone:
#
# - the walk list whole, in one request (`GET /api/v1/field/sync`), compressed as a phone
#   gets it and plain; then a delta with nothing changed, and one after 20 households were
#   visited by someone else. Baselines in the same run: the size of the same records as a
#   gzipped CSV (households and residents, no statuses: the least a phone could be sent), and
#   the time of the same rows read by plain SQL (sqlite3's and psql's own timers);
# - 1,000 visits queued over a day offline, sent as the app sends them (two batches of 500 to
#   `POST /api/v1/visits`), then sent again whole (a retry after a lost answer: all
#   duplicates). Baseline: the same 1,000 rows inserted by one plain INSERT into a bare table
#   with no keys (the database's own timer).
#
# The app's first load (the page, its worker and all the worker keeps, compressed) is
# measured too, and written with the rest to bench/RESULTS.md.
#
#   bench/field.sh [N]          (needs sqlite3, psql, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-400}
for tool in sqlite3 psql curl python3; do
    command -v $tool >/dev/null || { echo "needs $tool (Debian: apt-get install sqlite3 postgresql-client curl python3)" >&2; exit 1; }
done
cargo build --release -q -p ngoso
BIN=$ROOT/${CARGO_TARGET_DIR:-target}/release/ngoso
. bench/lib.sh
bench_init field

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The tree, the households and their residents.
cat >"$WORK/units.csv" <<'EOF'
code,name,kind,parent_code
80,Tỉnh Tây Ninh,tỉnh,
28204,Xã Long Hựu,xã,80
28204-01,Ấp Long Hựu Đông,ấp,28204
EOF
echo "28204-01" >"$WORK/hamlets.txt"
python3 bench/gen_households.py "$WORK/hamlets.txt" "$N" F >"$WORK/households.csv"
python3 - "$WORK/households.csv" >"$WORK/residents.csv" <<'EOF'
import csv, random, sys
rng = random.Random(16)
family = "Nguyễn Trần Lê Phạm Hoàng Võ Đặng Bùi".split()
given = "An Bình Cường Dũng Hà Hạnh Hoa Lan Mai Nam Phúc Yến".split()
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["household_code", "full_name", "birth_year", "sex"])
for row in csv.DictReader(open(sys.argv[1])):
    for _ in range(rng.randint(2, 5)):
        w.writerow([row["code"], f"{rng.choice(family)} Văn {rng.choice(given)}", rng.randint(1940, 2015), rng.choice("mf")])
EOF

api() { # method path [body] -> response body (member's token unless TOKEN_AS is set)
    curl -fs -X "$1" -H "authorization: Bearer ${TOKEN_AS:-$TOKEN}" -H 'content-type: application/json' \
        ${3:+--data-binary "$3"} "$BASE$2"
}
token() { # username -> token
    curl -fs -X POST -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"bench-password-123\"}" \
        "$BASE/api/v1/auth/token" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])'
}
serve() { # URL -> sets SERVER, BASE
    local p
    p=$(port)
    "$BIN" --database "$1" serve --listen "127.0.0.1:$p" >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    BASE="http://127.0.0.1:$p"
    for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
}
# curl's figures for a GET: "bytes seconds"; $2: --compressed or nothing.
fetch() { curl -fs $2 -H "authorization: Bearer $TOKEN" -o /dev/null -w '%{size_download} %{time_total}\n' "$BASE$1"; }
# Median bytes and milliseconds of 10 fetches (after one to warm up).
measure() {
    local out
    fetch "$1" "$2" >/dev/null
    out=$(for _ in $(seq 10); do fetch "$1" "$2"; done)
    echo "$(echo "$out" | awk '{print $1}' | median) $(echo "$out" | awk '{print $2 * 1000}' | median)"
}
# A file of SQL timed by the database: milliseconds per run, over REPS runs. SQLite: through
# Python's sqlite3 module, the clock around the statement and its commit; PostgreSQL: psql's
# own \timing.
timed_sql() { # backend URL file reps
    if [ "$1" = sqlite ]; then
        python3 - "${2#sqlite://}" "$3" "$4" <<'PY'
import sqlite3, sys, time
db, sql, reps = sqlite3.connect(sys.argv[1]), open(sys.argv[2]).read(), int(sys.argv[3])
t = time.perf_counter()
for _ in range(reps):
    db.execute(sql).fetchall()
    db.commit()
print("%.3f" % ((time.perf_counter() - t) * 1000 / reps))
PY
    else
        for _ in $(seq "$4"); do cat "$3"; echo ";"; done >"$3.rep"
        psql -q "$2" -c '\timing on' -f "$3.rep" | awk -v n="$4" '/^Time:/ { s += $2 } END { printf "%.3f", s / n }'
    fi
}

FIRST_LOAD=""
SYNC_TABLE=""
SEND_TABLE=""
for backend in sqlite postgres; do
    echo "== $backend, a hamlet of $N households"
    url=$(new_db "$backend" "field_$backend")
    "$BIN" --database "$url" import units "$WORK/units.csv" >/dev/null
    "$BIN" --database "$url" import households "$WORK/households.csv" >/dev/null
    "$BIN" --database "$url" import residents "$WORK/residents.csv" >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username bench --role admin --password-stdin >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username member --role member --unit 28204-01 --password-stdin >/dev/null
    echo "bench-password-123" | "$BIN" --database "$url" user add --username officer --role officer --unit 28204 --password-stdin >/dev/null
    serve "$url"
    ADMIN=$(token bench)
    TOKEN=$ADMIN
    team=$(api POST /api/v1/teams '{"unit_code":"28204-01","name":"Tổ CNSCĐ ấp Long Hựu Đông"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["id"])')
    api POST "/api/v1/teams/$team/members" '{"full_name":"Lê Thị Hoa","role":"member","affiliation":"youth_union","joined_on":"2024-01-01","username":"member"}' >/dev/null
    TOKEN=$(token member)
    OFFICER=$(token officer)
    # A first round of visits: every household reached once, with a status or two.
    api GET /api/v1/field/sync >"$WORK/walk.json"
    python3 - "$WORK/walk.json" "$team" "$WORK" <<'EOF'
import json, random, sys, uuid
from datetime import datetime, timedelta, timezone
walk, team, work = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
rng = random.Random(16)
vn = timezone(timedelta(hours=7))
now = datetime.now(vn)
member = walk["teams"][0]["member_id"]
def visit(h, at, outcomes, by=member):
    return {"id": str(uuid.uuid4()), "household_id": h["id"], "team_id": team, "member_id": by,
            "visited_at": at.isoformat(timespec="seconds"), "result": "met", "outcomes": outcomes}
hh = walk["households"]
first = [visit(h, now - timedelta(days=30, minutes=i), [{"service": "citizen_app", "status": "installed"}]
               + ([{"service": "vneid_l2", "status": "collected", "resident_id": h["residents"][0]["id"]}] if h["residents"] else []))
         for i, h in enumerate(hh)]
json.dump({"visits": first}, open(f"{work}/first.json", "w"))
# Someone else's 20 visits, for the delta.
json.dump({"visits": [visit(h, now - timedelta(hours=1), [{"service": "citizen_app", "status": "installed"}], None) for h in rng.sample(hh, min(20, len(hh)))]},
          open(f"{work}/others.json", "w"))
# A day offline: 1,000 visits, made over the last 24 hours, two batches of 500 as the app sends them.
day = []
for i in range(1000):
    h = hh[rng.randrange(len(hh))]
    out = []
    for r in h["residents"]:
        if rng.random() < 0.5:
            out.append({"service": rng.choice(["vneid_l2", "vssid", "cashless", "digital_skills"]), "status": "", "resident_id": r["id"]})
    for o in out:
        o["status"] = {"vneid_l2": "activated", "vssid": "installed", "cashless": "opened", "digital_skills": "trained"}[o["service"]]
    # One outcome per service and resident.
    seen, uniq = set(), []
    for o in out:
        if (o["service"], o["resident_id"]) not in seen:
            seen.add((o["service"], o["resident_id"])); uniq.append(o)
    day.append(visit(h, now - timedelta(seconds=86_000 - i * 86), uniq))
for k in range(2):
    json.dump({"visits": day[k * 500:(k + 1) * 500]}, open(f"{work}/day{k}.json", "w"))
# The same rows as the baseline inserts them.
with open(f"{work}/day.tsv", "w") as f:
    for v in day:
        f.write(f"{v['id']}\t{v['household_id']}\t{team}\t{v['visited_at']}\tmet\n")
EOF
    api POST /api/v1/visits @"$WORK/first.json" >/dev/null
    sleep 6 # past the sync's look-back, so that the delta below is the change alone
    read -r whole_gz whole_ms <<<"$(measure /api/v1/field/sync --compressed)"
    read -r whole_plain _ <<<"$(measure /api/v1/field/sync "")"
    cursor=$(api GET /api/v1/field/sync | python3 -c 'import sys, json; print(json.load(sys.stdin)["cursor"])')
    sleep 6
    read -r none_gz none_ms <<<"$(measure "/api/v1/field/sync?since=$cursor" --compressed)"
    TOKEN_AS=$OFFICER api POST /api/v1/visits @"$WORK/others.json" >/dev/null
    read -r some_gz some_ms <<<"$(measure "/api/v1/field/sync?since=$cursor" --compressed)"
    # Baselines: the least a phone could be sent, as a gzipped CSV; the rows read by plain SQL.
    csv_gz=$(cat "$WORK/households.csv" "$WORK/residents.csv" | gzip -c | wc -c)
    q="SELECT h.id, h.code, h.address, h.head_name, h.size, h.smartphones, h.barriers, r.id, r.full_name, r.birth_year, r.sex, s.service_id, s.resident_id, s.status_id FROM households h JOIN units u ON u.id = h.unit_id LEFT JOIN residents r ON r.household_id = h.id LEFT JOIN subject_statuses s ON s.household_id = h.id AND s.resident_id IN (0, r.id) WHERE u.code = '28204-01' ORDER BY h.id, r.id"
    echo "$q" >"$WORK/walk.sql"
    sql_ms=$(timed_sql "$backend" "$url" "$WORK/walk.sql" 20)
    echo "walk list: ${whole_gz} B compressed (${whole_plain} B plain), ${whole_ms} ms; delta none ${none_gz} B ${none_ms} ms; delta 20 ${some_gz} B ${some_ms} ms; CSV.gz ${csv_gz} B; SQL ${sql_ms} ms"
    SYNC_TABLE+="| $backend | ${whole_gz} B (${whole_plain} B plain) | ${csv_gz} B | $(calc "int($whole_gz / $csv_gz * 10 + 0.5) / 10")× | ${whole_ms} ms | ${sql_ms} ms | ${none_gz} B, ${none_ms} ms | ${some_gz} B, ${some_ms} ms |"$'\n'

    # A day offline: 1,000 visits in two batches; then all again (a retry).
    t0=$(now)
    for k in 0 1; do api POST /api/v1/visits @"$WORK/day$k.json" >"$WORK/sent$k.json"; done
    t1=$(now)
    for k in 0 1; do api POST /api/v1/visits @"$WORK/day$k.json" >"$WORK/again$k.json"; done
    t2=$(now)
    python3 - "$WORK" <<'EOF'
import json, sys
for k in (0, 1):
    for phase in ("sent", "again"):
        b = json.load(open(f"{sys.argv[1]}/{phase}{k}.json"))
        assert b["accepted"] == 500 and b["refused"] == 0, b
EOF
    send_ms=$(calc "($t1 - $t0) * 1000")
    again_ms=$(calc "($t2 - $t1) * 1000")
    body=$(( $(wc -c <"$WORK/day0.json") + $(wc -c <"$WORK/day1.json") ))
    stored=$(sql "$backend" "$url" "SELECT COUNT(*) FROM visits")
    [ "$stored" -eq $((N + 20 + 1000)) ] || { echo "expected $((N + 1020)) visits, found $stored" >&2; exit 1; }
    sql "$backend" "$url" "CREATE TABLE plain (id TEXT, household_id BIGINT, team_id BIGINT, visited_at TEXT, result TEXT)"
    awk -F'\t' 'BEGIN { printf "INSERT INTO plain VALUES " } { printf "%s(%c%s%c, %s, %s, %c%s%c, %c%s%c)", (NR > 1 ? ", " : ""), 39, $1, 39, $2, $3, 39, $4, 39, 39, $5, 39 }' \
        "$WORK/day.tsv" >"$WORK/insert.sql"
    plain_ms=$(timed_sql "$backend" "$url" "$WORK/insert.sql" 1)
    echo "1,000 visits: ${send_ms} ms (again ${again_ms} ms), ${body} B; plain INSERT ${plain_ms} ms"
    SEND_TABLE+="| $backend | $(printf '%.0f' "$send_ms") ms | $(printf '%.0f' "$again_ms") ms | ${body} B | ${plain_ms} ms | $(calc "int($send_ms / $plain_ms * 10 + 0.5) / 10")× |"$'\n'

    if [ -z "$FIRST_LOAD" ]; then
        # The app's first load: the worker, and all it keeps, compressed.
        sw=$(curl -fs "$BASE/app/field/sw.js")
        total=$(curl -fs --compressed -o /dev/null -w '%{size_download}' "$BASE/app/field/sw.js")
        for k in $(echo "$sw" | sed -n 's/^const KEPT = \(.*\);$/\1/p' | python3 -c 'import sys, json; print(" ".join(json.load(sys.stdin)))'); do
            total=$((total + $(curl -fs --compressed -o /dev/null -w '%{size_download}' "$BASE$k")))
        done
        FIRST_LOAD=$total
        echo "first load: $total B compressed"
    fi
    stop
    if [ "$backend" = sqlite ]; then rm -f "${url#sqlite://}"*; else psql -q "$PG_ADMIN" -c "DROP DATABASE field_$backend" >/dev/null; fi
done

SECTION=$(cat <<EOF
## The field app's sync (\`bench/field.sh $N\`)

$(date +%F), $(nproc) cores, release build, server and client (curl) on the same machine;
PostgreSQL a throwaway cluster (shared_buffers 2 GB). A hamlet of $N households from
\`bench/gen_households.py\`, 2 to 5 residents each, each household visited once before (a
status or two each); a member of the hamlet's team syncs.

**First load of the app** (\`/app/field/\`, its service worker and everything the worker keeps,
gzip as a phone gets them): ${FIRST_LOAD} bytes (the issue's limit: 150 KB).

### The walk list in one request (\`GET /api/v1/field/sync\`)

Median of 10. *Whole*: the first sync (every household with its residents and statuses, the
team, the catalogue, the feedback categories), gzip; the floor beside it is the same
households and residents as a gzipped CSV. Plain SQL: the same rows read by one join, timed by
the database (mean of 20). *Delta*: the next sync with nothing changed, and after
20 households were visited by another phone.

| database | whole, gzip | floor: CSV.gz | ratio | whole, time | plain SQL | delta, nothing | delta, 20 changed |
|---|---|---|---|---|---|---|---|
${SYNC_TABLE}
### A day offline: 1,000 queued visits sent

The app's queue after a day without a connection: 1,000 visits over the last 24 hours to
households of the hamlet, each with 0 to 5 person outcomes, sent as the app sends them (two
\`POST /api/v1/visits\` of 500). *Again*: the same two requests once more, as after a lost
answer (all duplicates, nothing written). Baseline: the same 1,000 rows by one plain INSERT
into a bare table with no keys (the database's own timer).

| database | send 1,000 | send again | upload | plain INSERT | ratio |
|---|---|---|---|---|---|
${SEND_TABLE}
EOF
)
printf '%s\n' "$SECTION" | python3 bench/update_results.py field
echo "bench/RESULTS.md updated"
