"""Bulk runs: reading files, per-row validation, the window of rows in flight, pause/resume/
cancel, inline edits, downloads, the command line. Generation runs in-process on the tiny model
through the worker's own path (copywriter.pipeline: scheduler, engine session, the bulk hook)."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from copywriter.bulk import exports, parsing, services, window
from copywriter.bulk.mapping import auto_mapping
from copywriter.bulk.models import BulkRun, RowStatus, RunStatus
from copywriter.generation.models import Generation, Status, Variant
from copywriter.generation.services import GenerationError
from copywriter.pipeline.local import run_bulk
from tests.support.bulk import HEADER, SHORT, csv_bytes, good_row
from tests.support.report import report

LIMITS = {"max_rows": 1000, "max_bytes": 5_000_000}
SHORT_OUTPUT = 24  # tokens per row on the tiny model: the path is the same, the test is fast

# Fifty rows, five of them broken in different ways.
BROKEN = {5: "Empty row.", 12: "Product name is required.", 20: "the limit is 120",
          33: "Length must be one of", 41: "cells but the header names 5 columns"}


def fifty_rows() -> bytes:
    rows = []
    for i in range(1, 51):
        row = good_row(i)
        if i == 5:
            row = [""] * 5
        elif i == 12:
            row[0] = "   "
        elif i == 20:
            row[0] = "x" * 121
        elif i == 33:
            row[3] = "epic"
        elif i == 41:
            row = [*row, "stray", "cells"]
        rows.append(row)
    return csv_bytes(rows)


def make_run(cast, template, data: bytes, *, local: bool = True, start: bool = True,
             name: str = "catalogue.csv") -> BulkRun:
    run = services.bulk_run_create(membership=cast.bob_m, template=template, tone="neutral",
                                   file_name=name, data=data, length="short", local=local)
    if start:
        run = services.bulk_run_start(membership=cast.bob_m, run=run)
    return run


def finish_generation(gen: Generation, text: str = "Written copy.") -> None:
    """What the runner does at the end of a batch, without a model."""
    Variant.objects.filter(generation=gen).update(text=text, finished=True,
                                                  originality={"verdict": "original", "score": 0.1})
    Generation.objects.filter(pk=gen.pk).update(status=Status.DONE, finished_at=timezone.now())


# --- Reading files ---------------------------------------------------------------------------

def test_utf8_with_bom_and_sniffed_semicolons():
    data = "\ufeffproduct;customer\nBoots;Hikers\n".encode()
    t = parsing.read_table(data, filename="a.csv", **LIMITS)
    assert t.header == ["product", "customer"] and t.rows == [["Boots", "Hikers"]]
    assert any("semicolons" in n for n in t.notes)


def test_tabs_are_sniffed():
    t = parsing.read_table(csv_bytes([good_row(1)], delimiter="\t"), filename="a.tsv", **LIMITS)
    assert t.header == HEADER and t.rows[0][0] == "Trail boot 1"


def test_windows_1252_is_read_with_a_warning():
    data = "product,customer\nCaf\u00e9 cr\u00e8me \u20ac5,Everyone\n".encode("cp1252")
    t = parsing.read_table(data, filename="a.csv", **LIMITS)
    assert t.rows[0][0] == "Caf\u00e9 cr\u00e8me \u20ac5"
    assert any("not UTF-8" in n and "Windows-1252" in n for n in t.notes)


def test_utf16_with_bom():
    data = "product,customer\nK\u00f6ln,Everyone\n".encode("utf-16")
    assert parsing.read_table(data, filename="a.csv", **LIMITS).rows == [["K\u00f6ln", "Everyone"]]


@pytest.mark.parametrize("data,message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
    (b"PK\x03\x04garbage", "not a readable XLSX"),
    (b"   \n\n", "empty"),
    (b"product,customer\n", "no data rows"),
    (b",,\nBoots,Hikers,x\n", "must name the columns"),
])
def test_unusable_files_say_why(data, message):
    with pytest.raises(parsing.FileProblem, match=message):
        parsing.read_table(data, filename="upload.csv", **LIMITS)


def test_row_and_size_limits():
    data = csv_bytes([good_row(i) for i in range(11)])
    with pytest.raises(parsing.FileProblem, match="11 rows; the limit is 10"):
        parsing.read_table(data, filename="a.csv", max_rows=10, max_bytes=10**6)
    with pytest.raises(parsing.FileProblem, match="the limit is"):
        parsing.read_table(data, filename="a.csv", max_rows=100, max_bytes=100)


def test_trailing_empty_rows_dropped_inner_ones_kept_and_names_made_unique():
    data = b"name,name,\nA,B,C\n,,\nD,E,F\n,,\n\n"
    t = parsing.read_table(data, filename="a.csv", **LIMITS)
    assert t.header == ["name", "name (2)", "Column 3"]
    assert t.rows == [["A", "B", "C"], ["", "", ""], ["D", "E", "F"]]


def test_xlsx_first_sheet_cells_as_text():
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["product", "price", "launch", None])
    sheet.append(["Boots", 12.0, dt.date(2026, 3, 1)])
    sheet.append(["Socks", 3.5, None, None])
    book.create_sheet("Other").append(["ignored"])
    out = io.BytesIO()
    book.save(out)
    t = parsing.read_table(out.getvalue(), filename="c.xlsx", **LIMITS)
    assert t.file_format == "xlsx" and t.header == ["product", "price", "launch"]
    assert t.rows == [["Boots", "12", "2026-03-01"], ["Socks", "3.5", ""]]
    assert any("first sheet" in n for n in t.notes)


def test_columns_are_mapped_by_normalised_name_or_label(product_template):
    spec = product_template.spec()
    mapping = auto_mapping(spec=spec, header=["SKU", "Product Name", "who buys it",
                                              "FEATURES", "length"])
    assert mapping == {"product": 1, "customer": 2, "features": 3, "length": 4}


# --- A run of fifty rows, five broken ---------------------------------------------------------

def test_fifty_rows_with_broken_ones_give_fifty_result_rows(cast, product_template,
                                                            tiny_everything, settings):
    settings.GENERATION_MAX_NEW_TOKENS = SHORT_OUTPUT
    run = make_run(cast, product_template, fifty_rows())
    assert run.total == 50 and run.invalid == len(BROKEN)
    run = run_bulk(run_id=run.pk)
    assert run.status == RunStatus.DONE
    rows = list(run.rows.order_by("index"))
    assert [r.index for r in rows] == list(range(1, 51))
    for r in rows:
        if r.index in BROKEN:
            assert r.status == RowStatus.INVALID and BROKEN[r.index] in r.error, (r.index, r.error)
            assert r.generation_id is None
        else:
            assert r.status == RowStatus.DONE, (r.index, r.status, r.error)
            assert r.result_text and r.generation.status == Status.DONE
            assert r.originality and r.originality.get("verdict")
    gens = [r.generation_id for r in rows if r.generation_id]
    assert len(gens) == len(set(gens)) == 45
    assert Generation.objects.filter(workspace=cast.ws).count() == 45  # no duplicate jobs
    assert run.done == 45 and run.failed == 0
    # The download has the original columns verbatim plus the generated ones, one line a row.
    table = list(csv.reader(io.StringIO(exports.to_csv(run).decode("utf-8-sig"))))
    assert table[0] == HEADER + exports.GENERATED and len(table) == 51
    assert table[1][:5] == good_row(1) and table[1][5] == rows[0].result_text
    assert table[41][6] == "invalid" and "cells" in table[41][7]
    assert table[41][5:7] == ["", "invalid"]
    report("bulk: 50-row file, 5 broken rows -> 50 result rows (45 written in-process, 5 with reasons)")


# --- The window, idempotency, pause / resume / cancel ----------------------------------------

def test_top_up_keeps_a_window_and_never_doubles_a_row(cast, product_template, settings):
    settings.BULK_WINDOW = 5
    run = make_run(cast, product_template, csv_bytes([good_row(i) for i in range(12)]))
    assert run.in_flight == 5 and Generation.objects.count() == 5
    for _ in range(3):  # a redelivered hook, a page load, a double click
        window.advance(run_id=run.pk)
        window.generations_finished(generation_ids=list(
            Generation.objects.values_list("pk", flat=True)))
    assert Generation.objects.count() == 5
    assert run.rows.filter(status=RowStatus.QUEUED).count() == 5
    first = list(Generation.objects.order_by("pk")[:2])
    for gen in first:
        finish_generation(gen)
    run = window.advance(run_id=run.pk)
    assert run.done == 2 and run.in_flight == 5 and Generation.objects.count() == 7
    queued_rows = list(run.rows.filter(status=RowStatus.QUEUED).values_list("index", flat=True))
    assert queued_rows == [3, 4, 5, 6, 7]  # in file order


def test_bulk_skips_the_per_minute_rate_but_not_the_daily_quota(cast, product_template, settings):
    settings.BULK_WINDOW = 6
    settings.GENERATION_RATE_PER_MINUTE = 1
    settings.GENERATION_DAILY_QUOTA = 4
    run = make_run(cast, product_template, csv_bytes([good_row(i) for i in range(8)]))
    assert run.in_flight == 4
    assert "daily generation quota" in BulkRun.objects.get(pk=run.pk).notice
    for gen in Generation.objects.all():
        finish_generation(gen)
    run = window.advance(run_id=run.pk)
    assert run.done == 4 and run.in_flight == 0 and run.status == RunStatus.RUNNING
    assert run.rows.filter(status=RowStatus.PENDING).count() == 4  # waiting, not lost


@pytest.mark.parametrize("permanent", [False, True])
def test_a_refused_row_waits_when_retrying_can_help_and_shows_why_when_not(
        cast, product_template, monkeypatch, permanent):
    """The window reads ``GenerationError.permanent``, not the status code: a transient refusal
    (503 here, not a quota's 429) leaves the rows waiting with a notice; a permanent one is
    recorded on the row."""
    run = make_run(cast, product_template, csv_bytes([good_row(1), good_row(2)]), start=False)

    def refuse(**kwargs):
        raise GenerationError("The writer is busy.", status=503 if not permanent else 400,
                              permanent=permanent)

    monkeypatch.setattr("copywriter.bulk.window.generation_create", refuse)
    run = services.bulk_run_start(membership=cast.bob_m, run=run)
    if permanent:
        assert run.invalid == 2 and run.status == RunStatus.DONE and not run.notice
        assert run.rows.get(index=1).error == "The writer is busy."
    else:
        assert run.rows.filter(status=RowStatus.PENDING).count() == 2 and run.invalid == 0
        assert run.status == RunStatus.RUNNING and run.notice == "The writer is busy."
    assert not Generation.objects.exists()


def test_pause_resume_cancel(cast, product_template, settings):
    settings.BULK_WINDOW = 4
    run = make_run(cast, product_template, csv_bytes([good_row(i) for i in range(10)]))
    run = services.bulk_run_pause(membership=cast.bob_m, run=run)
    assert run.status == RunStatus.PAUSED and run.in_flight == 4
    for gen in Generation.objects.all():  # in-flight rows still finish
        finish_generation(gen)
    run = window.advance(run_id=run.pk)
    assert run.done == 4 and run.in_flight == 0 and Generation.objects.count() == 4
    run = services.bulk_run_resume(membership=cast.bob_m, run=run)
    assert run.status == RunStatus.RUNNING and run.in_flight == 4
    running = Generation.objects.filter(status=Status.QUEUED).order_by("pk").first()
    Generation.objects.filter(pk=running.pk).update(status=Status.RUNNING)
    run = services.bulk_run_cancel(membership=cast.bob_m, run=run)
    assert run.status == RunStatus.CANCELLED
    assert Generation.objects.filter(status=Status.CANCELLED).count() == 3
    assert run.skipped == 2 + 3 and run.in_flight == 1  # pending rows + cancelled jobs
    finish_generation(running)  # the row being written when cancelled keeps its text
    run = window.advance(run_id=run.pk)
    assert run.done == 5 and run.in_flight == 0 and run.status == RunStatus.CANCELLED
    assert run.done + run.skipped == run.total


def test_failed_job_marks_its_row_failed_and_the_run_finishes(cast, product_template):
    run = make_run(cast, product_template, csv_bytes([good_row(1), good_row(2)]))
    a, b = Generation.objects.order_by("pk")
    finish_generation(a)
    Generation.objects.filter(pk=b.pk).update(status=Status.FAILED, error="The writer failed: boom")
    run = window.advance(run_id=run.pk)
    assert run.status == RunStatus.DONE and run.done == 1 and run.failed == 1
    assert run.rows.get(index=2).error == "The writer failed: boom"


def test_regenerate_one_row_once_even_when_clicked_twice(cast, product_template):
    run = make_run(cast, product_template, csv_bytes([good_row(1), good_row(2)]))
    for gen in Generation.objects.all():
        finish_generation(gen)
    run = window.advance(run_id=run.pk)
    row = run.rows.get(index=1)
    old = row.generation_id
    services.row_regenerate(membership=cast.bob_m, row=row)
    services.row_regenerate(membership=cast.bob_m, row=row)
    row.refresh_from_db()
    assert row.status == RowStatus.QUEUED and row.generation_id != old
    assert Generation.objects.count() == 3 and row.generation.retry_of_id == old
    finish_generation(row.generation, "Second take.")
    run = window.advance(run_id=run.pk)
    assert run.rows.get(index=1).result_text == "Second take." and run.status == RunStatus.DONE


def test_stalled_jobs_are_republished(cast, product_template, settings, monkeypatch):
    settings.BULK_STALL_SECONDS = 60
    published = []
    monkeypatch.setattr("copywriter.bulk.window.enqueue", lambda gen: published.append(gen.pk))
    run = make_run(cast, product_template, csv_bytes([good_row(1), good_row(2)]), local=False)
    window.advance(run_id=run.pk)
    assert published == []  # not stalled yet
    BulkRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timezone.timedelta(minutes=5),
                                             created_at=timezone.now() - timezone.timedelta(minutes=5))
    window.advance(run_id=run.pk)
    assert sorted(published) == sorted(Generation.objects.values_list("pk", flat=True))
    assert window.resume_stalled() == 1 and len(published) == 4  # worker start: kick now


# --- Views -----------------------------------------------------------------------------------

def upload(client, cast, template, data, name="catalogue.csv", **extra):
    f = io.BytesIO(data)
    f.name = name
    return client.post(reverse("bulk:upload", args=[cast.ws.pk]),
                       {"template": template.pk, "tone": "neutral", "length": "short", "file": f,
                        **extra})


def test_upload_map_preview_start(cast, product_template, bob_client, settings):
    settings.BULK_WINDOW = 3
    header = ["Product name", "Buyer", "features", "length"]
    rows = [[f"Boot {i}", "Walkers", "Leather", SHORT] for i in range(4)]
    rows.insert(2, ["", "", "", ""])
    r = upload(bob_client, cast, product_template, csv_bytes(rows, header=header))
    assert r.status_code == 302
    run = BulkRun.objects.get()
    page = bob_client.get(r["Location"]).content.decode()
    assert "No column is mapped to <strong>Who buys it</strong>" in page
    assert "Write a product page description for Boot 0" not in page  # nothing runs unmapped
    url = reverse("bulk:mapping", args=[cast.ws.pk, run.pk])
    fields = {"map_product": "0", "map_features": "2", "map_length": "3"}
    r = bob_client.post(url, {**fields, "action": "start"})
    assert r.status_code == 400 and "Choose a column for Who buys it" in r.content.decode()
    r = bob_client.post(url, {**fields, "map_customer": "1"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="bulk-preview"' in html and "<html" not in html
    assert "Write a product page description for Boot 0, for this shopper: Walkers" in html
    assert "Empty row." in html
    r = bob_client.post(url, {**fields, "map_customer": "1", "action": "start"})
    assert r.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.in_flight == 3 and run.invalid == 1
    page = bob_client.get(r["Location"]).content.decode()
    assert 'id="bulk-progress"' in page and 'hx-trigger="every 2s"' in page
    assert "0 done · 0 failed · 4 remaining · 1 invalid" in page


@pytest.mark.parametrize("data,name,status,message", [
    (b"\x00\x01\x02binary" * 50, "x.csv", 400, "binary data"),
    (b"a,b\n" + b"x,y\n" * 2000, "big.csv", 413, "the limit is"),
])
def test_bad_upload_is_refused_with_the_reason(cast, product_template, bob_client, settings,
                                               data, name, status, message):
    settings.BULK_MAX_BYTES = 4000
    r = upload(bob_client, cast, product_template, data, name=name)
    assert r.status_code == status and message in r.content.decode()
    assert BulkRun.objects.count() == 0


def test_progress_poll_updates_rows_and_stops_when_done(cast, product_template, bob_client):
    run = make_run(cast, product_template, csv_bytes([good_row(1), good_row(2)]), local=False)
    url = reverse("bulk:run", args=[cast.ws.pk, run.pk])
    since = timezone.now().timestamp()
    r = bob_client.get(url, {"since": since}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bulk-progress")
    assert r.status_code == 200 and 'id="row-1"' not in r.content.decode()
    for gen in Generation.objects.all():
        finish_generation(gen, "Fresh <b>copy</b>")
    r = bob_client.get(url, {"since": since}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bulk-progress")
    html = r.content.decode()
    assert r.status_code == 286  # htmx: stop polling
    assert 'id="row-1" hx-swap-oob="outerHTML"' in html and "Fresh &lt;b&gt;copy&lt;/b&gt;" in html
    assert "2 done · 0 failed · 0 remaining" in html


def test_inline_edit_saves_and_never_loses_text(cast, product_template, bob_client, settings):
    settings.BULK_MAX_RESULT_CHARS = 50
    run = make_run(cast, product_template, csv_bytes([good_row(1)]))
    finish_generation(Generation.objects.get())
    window.advance(run_id=run.pk)
    url = reverse("bulk:row_edit", args=[cast.ws.pk, run.pk, 1])
    r = bob_client.post(url, {"text": "Hand-polished copy"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Hand-polished copy" in r.content.decode()
    assert "<html" not in r.content.decode() and "edited, saved" in r.content.decode()
    row = run.rows.get(index=1)
    assert row.result_text == "Hand-polished copy" and row.edited
    too_long = "word " * 20
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        r = bob_client.post(url, {"text": too_long}, **headers)
        assert r.status_code == 400
        assert too_long.strip() in r.content.decode() and "the limit is 50" in r.content.decode()
    assert run.rows.get(index=1).result_text == "Hand-polished copy"


def test_downloads_escape_formulas(cast, product_template, alice_client):
    rows = [good_row(1), ["=HYPERLINK(\"http://evil\")", "@admin", "+1 feature", SHORT, "-5"]]
    run = make_run(cast, product_template, csv_bytes(rows))
    for gen in Generation.objects.all():
        finish_generation(gen, "- first bullet")
    window.advance(run_id=run.pk)
    r = alice_client.get(reverse("bulk:download", args=[cast.ws.pk, run.pk, "csv"]))
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[2][:5] == ["'=HYPERLINK(\"http://evil\")", "'@admin", "'+1 feature", SHORT, "'-5"]
    assert table[1][5] == "'- first bullet" and table[1][0] == "Trail boot 1"
    r = alice_client.get(reverse("bulk:download", args=[cast.ws.pk, run.pk, "xlsx"]))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(r.content)).active
    cells = list(sheet.iter_rows(min_row=3, max_row=3))[0]
    assert cells[0].value == "=HYPERLINK(\"http://evil\")" and cells[0].data_type == "s"
    assert [c.value for c in cells[1:5]] == ["@admin", "+1 feature", SHORT, "-5"]
    assert alice_client.get(reverse("bulk:download", args=[cast.ws.pk, run.pk, "pdf"])).status_code == 404


def test_viewer_sees_but_cannot_change_and_outsider_gets_404(cast, product_template, vera_client,
                                                           charlie_client):
    run = make_run(cast, product_template, csv_bytes([good_row(1)]))
    page = vera_client.get(reverse("bulk:run", args=[cast.ws.pk, run.pk]))
    assert page.status_code == 200 and "Pause" not in page.content.decode()
    assert vera_client.post(reverse("bulk:cancel", args=[cast.ws.pk, run.pk])).status_code == 403
    assert charlie_client.get(reverse("bulk:download", args=[cast.other.pk, run.pk, "csv"])).status_code == 404
    assert charlie_client.get(reverse("bulk:run", args=[cast.ws.pk, run.pk])).status_code == 404
    assert charlie_client.get(reverse("bulk:list", args=[cast.other.pk])).content.decode().count(
        "catalogue.csv") == 0
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


# --- The command line ------------------------------------------------------------------------

def test_generate_bulk_local_resumes_without_redoing_rows(cast, product_template, tiny_everything,
                                                          tmp_path, monkeypatch, settings):
    settings.GENERATION_MAX_NEW_TOKENS = SHORT_OUTPUT
    settings.GENERATION_BATCH_SEQUENCES = 4
    from copywriter.pipeline import worker

    src = tmp_path / "in.csv"
    src.write_bytes(csv_bytes([good_row(i) for i in range(1, 11)] + [["", "", "", "", "x"]]))
    out = tmp_path / "out.csv"
    real = worker.generations_finished
    told: list[int] = []

    def interrupted(*, generation_ids):
        real(generation_ids=generation_ids)
        told.extend(generation_ids)
        if len(told) >= 4:
            raise KeyboardInterrupt  # Ctrl-C once four rows are written

    monkeypatch.setattr(worker, "generations_finished", interrupted)
    args = ["generate_bulk", "--template", "ecommerce-product-description", "--length", "short",
            str(src), str(out), "--local"]
    with pytest.raises(KeyboardInterrupt):
        call_command(*args, stdout=StringIO(), stderr=StringIO())
    assert not out.exists()
    run = BulkRun.objects.get()
    assert 4 <= run.done < 10
    first_four = dict(run.rows.filter(status=RowStatus.DONE).values_list("index", "generation_id"))
    assert len(first_four) == run.done
    monkeypatch.setattr(worker, "generations_finished", real)
    err, stdout = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=err)
    assert "resuming run" in err.getvalue() and "100%" in err.getvalue()
    assert BulkRun.objects.count() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.done == 10 and run.invalid == 1
    assert dict(run.rows.filter(index__in=first_four).values_list("index", "generation_id")) == first_four
    assert Generation.objects.count() == 10  # the interrupted batch was taken over, not redone
    table = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(table) == 12 and all(r[5] for r in table[1:11]) and table[11][6] == "invalid"
    assert "10 written, 0 failed, 1 invalid" in stdout.getvalue()
    report("generate_bulk --local: interrupted mid-batch, run again -> 10 rows, 10 jobs, none redone")


def test_generate_bulk_bad_input(db, product_template, tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(csv_bytes([good_row(1)], header=["name", "customer", "features", "length", "x"]))
    with pytest.raises(CommandError, match="Choose a column for Product name"):
        call_command("generate_bulk", "--template", "ecommerce-product-description", str(src),
                     str(tmp_path / "o.csv"), "--local")
    with pytest.raises(CommandError, match="no column 'title'"):
        call_command("generate_bulk", "--template", "ecommerce-product-description", "--map",
                     "product=title", str(src), str(tmp_path / "o.csv"), "--local")
    with pytest.raises(CommandError, match="must end in .csv or .xlsx"):
        call_command("generate_bulk", "--template", "ecommerce-product-description", str(src),
                     str(tmp_path / "o.txt"), "--local")


def test_generate_bulk_map_option_and_xlsx_output(db, product_template, tiny_everything, tmp_path,
                                                  settings):
    settings.GENERATION_MAX_NEW_TOKENS = SHORT_OUTPUT
    from openpyxl import load_workbook

    src = tmp_path / "in.csv"
    src.write_bytes(csv_bytes([good_row(1)], header=["name", "customer", "features", "length", "x"]))
    call_command("generate_bulk", "--template", "ecommerce-product-description", "--map",
                 "product=Name", "--length", "short", str(src), str(tmp_path / "o.xlsx"), "--local",
                 stdout=StringIO(), stderr=StringIO())
    rows = list(load_workbook(tmp_path / "o.xlsx").active.iter_rows(values_only=True))
    assert rows[0][:5] == ("name", "customer", "features", "length", "x") and rows[1][6] == "done"


def test_generate_json_has_the_originality_report(db, ad_template, tiny_everything):
    out = StringIO()
    call_command("generate", "--template", "google-search-ad", "--field", "product=Boots",
                 "--field", "benefit=Dry feet", "--variants", "1", "--length", "short", "--local",
                 "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data["originality"]) == 1 and data["originality"][0]["verdict"]


def test_rows_whose_job_fails_in_the_runner_are_failed_with_the_reason(cast, product_template,
                                                                       tiny_everything):
    """A tone without a trained adapter fails every job in the runner, before any text is
    written: the runner's hook still records each row as failed and the run ends."""
    run = services.bulk_run_create(membership=cast.bob_m, template=product_template, tone="bold",
                                   file_name="c.csv", data=csv_bytes([good_row(1), good_row(2)]),
                                   local=True)
    run = run_bulk(run_id=services.bulk_run_start(membership=cast.bob_m, run=run).pk)
    assert run.status == RunStatus.DONE and run.failed == 2 and run.done == 0
    assert all("no trained adapter for the tone 'bold'" in r.error for r in run.rows.all())
