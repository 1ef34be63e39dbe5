#!/usr/bin/env python3
"""The country after the 2025 restructuring, as aggregates: a tree of 34 provinces, 3,321
communes and about 30,000 hamlets, and the roll-up rows that would stand for about 27
million households with three years (2022–2024) of door-to-door visits and monthly data
values — generated directly, since 27 million households would not fit this machine.

    gen_national.py units  > units.csv          (code,name,kind,parent_code)
    gen_national.py rollups > rollups.tsv       (unit_code, figure, period, value: every unit,
                                                 its whole subtree, as ngoso keeps them)

Figure names and ids follow ngoso's migrations: the seven default services' statuses
(`status:SERVICE:STATUS`, ids 1–8) and the seventeen default data elements (`value:ID`,
`value_n:ID`, entered monthly at communes). Deterministic (seeded).
"""
import random
import sys

PROVINCES = 34
COMMUNES = 3321
HAMLETS_PER_COMMUNE = (7, 11)  # about 30,000 in all
HOUSEHOLDS = 27_000_000
MONTHS = [f"{y}{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13)]
# (service id, status id) of the default catalogue, and the share of subjects at each.
STATUSES = [(1, 1, 0.55), (2, 2, 0.25), (2, 3, 0.6), (3, 4, 0.4), (4, 5, 0.45), (5, 6, 0.05), (6, 7, 0.3), (7, 8, 0.35)]
ELEMENTS = range(1, 18)


def tree():
    rng = random.Random(2025)
    communes_left = COMMUNES
    units = [("VN", "Việt Nam", "quốc gia", "")]
    hamlets = []
    for p in range(PROVINCES):
        pc = f"P{p:02d}"
        units.append((pc, f"Tỉnh {p + 1:02d}", "tỉnh", "VN"))
        n = communes_left // (PROVINCES - p)
        communes_left -= n
        for c in range(n):
            cc = f"{pc}C{c:03d}"
            units.append((cc, f"Xã {p + 1:02d}-{c + 1:03d}", "xã", pc))
            for h in range(rng.randint(*HAMLETS_PER_COMMUNE)):
                hc = f"{cc}H{h:02d}"
                units.append((hc, f"Ấp {h + 1}", "ấp", cc))
                hamlets.append(hc)
    return units, hamlets


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "units"
    units, hamlets = tree()
    out = sys.stdout
    if what == "units":
        out.write("code,name,kind,parent_code\n")
        for u in units:
            out.write(",".join(u) + "\n")
        return
    rng = random.Random(27)
    per_hamlet = HOUSEHOLDS // len(hamlets)
    parent = {u[0]: u[3] for u in units}
    totals = {}  # (code, figure, period) -> value, for every ancestor

    def add(code, figure, period, value):
        while code:
            key = (code, figure, period)
            totals[key] = totals.get(key, 0) + value
            code = parent[code]

    for hc in hamlets:
        hh = int(per_hamlet * rng.uniform(0.8, 1.2))
        people = int(hh * 3.4)
        add(hc, "households", "", hh)
        add(hc, "households_visited", "", int(hh * 0.7))
        add(hc, "residents", "", people)
        add(hc, "youth_union", "", int(people * 0.06))
        for service, status, share in STATUSES:
            base = hh if service == 1 else people
            add(hc, f"status:{service}:{status}", "", int(base * share * rng.uniform(0.9, 1.1)))
        for m in MONTHS:
            v = int(hh * 0.03 * rng.uniform(0.5, 1.5))
            add(hc, "visits", m, v)
            add(hc, "visits_met", m, int(v * 0.8))
    for code, kind in ((u[0], u[2]) for u in units):
        if kind != "xã":
            continue
        for e in ELEMENTS:
            for m in MONTHS:
                add(code, f"value:{e}", m, rng.randint(1, 5000))
                add(code, f"value_n:{e}", m, 1)
    for (code, figure, period), value in totals.items():
        out.write(f"{code}\t{figure}\t{period}\t{value}\n")


if __name__ == "__main__":
    main()
