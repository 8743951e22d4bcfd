"""A blind pairwise reading of two paths of one eval run (issue 14: old vs new, shuffled, the
reader not told which is which).

    python bench/quality_blind.py make RUN.json --paths single,slots --out DIR [--seed 7]
        writes DIR/pairs.md (what the reader reads: brief, then A and B in random order) and
        DIR/key.json (which side is which path; not for the reader)
    python bench/quality_blind.py score DIR
        reads DIR/answers.jsonl ({"pair": n, "prefer": "A"|"B"|"same", "A": "use"|"light"|"heavy"|"no",
        "B": ...}) and prints the share of pairs where each path was preferred, and the share of
        each path's variants a reader would use as is or after a light edit.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


def make(run: Path, paths: list[str], out: Path, seed: int) -> None:
    data = json.loads(run.read_text())
    briefs = {b["id"]: b for b in data["briefs"]}
    rows = {(r["path"], r["brief"], r["tone"], r["index"]): r for r in data["variants"]}
    old, new = paths
    keys = sorted({k[1:] for k in rows if k[0] == old} & {k[1:] for k in rows if k[0] == new})
    rng = random.Random(seed)
    rng.shuffle(keys)
    out.mkdir(parents=True, exist_ok=True)
    title = "# Blind reading: for each pair, which would you publish, and how much work is each?"
    lines, key = [title, ""], []
    for n, (brief, tone, index) in enumerate(keys, 1):
        sides = [old, new]
        rng.shuffle(sides)
        b = briefs[brief]
        lines += [f"## Pair {n}: {b['template']} (tone: {tone})", "", "Brief:", ""]
        lines += [f"- {k}: {v}" for k, v in b["fields"].items() if v]
        for label, path in zip("AB", sides, strict=True):
            text = rows[(path, brief, tone, index)]["text"] or "(nothing shown)"
            lines += ["", f"### {label}", "", "```", text, "```"]
        lines.append("")
        key.append({"pair": n, "A": sides[0], "B": sides[1], "brief": brief, "tone": tone,
                    "index": index})
    (out / "pairs.md").write_text("\n".join(lines))
    (out / "key.json").write_text(json.dumps({"paths": paths, "pairs": key}, indent=1))
    print(f"{len(key)} pairs written to {out / 'pairs.md'}")


def score(out: Path) -> None:
    key = json.loads((out / "key.json").read_text())
    sides = {p["pair"]: p for p in key["pairs"]}
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines() if line.strip()]
    prefer = {p: 0 for p in key["paths"]}
    same = 0
    usable = {p: [0, 0] for p in key["paths"]}
    for a in answers:
        pair = sides[a["pair"]]
        if a["prefer"] == "same":
            same += 1
        else:
            prefer[pair[a["prefer"]]] += 1
        for side in "AB":
            usable[pair[side]][0] += a[side] in ("use", "light")
            usable[pair[side]][1] += 1
    n = len(answers)
    print(f"{n} pairs read")
    for p in key["paths"]:
        u, t = usable[p]
        print(f"  {p}: preferred in {prefer[p]}/{n} ({100 * prefer[p] / max(1, n):.0f}%); "
              f"usable as is or with a light edit {u}/{t} ({100 * u / max(1, t):.0f}%)")
    print(f"  no preference: {same}/{n}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("run", type=Path)
    m.add_argument("--paths", required=True)
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("score")
    s.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "make":
        paths = args.paths.split(",")
        if len(paths) != 2:
            ap.error("--paths takes two paths: old,new")
        make(args.run, paths, args.out, args.seed)
    else:
        score(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
