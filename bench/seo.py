"""SEO enrichment, measured: does the Enrich rewrite add the target keywords, keep densities
within bounds, and what does it do to readability?

Over the first sample input of N templates (round-robin over the categories, so every category
is in), with the real model and the trained tone adapters:
  1. targets: the top K keyphrases KeyBERT + YAKE suggest for the sample's brief (its field values),
     chosen BEFORE anything is generated;
  2. drafts: one batched engine call writes every template's copy (tones cycle over the eight
     adapters and the base model);
  3. enrichment: rows whose draft lacks some targets are rewritten with the app's own enrichment
     template (templates_lib/seo/seo-keyword-enrich.yaml), same adapter as the draft, two samples
     per row, all rows in one batched call; the better rewrite is picked exactly as the panel
     does (copywriter.seo.ranking.rewrite_rank);
  4. both texts are analysed for the same targets.
No originality check and no database: this measures the SEO step only.

Run: .venv/bin/python bench/seo.py [--templates 32] [--keywords 3] [--draft-tokens 96]
     [--enrich-tokens 128] [--json docs/bench/seo.json]
     .venv/bin/python bench/seo.py --rescore docs/bench/seo.json   (re-analyse saved texts)
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

TONES = ["professional", "friendly", "witty", "persuasive", "luxurious", "bold", "empathetic",
         "informative", "neutral"]
META = {"seo-meta-title": "meta_title", "seo-meta-description": "meta_description"}


def pick_templates(n: int) -> list:
    from copywriter.catalog.schema import load_library

    good, bad = load_library(ROOT / "templates_lib")
    assert not bad, bad
    by_cat: dict[str, list] = {}
    for spec in sorted(good, key=lambda s: (s.category, s.id)):
        if spec.id != "seo-keyword-enrich":
            by_cat.setdefault(spec.category, []).append(spec)
    picked: list = []
    while len(picked) < n and any(by_cat.values()):
        for cat in sorted(by_cat):
            if by_cat[cat] and len(picked) < n:
                picked.append(by_cat[cat].pop(0))
    return picked


def share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", type=int, default=32)
    parser.add_argument("--keywords", type=int, default=3)
    parser.add_argument("--draft-tokens", type=int, default=96)
    parser.add_argument("--enrich-tokens", type=int, default=128)
    parser.add_argument("--samples", type=int, default=2, help="rewrites per row (the app: 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; 1 on this shared 2-core machine (2 oversubscribes)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--rescore", default=None,
                        help="re-analyse the texts of a saved --json run instead of generating")
    args = parser.parse_args()
    if args.rescore:
        rescore(args)
        return

    import torch

    torch.set_num_threads(args.threads)
    from copywriter.catalog.schema import load_file
    from copywriter.ml.engine import Engine, SeqRequest
    from copywriter.ml.lora import BASE
    from copywriter.ml.paths import adapters_dir
    from copywriter.seo.keywords import stem, tokens
    from copywriter.seo.ranking import echoes_instructions, rewrite_rank
    from copywriter.seo.report import analyse
    from copywriter.seo.suggestions import suggest_keywords

    started = time.monotonic()
    specs = pick_templates(args.templates)
    rows = []
    for i, spec in enumerate(specs):
        sample = {k: str(v) for k, v in spec.samples[0].items()}
        brief = ". ".join(v.strip().rstrip(".") for v in sample.values() if v.strip())
        # The top suggestions for the brief that share no word (stem) with a better one: three
        # overlapping n-grams of one phrase would be one target counted three times.
        targets: list[str] = []
        used: set[str] = set()
        for s in suggest_keywords("", brief, n=4 * args.keywords):
            stems = {stem(t.word) for t in tokens(s.phrase)}
            if stems & used or len(targets) >= args.keywords:
                continue
            targets.append(s.phrase)
            used |= stems
        rows.append({"template": spec.id, "category": spec.category, "tone": TONES[i % len(TONES)],
                     "prompt": spec.render(sample), "brief": brief, "targets": targets,
                     "kind": META.get(spec.id, "auto"),
                     "max_tokens": min(args.draft_tokens, max(48, int(spec.max_words * 1.6) + 16)),
                     "sampling": spec.sampling})
    t_targets = time.monotonic() - started

    engine = Engine(None, device="cpu")
    engine.set_adapters({t: adapters_dir() / t for t in TONES if t != "neutral"})

    def adapter(tone: str) -> str:
        return BASE if tone == "neutral" else tone

    t0 = time.monotonic()
    drafts = engine.generate([
        SeqRequest(prompt=r["prompt"], adapter=adapter(r["tone"]), max_new_tokens=r["max_tokens"],
                   temperature=float(r["sampling"].get("temperature", 0.8)),
                   top_p=float(r["sampling"].get("top_p", 0.92)),
                   repetition_penalty=float(r["sampling"].get("repetition_penalty", 1.15)),
                   seed=1000 + i, key=i) for i, r in enumerate(rows)])
    t_drafts = time.monotonic() - t0
    for r, d in zip(rows, sorted(drafts, key=lambda d: d.key), strict=True):
        r["draft"] = d.text.strip()
        r["before"] = analyse(r["draft"], r["targets"], kind=r["kind"])
        r["missing"] = [k.keyword for k in r["before"].keywords if not k.present]

    enrich = load_file(ROOT / "templates_lib" / "seo" / "seo-keyword-enrich.yaml")
    requests = []
    for i, r in enumerate(rows):
        if not r["missing"] or not r["draft"]:
            continue
        prompt = enrich.render({"copy": r["draft"][:4000], "keywords": ", ".join(r["missing"])})
        tokens = min(args.enrich_tokens, int(r["before"].words * 1.6) + 40)
        for j in range(args.samples):
            requests.append(SeqRequest(
                prompt=prompt, adapter=adapter(r["tone"]), max_new_tokens=tokens,
                temperature=float(enrich.sampling.get("temperature", 0.8)), top_p=0.92,
                repetition_penalty=1.15, seed=2000 + 10 * i + j, key=(i, j)))
    t0 = time.monotonic()
    rewrites = engine.generate(requests) if requests else []
    t_enrich = time.monotonic() - t0
    by_row: dict[int, list] = {}
    for res in rewrites:
        by_row.setdefault(res.key[0], []).append(res.text.strip())
    for i, r in enumerate(rows):
        options = [t for t in by_row.get(i, []) if t]
        if options:
            scored = [(analyse(t, r["targets"], kind=r["kind"]), t) for t in options]
            report, text = min(scored, key=lambda p: rewrite_rank(
                p[0], r["before"].words, echoes_instructions(p[1])))
            r["enriched"], r["echoed"] = text, echoes_instructions(text)
            # A rewrite that copies the prompt's instructions "contains" keywords it did not
            # weave in: counted as a failed enrichment (the copy stays as it was).
            r["after"] = r["before"] if r["echoed"] else report
        else:
            r["enriched"], r["echoed"], r["after"] = None, False, r["before"]  # nothing missing

    seconds = {"targets": round(t_targets, 1), "drafts": round(t_drafts, 1),
               "enrichment": round(t_enrich, 1), "total": round(time.monotonic() - started, 1)}
    report(rows, args, seconds, sum(d.tokens for d in drafts), sum(x.tokens for x in rewrites))

def report(rows: list[dict], args: argparse.Namespace, seconds: dict, draft_tokens: int,
           enrich_tokens: int) -> None:
    """Print the table and write the JSON (texts included, so --rescore can recompute)."""
    def keyword_shares(key: str, subset: list[dict]) -> dict:
        kws = [k for r in subset for k in r[key].keywords]
        flesch = [r[key].readability["flesch"] for r in subset
                  if r[key].readability["flesch"] is not None]
        return {"keywords": len(kws), "present": share([k.present for k in kws]),
                "within_bounds": share([k.within_bounds for k in kws]),
                "stuffed_rows": sum(r[key].stuffing for r in subset),
                "flesch_median": round(statistics.median(flesch), 1) if flesch else None,
                "grade_median": round(statistics.median(
                    [r[key].readability["grade"] for r in subset
                     if r[key].readability["grade"] is not None]), 1) if flesch else None,
                "words_median": statistics.median([r[key].words for r in subset])}

    enriched = [r for r in rows if r["enriched"] is not None]
    deltas = [r["after"].readability["flesch"] - r["before"].readability["flesch"]
              for r in enriched if r["after"].readability["flesch"] is not None
              and r["before"].readability["flesch"] is not None]
    missing_total = sum(len(r["missing"]) for r in enriched)
    added = sum(1 for r in enriched for k in r["after"].keywords
                if k.keyword in r["missing"] and k.present)
    # keywords the draft had and the chosen rewrite dropped
    lost = sum(1 for r in enriched for k in r["after"].keywords
               if k.keyword not in r["missing"] and not k.present)
    summary = {
        "templates": len(rows), "categories": len({r["category"] for r in rows}),
        "targets_per_row": args.keywords, "rows_enriched": len(enriched),
        "rewrites_per_row": args.samples,
        "picked_rewrite_echoed_instructions": sum(r["echoed"] for r in rows),
        "all_rows": {"before": keyword_shares("before", rows), "after": keyword_shares("after", rows)},
        "enriched_rows": {"before": keyword_shares("before", enriched),
                          "after": keyword_shares("after", enriched)},
        "missing_keywords_added": {"missing": missing_total, "added": added,
                                   "share": share([True] * added + [False] * (missing_total - added)),
                                   "present_before_then_lost": lost},
        "flesch_change_enriched": {"median": round(statistics.median(deltas), 1) if deltas else None,
                                   "mean": round(statistics.mean(deltas), 1) if deltas else None},
        "seconds": seconds, "draft_tokens": draft_tokens, "enrich_tokens": enrich_tokens,
        "settings": {k: v for k, v in vars(args).items() if k != "rescore"},
    }
    a, e = summary["all_rows"], summary["enriched_rows"]
    print(f"{len(rows)} templates in {summary['categories']} categories, {args.keywords} targets each; "
          f"{len(enriched)} rows lacked some and were enriched ({args.samples} rewrites each)")
    print("| rows | keywords | present before | present after | within bounds before | "
          "within bounds after | stuffed before / after | Flesch median before / after |")
    print("|---|---|---|---|---|---|---|---|")
    for label, s in (("all", a), ("enriched", e)):
        print(f"| {label} ({len(rows) if label == 'all' else len(enriched)}) | {s['before']['keywords']} | "
              f"{s['before']['present']:.0%} | {s['after']['present']:.0%} | "
              f"{s['before']['within_bounds']:.0%} | {s['after']['within_bounds']:.0%} | "
              f"{s['before']['stuffed_rows']} / {s['after']['stuffed_rows']} | "
              f"{s['before']['flesch_median']} / {s['after']['flesch_median']} |")
    print(f"picked rewrites that copied the instructions (counted as not enriched): "
          f"{summary['picked_rewrite_echoed_instructions']}")
    print(f"missing keywords added: {added}/{missing_total}; present in the draft but lost in the "
          f"rewrite: {lost}; Flesch change on enriched rows: "
          f"median {summary['flesch_change_enriched']['median']}, mean "
          f"{summary['flesch_change_enriched']['mean']}")
    print(json.dumps(summary["seconds"]))
    if args.json:
        out = {"summary": summary, "rows": [{
            "template": r["template"], "category": r["category"], "tone": r["tone"],
            "targets": r["targets"], "missing": r["missing"], "draft": r["draft"],
            "enriched": r["enriched"], "echoed_instructions": r["echoed"],
            "before": {k: r["before"].as_dict()[k] for k in ("words", "present_share",
                                                              "within_bounds_share", "stuffing",
                                                              "readability", "warnings")},
            "after": {k: r["after"].as_dict()[k] for k in ("words", "present_share",
                                                            "within_bounds_share", "stuffing",
                                                            "readability", "warnings")},
        } for r in rows]}
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")



def rescore(args: argparse.Namespace) -> None:
    """Re-analyse the texts saved by an earlier run with the current analysis code (no model)."""
    from copywriter.seo.report import analyse

    saved = json.loads(Path(args.rescore).read_text())
    rows = []
    for row in saved["rows"]:
        kind = META.get(row["template"], "auto")
        before = analyse(row["draft"], row["targets"], kind=kind)
        after = (analyse(row["enriched"], row["targets"], kind=kind)
                 if row["enriched"] and not row["echoed_instructions"] else before)
        rows.append({**row, "kind": kind, "before": before, "after": after,
                     "echoed": row["echoed_instructions"],
                     "missing": [k.keyword for k in before.keywords if not k.present]})
    s = saved["summary"]
    for key in ("keywords", "samples"):
        setattr(args, key, s["settings"][key])
    report(rows, args, s["seconds"], s["draft_tokens"], s["enrich_tokens"])


if __name__ == "__main__":
    main()
