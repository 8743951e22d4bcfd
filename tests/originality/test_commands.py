"""Management commands: check_originality (no database corpus), import_corpus and
reindex_originality."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from copywriter.originality import search
from copywriter.originality.models import Passage, ReferenceItem
from tests.support.originality_cases import CASES
from tests.support.report import report


@pytest.fixture
def corpus_dir(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "ads").mkdir(parents=True)
    (folder / "boots.txt").write_text(CASES[0]["source"])
    (folder / "ads" / "coffee.md").write_text(f"# Brewline landing page\n\n{CASES[1]['source']}\n")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD.txt").write_text("ref: refs/heads/main")
    return folder


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue() + str(exc), exc
    return out.getvalue(), err.getvalue(), None


def test_check_originality_prints_a_json_report_per_file(corpus_dir, tmp_path, monkeypatch):
    from tests.support.embeddings import memo_embed

    monkeypatch.setattr("copywriter.ml.embeddings.embed", memo_embed)
    files = {"light.txt": CASES[1]["light"], "heavy.txt": CASES[0]["heavy"],
             "unrelated.md": CASES[2]["unrelated"]}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    out, err, exc = _run("check_originality", "--corpus", str(corpus_dir),
                         *[str(tmp_path / n) for n in files])
    assert exc is None, err
    reports = [json.loads(line) for line in out.splitlines()]
    by_name = {r["file"].rsplit("/", 1)[-1]: r for r in reports}
    # The heavy paraphrase is a note without a brief (tests/originality/test_originality.py says why).
    assert [r["verdict"] for r in reports] == ["copy", "note", "original"]
    light = by_name["light.txt"]
    assert light["score"] > 0.95 and 0 < light["overlap"] < 1 and light["corpus_files"] == 2
    m = light["match"]
    assert m["source"] == {"kind": "file", "path": "ads/coffee.md", "title": "Brewline landing page"}
    assert m["text_span"]["text"] == CASES[1]["light"][m["text_span"]["start"]:m["text_span"]["end"]]
    coffee = (corpus_dir / "ads" / "coffee.md").read_text()
    assert m["source_span"]["text"] == coffee[m["source_span"]["start"]:m["source_span"]["end"]]
    assert m["text_span"]["copied"] and "segments" not in m["text_span"]
    heavy = by_name["heavy.txt"]
    assert heavy["overlap"] == 0 and heavy["match"]["source"]["path"] == "boots.txt"
    assert by_name["unrelated.md"]["matches"] == []
    assert "logo.png: skipped" in err and ".git" not in err
    report("check_originality: copy / note / original told apart from a folder, no database")


def test_check_originality_does_not_compare_a_corpus_file_with_itself(corpus_dir, monkeypatch):
    from tests.support.embeddings import memo_embed

    monkeypatch.setattr("copywriter.ml.embeddings.embed", memo_embed)
    out, _, exc = _run("check_originality", "--corpus", str(corpus_dir), str(corpus_dir / "boots.txt"))
    assert exc is None and json.loads(out)["verdict"] == "original"


def test_check_originality_bad_input(corpus_dir, tmp_path, monkeypatch):
    from tests.support.embeddings import memo_embed

    monkeypatch.setattr("copywriter.ml.embeddings.embed", memo_embed)
    _, err, exc = _run("check_originality", "--corpus", str(tmp_path / "nope"), "x.txt")
    assert exc and "does not exist" in err
    (tmp_path / "empty").mkdir()
    _, err, exc = _run("check_originality", "--corpus", str(tmp_path / "empty"), "x.txt")
    assert exc and "no readable .txt or .md files" in err
    _, err, exc = _run("check_originality", "--corpus", str(corpus_dir), "--paraphrase-threshold", "2",
                       "x.txt")
    assert exc and "between 0.50 and 0.99" in err
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "ok.txt").write_text(CASES[0]["light"])
    out, err, exc = _run("check_originality", "--corpus", str(corpus_dir), str(tmp_path / "missing.txt"),
                         str(tmp_path / "latin1.txt"), str(tmp_path / "ok.txt"))
    lines = [json.loads(line) for line in out.splitlines()]
    assert "does not exist" in lines[0]["error"] and "not UTF-8" in lines[1]["error"]
    assert lines[2]["verdict"] == "copy"  # the good file is still checked
    assert exc and "2 of 3 files could not be checked" in err


def test_import_corpus_global_and_per_workspace(cast, corpus_dir, embeddings):
    out, err, exc = _run("import_corpus", str(corpus_dir))
    assert exc is None, err
    assert "the global corpus: 2 added, 0 updated, 0 unchanged, 1 skipped" in out
    items = {i.source_name: i for i in ReferenceItem.objects.all()}
    assert set(items) == {"boots.txt", "ads/coffee.md"} and all(i.workspace_id is None for i in items.values())
    assert items["ads/coffee.md"].title == "Brewline landing page" and items["boots.txt"].is_indexed
    assert Passage.objects.filter(reference__in=items.values(), workspace__isnull=True).count() > 10
    # every workspace is compared against the global corpus
    for ws in (cast.ws, cast.other):
        rep = search.check_text(workspace_id=ws.pk, text=CASES[0]["light"])
        assert rep["verdict"] == "copy" and rep["match"]["source"]["global"] is True
    # a second import changes nothing; an edited file is updated in place
    out, _, _ = _run("import_corpus", str(corpus_dir))
    assert "0 added, 0 updated, 2 unchanged" in out
    (corpus_dir / "boots.txt").write_text(CASES[0]["source"] + " Now in three widths.")
    out, _, _ = _run("import_corpus", str(corpus_dir))
    assert "0 added, 1 updated, 1 unchanged" in out and ReferenceItem.objects.count() == 2
    # the same folder for one workspace stays in that workspace
    out, _, exc = _run("import_corpus", str(corpus_dir), "--workspace", str(cast.other.pk))
    assert exc is None and f"workspace {cast.other.pk}" in out
    assert ReferenceItem.objects.filter(workspace=cast.other).count() == 2


def test_import_corpus_bad_input(cast, tmp_path):
    _, err, exc = _run("import_corpus", str(tmp_path / "missing"))
    assert exc and "does not exist" in err
    (tmp_path / "f.txt").write_text("x")
    _, err, exc = _run("import_corpus", str(tmp_path / "f.txt"))
    assert exc and "is not a folder" in err
    _, err, exc = _run("import_corpus", str(tmp_path), "--workspace", "999999")
    assert exc and "no workspace with id 999999" in err
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "a.txt").write_text("   ")
    _, err, exc = _run("import_corpus", str(tmp_path / "blank"))
    assert "a.txt: skipped, a.txt is empty" in err and ReferenceItem.objects.count() == 0


def test_reindex_originality_indexes_what_is_missing(cast, embeddings, ad_template):
    from copywriter.documents.services import document_create
    from copywriter.generation.models import Generation, Variant

    document_create(membership=cast.alice_m, title="Doc", body=CASES[4]["source"])
    gen = Generation.objects.create(workspace=cast.ws, created_by=cast.alice, template=ad_template,
                                    template_version=ad_template.current, fields={}, prompt="p",
                                    tone="neutral", variants=1, status="done")
    Variant.objects.create(generation=gen, index=0, text=CASES[5]["source"], finished=True)
    ReferenceItem.objects.create(workspace=cast.ws, title="Ref", text=CASES[6]["source"])
    assert not Passage.objects.exists()
    out, _, exc = _run("reindex_originality", "--workspace", str(cast.ws.pk))
    assert exc is None and "indexed 1 documents, 1 generations, 1 reference texts" in out
    assert set(Passage.objects.values_list("kind", flat=True)) == {"document", "variant", "reference"}
    _, err, exc = _run("reindex_originality", "--workspace", "999999")
    assert exc and "no workspace with id 999999" in err
