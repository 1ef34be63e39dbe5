#!/usr/bin/env python3
"""Writes a CSV of N households (the columns of `ngoso import households`) to standard output.

    gen_households.py UNIT_CODES.txt N [PREFIX] > households.csv

Households are spread at random over the unit codes given (one a line, e.g. the demo's
hamlets) and listed hamlet by hamlet, as a commune's register lists them, with
Vietnamese-looking names and addresses (a few with emoji), sizes, smartphones, barriers and
consent — deterministic for a given N and prefix.
"""
import random
import sys

FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý".split()
MIDDLE = "Văn Thị Hữu Minh Đức Ngọc Thu Kim Thanh Hồng".split()
GIVEN = "An Bình Cường Dũng Hải Hùng Long Minh Nam Phúc Hà Hạnh Hoa Hương Lan Linh Mai Nga Tâm Yến".split()
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Hùng Vương", "Quốc lộ 50", "Tỉnh lộ 826"]
BARRIERS = ["no_smartphone", "elderly_alone", "no_id_card", "no_internet", "disability", "language"]


def main():
    codes = [line.strip() for line in open(sys.argv[1]) if line.strip()]
    n = int(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) > 3 else "B"
    rng = random.Random(f"{n}-{prefix}")
    out = sys.stdout
    out.write("code,unit_code,size,smartphones,address,head_name,barriers,consent_by,consent_purposes\n")
    units = sorted(rng.randrange(len(codes)) for _ in range(n))
    for i in range(n):
        unit = codes[units[i]]
        head = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        if rng.randrange(50) == 0:
            head += " 🌾"
        size = rng.randint(1, 7)
        phones = min(rng.randint(0, 3), size)
        barriers = [b for b in BARRIERS if rng.randrange(8) == 0]
        if phones == 0 and "no_smartphone" not in barriers:
            barriers.append("no_smartphone")
        address = f"{rng.randint(1, 900)} {rng.choice(STREETS)}"
        out.write(f"{prefix}{i:07d},{unit},{size},{phones},\"{address}\",{head},{';'.join(barriers)},{head},outreach;statistics\n")


if __name__ == "__main__":
    main()
