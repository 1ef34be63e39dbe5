#!/usr/bin/env python3
"""Replaces (or appends) one benchmark's section of bench/RESULTS.md.

    update_results.py NAME < section.md

The section sits between `<!-- NAME:start -->` and `<!-- NAME:end -->`; the rest of the file
(other benchmarks, hand-written notes) is kept.
"""
import pathlib
import re
import sys

name = sys.argv[1]
section = sys.stdin.read().strip()
path = pathlib.Path(__file__).with_name("RESULTS.md")
text = path.read_text() if path.exists() else "# Benchmark results\n\nEach benchmark writes its own section; figures are from the latest run.\n"
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
block = f"{start}\n{section}\n{end}"
if start in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
path.write_text(text)
