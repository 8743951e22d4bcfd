"""Measure the originality check's similarity and verbatim-overlap distributions, and pick the
thresholds from them.

Texts (tests/originality_cases.py, written for this purpose): 12 source paragraphs, each with an
exact copy, a partial copy (one copied sentence between two new ones), a light edit, a heavy
paraphrase, an independently written text on the same subject ("related") and an unrelated
text. The corpus is the 12 sources plus background copy from the tone corpus (data/tones: other
products, every brief in two tones). A second, harder negative set: the same brief written in
two different tones (same facts, independent wording) from the tone corpus.

Run: .venv/bin/python bench/originality_thresholds.py [--background 60] [--tone-pairs 40]
       [--json docs/originality_measurements.json]
Embeddings are the real all-MiniLM-L6-v2; the search is exact (numpy), as in check_originality.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TONE_A, TONE_B = "professional", "witty"


def tone_briefs(limit: int, offset: int = 0) -> list[dict]:
    rows = []
    for path in sorted((ROOT / "data" / "tones").glob("briefs_part*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return rows[offset:offset + limit]


def raw_pairs(corpus, text: str, embed, exclude: set[str] | None = None) -> list[tuple]:
    """(similarity, span shared, span total, whole shared, whole total, span words, source key)
    for the k nearest corpus passages of every passage of ``text``: what any thresholds act on."""
    from copywriter.originality import text as T
    from copywriter.originality.report import score_pairs

    query = T.passages(text)
    vectors = embed([q.text for q in query])
    pairs = score_pairs(text, query, corpus.candidates(vectors, k=5, exclude=exclude),
                        T.Thresholds())
    return [(p.cand.similarity, p.span.shared, p.span.total, p.whole.shared, p.whole.total,
             p.span_words, p.cand.source.key) for p in pairs]


def verdict_for(pairs: list[tuple], t) -> str:
    from copywriter.originality import text as T

    return T.worst(T.verdict(similarity=sim, span=T.Overlap(ss, st), whole=T.Overlap(ws, wt),
                             span_words=n, t=t) for sim, ss, st, ws, wt, n, _ in pairs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--background", type=int, default=60, help="tone-corpus briefs as background")
    parser.add_argument("--tone-pairs", type=int, default=40, help="same-brief pairs (other briefs)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from copywriter.ml.embeddings import embed
    from copywriter.originality import text as T
    from copywriter.originality.memory import Corpus
    from copywriter.originality.report import Source
    from tests.originality_cases import CASES, CATEGORIES, EXPECTED, query

    started = time.monotonic()
    sources = [Source(f"case:{c['name']}", {"key": f"case:{c['name']}"}, c["source"]) for c in CASES]
    background = tone_briefs(args.background)
    for b in background:
        for tone in (TONE_A, TONE_B):
            sources.append(Source(f"bg:{b['id']}:{tone}", {"key": f"bg:{b['id']}:{tone}"},
                                  b["outputs"][tone]))
    pairs = tone_briefs(args.tone_pairs, offset=args.background)
    for b in pairs:
        sources.append(Source(f"pair:{b['id']}", {"key": f"pair:{b['id']}"}, b["outputs"][TONE_A]))
    corpus = Corpus.build(sources, embed)
    print(f"corpus: {len(sources)} texts, {len(corpus.passages)} passages, embedded in "
          f"{time.monotonic() - started:.1f} s")

    rows: list[dict] = []
    for c in CASES:
        for cat in CATEGORIES:
            rows.append({"category": cat, "case": c["name"],
                         "pairs": raw_pairs(corpus, query(c, cat), embed)})
    for b in pairs:
        rows.append({"category": "same-brief", "case": b["id"],
                     "pairs": raw_pairs(corpus, b["outputs"][TONE_B], embed)})
    # Background texts checked against the corpus without themselves: what chance looks like.
    for b in background[:30]:
        rows.append({"category": "background", "case": b["id"],
                     "pairs": raw_pairs(corpus, b["outputs"]["friendly"], embed,
                                        exclude={f"bg:{b['id']}:{TONE_A}", f"bg:{b['id']}:{TONE_B}"})})
    for r in rows:
        ps = r["pairs"]
        r["score"] = max((p[0] for p in ps), default=0.0)
        r["score_10w"] = max((p[0] for p in ps if p[5] >= T.PARAPHRASE_MIN_WORDS), default=0.0)
        r["overlap"] = max((p[3] / p[4] for p in ps if p[4]), default=0.0)
        r["span_overlap"] = max((p[1] / p[2] for p in ps if p[2]), default=0.0)

    cats = [*CATEGORIES, "same-brief", "background"]
    print(f"\n{'category':12} {'n':>3}  {'max similarity':>20}  {'same, spans >= 10 words':>23}  "
          f"{'overlap (text)':>20}  {'overlap (span)':>20}")
    print(f"{'':12} {'':>3}  {'min    med    max':>20}  {'min    med    max':>23}  "
          f"{'min    med    max':>20}  {'min    med    max':>20}")
    summary = {}
    for cat in cats:
        sel = [r for r in rows if r["category"] == cat]
        line = f"{cat:12} {len(sel):3}"
        summary[cat] = {"n": len(sel)}
        for key, width in (("score", 20), ("score_10w", 23), ("overlap", 20), ("span_overlap", 20)):
            v = [r[key] for r in sel]
            trio = [round(min(v), 3), round(statistics.median(v), 3), round(max(v), 3)]
            summary[cat][key] = trio
            line += "  " + f"{trio[0]:6.3f} {trio[1]:6.3f} {trio[2]:6.3f}".rjust(width)
        print(line)

    # "same-brief" (another tone of the same brief) has no right answer: it is reported, not scored.
    expected = {**EXPECTED, "same-brief": "original", "background": "original"}

    def accuracy(t: T.Thresholds) -> dict[str, float]:
        out = {}
        for cat in cats:
            sel = [r for r in rows if r["category"] == cat]
            out[cat] = sum(verdict_for(r["pairs"], t) == expected[cat] for r in sel) / len(sel)
        return out

    independent = [r for r in rows if r["category"] in ("related", "unrelated", "background")]
    print("\nparaphrase threshold (similarity of a matched span of >= 10 words), share flagged:")
    print(f"  {'threshold':>9}  {'heavy':>6}  {'same-brief':>10}  {'independent':>11}")
    for para in [x / 100 for x in range(74, 92, 2)]:
        def flagged(sel: list[dict], para: float = para) -> float:
            return sum(r["score_10w"] >= para for r in sel) / len(sel)
        print(f"  {para:9.2f}  {flagged([r for r in rows if r['category'] == 'heavy']):6.2f}  "
              f"{flagged([r for r in rows if r['category'] == 'same-brief']):10.2f}  "
              f"{flagged(independent):11.2f}")
    # The rule: no independently written text may be flagged, with a margin of 0.02 above the
    # most similar one; a heavier paraphrase than that is the price.
    margin = 0.02
    chosen_para = round(max(r["score_10w"] for r in independent) + margin, 2)
    copy_pos = [r for r in rows if r["category"] in ("exact", "partial", "light")]
    # Texts written without copying share stock phrases and names: the highest text-level overlap
    # among them (same-brief pairs included: each tone was written on its own) is the noise floor.
    copy_neg = [r for r in rows if r["category"] not in ("exact", "partial", "light")]
    lo = max(r["overlap"] for r in copy_neg)
    hi = min(max(r["overlap"], r["span_overlap"]) for r in copy_pos)
    chosen_copy = round((lo + hi) / 2 / 0.05) * 0.05
    print(f"\nhighest similarity of an independent text: {chosen_para - margin:.3f} -> paraphrase "
          f"threshold {chosen_para:.2f}")
    print(f"verbatim overlap: highest without copying {lo:.3f}, lowest copy {hi:.3f} -> copy "
          f"threshold {chosen_copy:.2f} (midpoint, to 0.05)")

    default = T.Thresholds()
    acc = accuracy(default)
    print(f"\nshipped defaults paraphrase>={default.paraphrase} copy_overlap>={default.copy_overlap}: "
          + " ".join(f"{c}={acc[c]:.2f}" for c in cats))
    print(f"total {time.monotonic() - started:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary,
                                               "rows": [{k: v for k, v in r.items() if k != "pairs"}
                                                        for r in rows],
                                               "defaults": {"paraphrase": default.paraphrase,
                                                            "copy_overlap": default.copy_overlap},
                                               "default_accuracy": acc}, indent=1))


if __name__ == "__main__":
    main()
