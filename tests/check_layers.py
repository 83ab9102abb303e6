#!/usr/bin/env python3
"""tests/check_layers.py: fails when a lib/ file includes a header from a
folder its folder may not use.

The allowed uses are the "may use" column of the table in lib/README.md,
so the map and the check cannot drift apart. Prints one line per
violation and exits 1 if there is any; also fails on a lib/ folder the
table does not name, and on a bare `#include "name.h"` of a lib header.
Usage: tests/check_layers.py [TOPDIR]
"""
import os
import re
import sys

TOP = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(TOP, "lib")
ROW = re.compile(r"^\|\s*([a-z_]+)\s*\|[^|]*\|([^|]*)\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_table():
    allowed = {}
    with open(os.path.join(LIB, "README.md")) as f:
        for line in f:
            m = ROW.match(line)
            if m and m.group(1) != "folder":
                uses = {u.strip() for u in m.group(2).split(",") if u.strip()}
                allowed[m.group(1)] = uses
    return allowed


def main():
    allowed = read_table()
    problems = []
    folders = sorted(d for d in os.listdir(LIB) if os.path.isdir(os.path.join(LIB, d)))
    for folder in folders:
        if folder not in allowed:
            problems.append(f"lib/{folder}/: not in the table of lib/README.md")
            continue
        for name in sorted(os.listdir(os.path.join(LIB, folder))):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(LIB, folder, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for target in INCLUDE.findall(text):
                if "/" not in target:
                    problems.append(f"lib/{folder}/{name}: #include \"{target}\" names no folder")
                    continue
                used = target.split("/", 1)[0]
                if used != folder and used not in allowed[folder]:
                    problems.append(f"lib/{folder}/{name}: includes {target}, but {folder} may not use {used}")
    for folder, uses in allowed.items():
        for used in uses:
            if used not in allowed:
                problems.append(f"lib/README.md: {folder} may use {used}, which is not a folder")
    for p in problems:
        print(p)
    print(f"check_layers: {len(folders)} folders, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
