#!/usr/bin/env python3
"""Writes a CSV of N administrative units (code,name,kind,parent_code) to standard output.

The tree is shaped like Vietnam before 2025: a country of provinces, ten districts each,
communes under districts and hamlets under communes, until N rows are written. Names are
Vietnamese-looking and deterministic (seeded), with a few emoji and stray symbols, since real
data has them.
"""
import random
import sys

SYL = ("Tân Long Phước Mỹ An Bình Hòa Thạnh Hưng Đức Thuận Phú Vĩnh Hiệp Lộc Khánh Nhựt Lương "
       "Tường Thới Hậu Quý Trường Định Lạc Thành Nhơn Hựu Kim Trạch Đông Tây Nam Bắc Lợi Châu "
       "Điền Hội Sơn Xuân").split()
ODD = ["", "", "", "", "", "", "", "", " 🌾", " ⛎", "꧅"]


def name(rng, prefix):
    return f"{prefix} {rng.choice(SYL)} {rng.choice(SYL)}{rng.choice(ODD)}"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(2022)
    out = sys.stdout
    out.write("code,name,kind,parent_code\n")
    written = 0

    def row(code, nm, kind, parent):
        nonlocal written
        if written >= n:
            return False
        if "," in nm or '"' in nm:
            nm = '"' + nm.replace('"', '""') + '"'
        out.write(f"{code},{nm},{kind},{parent}\n")
        written += 1
        return True

    row("VN", "Việt Nam", "quốc gia", "")
    provinces = 34
    per_province = max(1, (n - 1 - provinces) // provinces)
    # Per province: 10 districts; per district c communes; per commune 8 hamlets.
    communes_per_district = max(1, (per_province // 10 - 1) // 9)
    for p in range(provinces):
        pc = f"P{p:02d}"
        if not row(pc, name(rng, "Tỉnh"), "tỉnh", "VN"):
            break
        for d in range(10):
            dc = f"{pc}D{d:02d}"
            if not row(dc, name(rng, "Huyện"), "huyện", pc):
                break
            for c in range(communes_per_district):
                cc = f"{dc}C{c:03d}"
                if not row(cc, name(rng, "Xã"), "xã", dc):
                    break
                for h in range(8):
                    if not row(f"{cc}H{h}", name(rng, "Ấp"), "ấp", cc):
                        break
    # Fill up to n with hamlets of one more commune tree if the division left a remainder.
    extra = 0
    while written < n:
        if extra % 9 == 0:
            row(f"X{extra}", name(rng, "Xã"), "xã", "P00D00")
            parent = f"X{extra}"
        else:
            row(f"X{extra}", name(rng, "Ấp"), "ấp", parent)
        extra += 1


if __name__ == "__main__":
    main()
