#!/usr/bin/env python3
"""Extracts the official administrative units of Vietnam before and after the restructuring
of 2025-07-01, and the mapping of old communes to new ones, into data/official/.

Sources (downloaded with pip into a temporary directory; facts only, no code is copied):
- vietnam-address-converter 1.0.5 (Apache-2.0): the lists of old provinces, districts and
  communes and of new provinces and communes, and the old -> new rows (its own codes);
- vietnam-provinces 0.6.0 (GPL-3.0): the General Statistics Office's codes and names of the
  units before 2025-07-01;
- vietnam-provinces 2025.10.1 (GPL-3.0): the same for the units from 2025-07-01.

Writes (UTF-8, gzip):
- units-before.csv.gz, units-after.csv.gz: code,name,kind,parent_code,valid_from,valid_to,
  the columns of `ngoso import units`, with the statistics office's codes;
- mapping.csv.gz: old_code,new_code,old_name,new_name, one row per old commune -> new commune
  pair (an old commune on several rows was split);
and prints what it matched and what it could not.

    python3 scripts/official_units.py [--out data/official]
"""
import argparse
import ast
import csv
import gzip
import io
import json
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

CONVERTER = ("vietnam-address-converter", "1.0.5")
PROVINCES_BEFORE = ("vietnam-provinces", "0.6.0")
PROVINCES_AFTER = ("vietnam-provinces", "2025.10.1")
# `valid_to` is exclusive (core's Validity): the old units' last day is 2025-06-30.
BEFORE_TO = "2025-07-01"
AFTER_FROM = "2025-07-01"


def wheel(tmp, name, version):
    d = Path(tmp) / f"{name}-{version}"
    d.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(d),
                    f"{name}=={version}"], check=True)
    return zipfile.ZipFile(next(d.glob("*.whl")))


def fold(s):
    """A name folded for matching: no type word (matched with its accents, so that Tịnh Biên
    or Phương Liễu keep their first word), no accents, lower case, letters and digits."""
    s = " ".join(unicodedata.normalize("NFC", s).lower().split())
    for word in ("thành phố ", "tỉnh ", "quận ", "huyện ", "thị xã ", "thị trấn ", "phường ", "xã ", "đặc khu "):
        if s.startswith(word):
            s = s[len(word):]
            break
    s = unicodedata.normalize("NFD", s.replace("đ", "d"))
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    # Apostrophes, hyphens and spaces are written differently by each source (Cư M'gar,
    # Chân Mây - Lăng Cô): letters and digits only.
    return "".join(c for c in s if c.isalnum())


def bare(s):
    """A name without its type word, accents kept, lower case."""
    s = " ".join(unicodedata.normalize("NFC", s).lower().split())
    for word in ("thành phố ", "tỉnh ", "quận ", "huyện ", "thị xã ", "thị trấn ", "phường ", "xã ", "đặc khu "):
        if s.startswith(word):
            return s[len(word):]
    return s


def kind_of(full_name, level):
    n = unicodedata.normalize("NFC", full_name).lower()
    for k in ("thành phố", "tỉnh", "quận", "huyện", "thị xã", "thị trấn", "phường", "xã", "đặc khu"):
        if n.startswith(k + " "):
            return k
    return {"province": "tỉnh", "district": "huyện", "commune": "xã"}[level]


def nfc(s):
    return unicodedata.normalize("NFC", " ".join(s.split()))


def write(path, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(buf.getvalue().encode("utf-8"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "data" / "official"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        conv = wheel(tmp, *CONVERTER)
        src = conv.read("vietnam_address_converter/data.py").decode("utf-8")
        # The module is one json.loads('…') of the data: read the string literal (a Python
        # literal, evaluated as data only) without running the module.
        start = src.index("json.loads(") + len("json.loads(")
        end = src.index("')\n", start) + 1
        D = json.loads(ast.literal_eval(src[start:end]))
        old_gso = json.loads(wheel(tmp, *PROVINCES_BEFORE).read("vietnam_provinces/data/nested-divisions.json"))
        new_gso = json.loads(wheel(tmp, *PROVINCES_AFTER).read("vietnam_provinces/data/nested-divisions.json"))

    # Before: the statistics office's tree, with each converter unit matched by folded names.
    before, gso_old = [], {}
    for p in old_gso:
        pc = f"{p['code']:02d}"
        before.append([pc, nfc(p["name"]), kind_of(p["name"], "province"), "", "", BEFORE_TO])
        for d in p["districts"]:
            dc = f"{d['code']:03d}"
            before.append([dc, nfc(d["name"]), kind_of(d["name"], "district"), pc, "", BEFORE_TO])
            for w in d["wards"]:
                wc = f"{w['code']:05d}"
                before.append([wc, nfc(w["name"]), kind_of(w["name"], "commune"), dc, "", BEFORE_TO])
                gso_old[(fold(p["name"]), fold(d["name"]), fold(w["name"]))] = wc
    after, gso_new = [], {}
    for p in new_gso:
        pc = f"{p['code']:02d}"
        after.append([pc, nfc(p["name"]), kind_of(p["name"], "province"), "", AFTER_FROM, ""])
        for w in p["wards"]:
            wc = f"{w['code']:05d}"
            after.append([wc, nfc(w["name"]), kind_of(w["name"], "commune"), pc, AFTER_FROM, ""])
            gso_new[(fold(p["name"]), fold(w["name"]))] = wc

    # The converter's rows, by its own codes, turned into the office's codes.
    oldP, oldD, oldW = D["oldProvinces"], D["oldDistricts"], D["oldWards"]
    newP, newW = D["newProvinces"], D["newWards"]
    pairs, unmatched_old, unmatched_new = [], Counter(), Counter()
    old_names, new_names = {}, {}
    for r in D["mapping"]["rows"]:
        o, n = r["old"], r["new"]
        w = oldW.get(o["ward_code"], {})
        d = oldD.get(o["district_code"], {})
        p = oldP.get(o["province_code"], {})
        ok = gso_old.get((fold(p.get("name", "")), fold(d.get("name", "")), fold(w.get("name", o["ward_name"]))))
        nw = newW.get(n["ward_code"], {})
        np_ = newP.get(n["province_code"], {})
        nk = gso_new.get((fold(np_.get("name", "")), fold(nw.get("name", n["ward_name"]))))
        if ok is None:
            unmatched_old[(p.get("name"), d.get("name"), w.get("name", o["ward_name"]))] += 1
        if nk is None:
            unmatched_new[(np_.get("name"), nw.get("name", n["ward_name"]))] += 1
        if ok and nk:
            pairs.append((ok, nk))
            old_names[ok] = nfc(o["ward_name"])
            new_names[nk] = nfc(n["ward_name"])
    # Old communes on no converter row: matched by name among the new communes of the
    # province their district's other communes went to (the statistics office reused the
    # town's name, and often its code, for the commune it became: Thị trấn Tân Thạnh `27826`
    # became Xã Tân Thạnh `27826`). Only a single match counts; the rest stay unmapped.
    mapped = {o for o, _ in pairs}
    new_province = {r[0]: r[3] for r in after if r[3]}
    new_name_of = {r[0]: r[1] for r in after}
    district_of = {r[0]: r[3] for r in before if len(r[0]) == 5}
    went = defaultdict(Counter)
    for o, n in pairs:
        went[district_of.get(o)][new_province.get(n)] += 1
    by_name = []
    for r in before:
        if len(r[0]) != 5 or r[0] in mapped:
            continue
        provinces = went.get(r[3])
        if not provinces:
            continue
        target = provinces.most_common(1)[0][0]
        found = [c for c, pc in new_province.items() if pc == target and fold(new_name_of[c]) == fold(r[1])]
        if len(found) > 1:
            # Folding made two names one (Tân Thạnh, Tân Thành): keep those with the accents.
            found = [c for c in found if bare(new_name_of[c]) == bare(r[1])]
        if len(found) == 1:
            pairs.append((r[0], found[0]))
            old_names[r[0]] = r[1]
            new_names[found[0]] = new_name_of[found[0]]
            by_name.append((r[0], r[1], found[0], new_name_of[found[0]]))
    pairs = sorted(set(pairs))
    write(out / "units-before.csv.gz", ["code", "name", "kind", "parent_code", "valid_from", "valid_to"], before)
    write(out / "units-after.csv.gz", ["code", "name", "kind", "parent_code", "valid_from", "valid_to"], after)
    write(out / "mapping.csv.gz", ["old_code", "new_code", "old_name", "new_name"],
          [(o, n, old_names[o], new_names[n]) for o, n in pairs])

    splits = Counter(o for o, _ in pairs)
    merged = defaultdict(set)
    for o, n in pairs:
        merged[n].add(o)
    levels = Counter((r[2], "before") for r in before) + Counter((r[2], "after") for r in after)
    print(f"sources: {CONVERTER[0]} {CONVERTER[1]}, {PROVINCES_BEFORE[0]} {PROVINCES_BEFORE[1]} and {PROVINCES_AFTER[1]}")
    print(f"converter: {len(oldP)} old provinces, {len(oldD)} districts, {len(oldW)} old communes; "
          f"{len(newP)} new provinces, {len(newW)} new communes; {len(D['mapping']['rows'])} old -> new rows")
    print(f"statistics office before: {sum(1 for r in before if r[3] == '')} provinces, "
          f"{sum(1 for r in before if len(r[0]) == 3)} districts, {sum(1 for r in before if len(r[0]) == 5)} communes")
    print(f"statistics office after: {sum(1 for r in after if r[3] == '')} provinces, {sum(1 for r in after if r[3])} communes")
    print(f"mapping: {len(pairs)} pairs; {sum(1 for c in splits.values() if c > 1)} old communes split; "
          f"{len(splits)} old communes mapped; {len(merged)} new communes reached")
    print(f"converter rows whose old commune matched no office code: {sum(unmatched_old.values())} "
          f"({len(unmatched_old)} communes); whose new commune matched none: {sum(unmatched_new.values())} "
          f"({len(unmatched_new)} communes)")
    print(f"old communes on no converter row, matched by name in their successor province: {len(by_name)}")
    for o, on, n, nn in by_name:
        print(f"  by name: {o} {on} -> {n} {nn}")
    for (p, d, w), c in sorted(unmatched_old.items(), key=lambda x: str(x)):
        print(f"  old not matched: {w}, {d}, {p} ({c} rows)")
    for (p, w), c in sorted(unmatched_new.items(), key=lambda x: str(x)):
        print(f"  new not matched: {w}, {p} ({c} rows)")
    print("kinds:", dict(sorted(levels.items())))


if __name__ == "__main__":
    main()
