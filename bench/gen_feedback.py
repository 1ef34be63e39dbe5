#!/usr/bin/env python3
"""Generates public feedback submissions for bench/feedback.sh.

    gen_feedback.py HAMLETS.txt N SEED BODIES.txt ROWS.tsv

HAMLETS.txt has one unit code per line. Writes N form bodies (one urlencoded body per
line, as the public form sends them) and the same rows as tab-separated values for the
plain-INSERT baseline: category, description, unit, contact_phone.
"""
import random
import sys
from urllib.parse import urlencode

hamlets = [l.strip() for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
rng = random.Random(int(sys.argv[3]))
CATS = ["moi_truong", "dien_nuoc", "an_ninh", "thu_tuc", "khac"]
WHAT = ["Rác thải đổ bừa bãi ven kênh", "Cúp điện buổi tối không báo trước", "Nước máy đục, có mùi lạ",
        "Thanh niên đua xe ban đêm", "Hồ sơ trực tuyến quá hạn chưa có kết quả", "Đề nghị lắp thêm đèn ở ngõ"]
WHERE = ["gần chợ", "trước trường tiểu học", "cuối hẻm", "đầu ấp", "cạnh nhà văn hóa"]
EMOJI = ["", " 🙏", " 😟", " 🌧️", ""]
with open(sys.argv[4], "w") as bodies, open(sys.argv[5], "w") as rows:
    for i in range(n):
        cat = rng.choice(CATS)
        desc = f"{rng.choice(WHAT)} {rng.choice(WHERE)}, số {i}{rng.choice(EMOJI)}"
        unit = rng.choice(hamlets)
        phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.5 else ""
        fields = [("category", cat), ("description", desc), ("unit", unit)]
        if phone:
            fields += [("contact_phone", phone), ("consent", "yes")]
        bodies.write(urlencode(fields) + "\n")
        rows.write("\t".join([cat, desc, unit, phone]) + "\n")
