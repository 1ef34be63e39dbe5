#!/usr/bin/env python3
"""Writes request bodies for the visit-ingest benchmark, one JSON body per line.

    gen_visits.py PAIRS.tsv BATCH COUNT SEED [v4|v7] > bodies.jsonl

PAIRS.tsv holds `household_id<TAB>team_id` lines (households and the team of their hamlet).
Each body is what one team's phone uploads: {"visits": [...]} with BATCH visits to households
of that team's hamlet, made in the last two weeks, each with a fresh UUID and one outcome
(the provincial app installed), so that every visit is new work for the server, not a replay.
Ids are random UUIDs (v4) or time-ordered ones (v7, as a phone app would best make them).
"""
import json
import random
import sys
import uuid
from datetime import datetime, timedelta, timezone

VN = timezone(timedelta(hours=7))


def uuid7(rng, clock):
    """A UUID version 7: 48 bits of milliseconds, then random bits."""
    clock[0] += 1
    value = (clock[0] << 80) | rng.getrandbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def main():
    pairs_file, batch, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    v7 = len(sys.argv) > 5 and sys.argv[5] == "v7"
    clock = [int(datetime.now(timezone.utc).timestamp() * 1000)]
    by_team = {}
    for line in open(pairs_file):
        if line.strip():
            h, t = map(int, line.split("\t"))
            by_team.setdefault(t, []).append(h)
    teams = sorted(by_team)
    rng = random.Random(seed)
    out = sys.stdout
    now = int(datetime.now(timezone.utc).timestamp()) - 3600
    results = ["met"] * 7 + ["not_home", "refused"]
    for _ in range(count):
        visits = []
        t = teams[rng.randrange(len(teams))]
        households = by_team[t]
        for _ in range(batch):
            h = households[rng.randrange(len(households))]
            at = now - rng.randrange(14 * 86_400)
            visits.append({
                "id": uuid7(rng, clock) if v7 else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "household_id": h,
                "team_id": t,
                "visited_at": datetime.fromtimestamp(at, VN).isoformat(),
                "result": rng.choice(results),
                "outcomes": [{"service": "citizen_app", "status": "installed"}],
            })
        body = json.dumps({"visits": visits}, separators=(",", ":"))
        out.write(body + "\n")


if __name__ == "__main__":
    main()
