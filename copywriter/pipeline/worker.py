"""The worker path, top to bottom: claim -> engine -> review stages -> store -> tell bulk runs.

Continuous (iteration-level) batching: one engine session runs for as long as there is work.
Between two decode steps the worker claims queued rows that fit the free capacity
(``scheduler``: interactive first, bulk in what is left, workspaces in turns) and adds them to
the session, which prefills them and joins them to the running batch. A variant that finishes
leaves the batch at once and goes through the review stages; a variant a stage wants rewritten
joins the running batch again as a new row with a new seed. When every variant of a generation
is settled, the generation is stored and shown, and bulk runs hear about it, while the other
rows go on decoding.

What a variant is written as (``Unit``: one attempt at one variant):
- long-form copy: ``candidates`` sequences of the whole prompt (the workspace's best of N);
  under the workspace's "cut" claims policy each has the blanks the brief answers filled and
  loses the sentences that hold a claim the brief does not support or a blank (``claims.cut``:
  listed with the variant, never dropped silently), then the
  review stages see each, and ``choice`` picks the one shown;
- a slot template (``output.slots``): every item (each headline, each description) is its own
  short one-line sequence with its slot's instruction, ``candidates`` of each; an item is chosen
  as soon as its candidates are in, and one that breaks its slot is written again (at most
  ``item_rounds`` more times, the last of them led by the product's name) and never shown over
  its limit. The chosen items, in order, are
  the variant the stages review.

Guarantees kept from the static worker: rows are claimed with a lease naming this process and
the lease is extended while they run, so a killed worker's rows go back to the queue (the
broker redelivers its task; ``generation.runner.prepare`` decides what a redelivery does), and a
generation's variants are written whole when it finishes, so a re-run never duplicates them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.bulk.window import generations_finished
from copywriter.catalog.slots import render_items
from copywriter.claims.cut import cut_unsupported, fill_blanks
from copywriter.core.text import contains
from copywriter.generation import runner
from copywriter.generation.models import Generation, Status
from copywriter.generation.review import Draft, Stage, Verdict
from copywriter.pipeline import choice, scheduler
from copywriter.pipeline.slots import (
    Item,
    asks_keyword,
    brief_block,
    complete_part,
    fit,
    fits_product,
    item_budget,
    item_prompt,
    items_for,
    keyword_start,
    must_carry,
    read_item,
    sample_brief,
    sample_items,
)
from copywriter.workspaces.models import Workspace

log = logging.getLogger(__name__)
SEED_STEP = 7919  # a rewrite's seed: far from the seeds the first writing used
CANDIDATE_STEP = 104_729  # the seed of a variant's next candidate
ITEM_STEP = 1_299_709  # the seed of a slot variant's next item
LONG = -1  # the item number of a long-form candidate's row
PARTIAL_EVERY = 0.7  # seconds between writes of growing texts (and lease renewals)
CLAIM_EVERY = 0.25  # seconds between looks at the queue while the batch runs
# While the batch runs, bulk variants are reviewed in groups: a group's passages are embedded in
# one call and its rows stored and counted on their run in one go (one by one, the review and
# the run's bookkeeping cost a CPU worker a sixth of its bulk throughput); a group is reviewed
# when it is full or its oldest variant has waited BULK_REVIEW_WAIT seconds, all when idle.
BULK_REVIEW_GROUP = 8
BULK_REVIEW_WAIT = 4.0
PARK_MARGIN = 4  # bulk rows over (or under) the room interactive rows leave before parking (resuming)

RowKey = tuple[int, int, int, int, int]  # (generation, variant, attempt, item, candidate)


def _keeps(job: Job, item: Item) -> list[str]:
    """What a line may start with and not be read as "Label: item": the item's search term and
    the product's name."""
    return [p for p in (asks_keyword(item, job.gen.fields), job.brief.product) if p]


def _with_line(prompt: str, line: str) -> str:
    return f"{prompt}\n{line}" if line else prompt


@dataclass
class Kept:
    """What one attempt at a variant shows."""

    text: str
    tokens: int
    finish_reason: str
    slots: dict[str, list[str]] | None = None
    choice: dict[str, Any] | None = None


@dataclass
class Unit:
    """One attempt at one variant while its rows are written."""

    index: int
    attempt: int
    items: list[Item]  # slot items to write ([] for long-form copy)
    waiting: set[RowKey] = field(default_factory=set)
    got: dict[int, list[Any]] = field(default_factory=dict)  # item number -> its results so far
    rounds: dict[int, int] = field(default_factory=dict)  # item number -> extra rounds used
    chosen: dict[int, str | None] = field(default_factory=dict)  # None: no candidate fitted
    why: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: int = 0

    def chosen_items(self) -> tuple[dict[str, list[str]], list[str]]:
        """The items chosen so far by slot name, in order, and the items with none ("headline
        2": still writing, or left empty)."""
        items: dict[str, list[str]] = {}
        missing = []
        for item in self.items:
            text = self.chosen.get(item.number)
            if text:
                items.setdefault(str(item.slot["name"]), []).append(text)
            else:
                missing.append(f"{item.slot['name']} {item.n + 1}")
        return items, missing

    def item_waiting(self, number: int) -> bool:
        return any(key[3] == number for key in self.waiting)

    @property
    def ready(self) -> bool:
        if self.items:
            return len(self.chosen) == len(self.items) and not self.waiting
        return not self.waiting


@dataclass
class Job:
    """One claimed generation while its variants are written and reviewed."""

    gen: Generation
    kind: str
    adapter: str
    claimed_at: float
    tone_line: str = ""  # the tone asked for in the prompt (no adapter of it for this base)
    candidates: int = 1
    slots: list[dict[str, Any]] | None = None
    title: str = ""
    brief_text: str = ""
    brief: Any = None  # choice.Brief
    examples: dict[str, list[str]] = field(default_factory=dict)  # slot -> the sample's items
    example_brief: str = ""  # the sample's field values
    labels: dict[str, str] = field(default_factory=dict)  # field name -> its label
    first_token_at: float | None = None
    open: set[int] = field(default_factory=set)  # variant indexes still writing or rewriting
    units: dict[int, Unit] = field(default_factory=dict)  # variant index -> its current attempt
    attempts: dict[int, list[tuple[Kept, dict[str, Verdict]]]] = field(default_factory=dict)
    tokens: int = 0
    review_seconds: float = 0.0

    @cached_property  # read by every slot item candidate; the labels are set once, in _job
    def field_labels(self) -> list[str]:
        """What a written line may start with and be a field's label, not copy."""
        return [label or name for name, label in self.labels.items()]


class Pipeline:
    def __init__(self, *, me: str, queue: str, engine: Any, stages: list[Stage],
                 capacity: int, bulk_share: float, max_seconds: float, static: bool = False,
                 interactive: int = 0,
                 on_store: Callable[[list[int]], None] | None = None, slots: bool = True,
                 item_rounds: int = 3, item_candidates: int = 1):
        """``static``: the scheduler before continuous batching, kept as the serving bench's
        baseline (``GENERATION_SCHEDULER=static``): claim a batch in arrival order, decode it to
        the end, review it, rewrite flagged variants in extra rounds, store, and only then look
        at the queue again. ``slots``: write slot templates item by item (``GENERATION_SLOTS``;
        off, every template is written as one sequence, as before output slots)."""
        self.me, self.queue, self.engine, self.stages = me, queue, engine, stages
        self.static = static
        self.slots = slots
        self.item_rounds = item_rounds
        self.item_candidates = item_candidates  # at least this many candidates per slot item
        self.on_store = on_store  # e.g. a command's progress line, after generations are stored
        self.held: list[Any] = []  # static: finished rows wait for the rest of their batch
        self.later: list[Any] = []  # rows of new slot jobs that join after their first item's
        # variants written, waiting for their review (with the time each was written)
        self.to_review: list[tuple[Job, Unit, float]] = []
        self.capacity = scheduler.Capacity(total=capacity, bulk_share=bulk_share,
                                           interactive=interactive)
        self.max_seconds = max_seconds
        self.jobs: dict[int, Job] = {}
        self._workspaces: dict[int, tuple[int, str]] = {}  # id -> (candidates, claims policy)
        self.session: Any = None
        self.steps = 0

    # -- the loop ------------------------------------------------------------------------------
    def run(self, first_id: int | None = None) -> int:
        """Serve until the queue is empty (or ``max_seconds`` passed: then stop claiming and
        finish what is in the batch). Returns the number of generations stored."""
        from copywriter.ml.engine import SYSTEM_PROMPT

        started = time.monotonic()
        self.session = self.engine.session(system=SYSTEM_PROMPT)
        stored = 0
        last_partial = 0.0
        try:
            self._admit(first_id)  # the job whose message started this run, and what fits
            last_claim = time.monotonic()
            while True:
                now = time.monotonic()
                claiming = now - started < self.max_seconds
                idle = not self.session.live and not self.session.pending and not self.jobs
                if claiming and now - last_claim >= CLAIM_EVERY and (idle or not self.static):
                    self._admit(None)
                    last_claim = now
                if (not self.session.live and not self.session.pending
                        and (not claiming or not self._admit(None))):
                    if self.to_review:  # the batch emptied without a step (a cancel): review
                        stored += self._review_due(drain=True)
                        continue
                    break
                if not self.static and hasattr(self.session, "park"):
                    self._balance()
                finished = self.session.step()
                self.steps += 1
                if self.later:
                    self._add_later()
                now = time.monotonic()
                began = False
                for job in self.jobs.values():
                    if job.first_token_at is None and job.open:
                        job.first_token_at = now  # admitted rows wrote their first token this step
                        began = True
                if self.static:
                    self.held += finished
                    if not self.session.live and not self.session.pending:
                        finished, self.held = self.held, []
                    else:
                        finished = []
                if finished:
                    self._settle(finished)
                if self.to_review:
                    stored += self._review_due(
                        drain=self.static or not (self.session.live or self.session.pending))
                if began or now - last_partial >= PARTIAL_EVERY:
                    self._write_partial()  # a job's first words show as soon as they are written
                    last_partial = now
        except SoftTimeLimitExceeded:
            self._release("The generation took longer than the time limit. Retry it, or ask for "
                          "fewer variants or a shorter length.", final=True)
            raise
        except Exception as exc:
            log.exception("the worker's batch failed")
            self._release(f"The writer failed: {exc.__class__.__name__}: {exc}", final=False)
            raise
        return stored

    # -- admission -----------------------------------------------------------------------------
    def _recount(self) -> None:
        """The rows each class and workspace has in the batch now (queued or decoding): a slot
        job's item rows leave as its items are written and a settled variant holds none, so
        places free up long before the job is stored."""
        running: dict[str, int] = {}
        by_workspace: dict[int, int] = {}
        for job in self.jobs.values():
            rows = len(self._keys(job))
            running[job.kind] = running.get(job.kind, 0) + rows
            ws = job.gen.workspace_id
            by_workspace[ws] = by_workspace.get(ws, 0) + rows
        self.capacity.running, self.capacity.by_workspace = running, by_workspace

    def _balance(self) -> None:
        """Bulk rows yield the batch to interactive ones. On a CPU a step's time grows with its
        rows past the batch's size while tokens per second stay flat, so when interactive rows
        and decoding bulk rows are more than the batch holds, bulk rows are parked (those that
        wrote least first; their state is kept) and resumed as interactive rows leave. A margin
        keeps it from parking and resuming at every step."""
        interactive: set[RowKey] = set()
        bulk: set[RowKey] = set()
        for job in self.jobs.values():
            (interactive if job.kind == scheduler.INTERACTIVE else bulk).update(self._keys(job))
        parked = self.session.parked()
        room = max(0, self.capacity.total - len(interactive))
        written = self.session.written()
        decoding = [key for key in bulk if key in written]
        if interactive and len(decoding) > room + PARK_MARGIN:
            order = sorted(decoding, key=lambda key: (written[key], key))
            self.session.park(set(order[:len(decoding) - room]))
        elif parked and (not interactive or len(decoding) + PARK_MARGIN <= room):
            back = sorted(parked & bulk)[:room - len(decoding)]
            self.session.resume(set(back) if interactive else None)

    def _admit(self, first_id: int | None) -> bool:
        self._recount()
        taken = scheduler.claim(me=self.me, queue=self.queue, capacity=self.capacity,
                                first_id=first_id, fifo=self.static, cost=self._cost)
        requests: list[Any] = []
        needed: dict[str, Path] = {}
        for gen, kind in taken:
            try:
                adapter, path, tone_line = runner.adapter_for(gen.tone)
            except LookupError as exc:
                runner.fail(gen.pk, str(exc), permanent=True)
                generations_finished(generation_ids=[gen.pk])
                continue
            if path is not None and getattr(self.engine, "adapter_paths", {}).get(adapter) != path:
                needed[adapter] = path
            job = self._job(gen, kind, adapter, tone_line)
            self.jobs[gen.pk] = job
            rows = []
            for index in range(gen.variants):
                job.open.add(index)
                job.attempts[index] = []
                rows += self._start(job, index, attempt=0)
            if job.slots and kind == scheduler.INTERACTIVE and not self.static:
                # The first item of the first variant alone in this prefill (its candidates share
                # one prompt): it shows as soon as it is written; the other items (a search ad
                # has 15 a variant, each with its candidates) join at the next step.
                lead = min(row.key for row in rows)[:4]
                self.later += [row for row in rows if row.key[:4] != lead]
                rows = [row for row in rows if row.key[:4] == lead]
            requests += rows
        if needed:
            self.engine.ensure_adapters(needed)
        if requests:
            self.session.add(requests)
        return bool(taken)

    def _add_later(self) -> None:
        """The rows held back at admission join now, except a dropped job's."""
        later, self.later = self.later, []
        rows = []
        for row in later:
            job = self.jobs.get(row.key[0])
            unit = job.units.get(row.key[1]) if job is not None else None
            if unit is not None and row.key in unit.waiting:
                rows.append(row)
        if rows:
            self.session.add(rows)

    def _workspace(self, gen: Generation) -> tuple[int, str]:
        """The workspace's best of N and claims policy, read once per workspace and run."""
        ws = gen.workspace_id
        if ws not in self._workspaces:
            row = Workspace.objects.filter(pk=ws).values_list("candidates", "claims_policy").first()
            self._workspaces[ws] = (int(row[0] or 1), str(row[1] or "cut")) if row else (1, "cut")
        return self._workspaces[ws]

    def _best_of(self, gen: Generation) -> int:
        """The workspace's best of N (1..8), or the generation's own."""
        return max(1, min(int(gen.sampling.get("candidates") or 0) or self._workspace(gen)[0], 8))

    def _cuts(self, gen: Generation) -> bool:
        """Whether the workspace takes sentences with unsupported claims out ("cut")."""
        return self._workspace(gen)[1] == "cut"

    def _slots_of(self, gen: Generation) -> list[dict[str, Any]] | None:
        slots = ((gen.template_version.data or {}).get("output") or {}).get("slots")
        return list(slots) if slots and self.slots else None

    def _cost(self, gen: Generation) -> int:
        """Sequences a generation puts in the batch at once: its variants' candidates, or for a
        slot template every item's candidates (the scheduler caps it at the batch's size)."""
        k = self._best_of(gen)
        slots = self._slots_of(gen)
        if not slots:
            return gen.variants * k
        try:
            items = len(items_for(slots, gen.fields))
        except (TypeError, ValueError):
            items = len(slots)
        return gen.variants * items * max(k, self.item_candidates)

    def _job(self, gen: Generation, kind: str, adapter: str, tone_line: str) -> Job:
        data = gen.template_version.data or {}
        slots = self._slots_of(gen)
        candidates = self._best_of(gen)
        job = Job(gen=gen, kind=kind, adapter=adapter, tone_line=tone_line,
                  claimed_at=time.monotonic(), candidates=candidates, slots=slots,
                  title=str(data.get("title", "")))
        job.brief = choice.brief_of(gen)
        job.labels = {str(f.get("name")): str(f.get("label") or "") for f in data.get("fields") or []}
        if job.slots:
            job.brief_text = brief_block(data.get("fields") or [], gen.fields, gen.facts)
            job.examples = sample_items(data, job.slots)
            job.example_brief = sample_brief(data)
        return job

    def _start(self, job: Job, index: int, *, attempt: int) -> list[Any]:
        """The rows of a new attempt at variant ``index``."""
        fields = job.gen.fields
        unit = Unit(index=index, attempt=attempt,
                    items=items_for(job.slots, fields) if job.slots else [])
        job.units[index] = unit
        if unit.items:
            requests = [r for item in unit.items for r in self._item_requests(job, unit, item)]
        else:
            requests = [self._request(job, index, attempt=attempt, candidate=c)
                        for c in range(job.candidates)]
        unit.waiting |= {r.key for r in requests}
        return requests

    def _row_args(self, job: Job) -> dict[str, Any]:
        """What every row of a job shares: its sampling, and its priority in a step's prefill
        (interactive rows before bulk ones)."""
        s = job.gen.sampling
        return {"temperature": float(s.get("temperature", 0.8)), "top_p": float(s.get("top_p", 0.92)),
                "repetition_penalty": float(s.get("repetition_penalty", 1.15)),
                "priority": int(job.kind == scheduler.INTERACTIVE)}

    def _per_round(self, job: Job) -> int:
        """Candidates a slot item is written with in each round."""
        return max(job.candidates, self.item_candidates)

    def _request(self, job: Job, index: int, *, attempt: int, candidate: int = 0) -> Any:
        from copywriter.ml.engine import SeqRequest

        seed = (int(job.gen.sampling.get("seed", 0)) + index + SEED_STEP * attempt
                + CANDIDATE_STEP * candidate)
        # Of several candidates, the last starts with the product's name: one that names what
        # it sells is then among them (the scorer's hard filter wants it), as a slot item's
        # last round does.
        lead = job.brief.product if job.candidates > 1 and candidate == job.candidates - 1 else ""
        return SeqRequest(prompt=_with_line(job.gen.prompt, job.tone_line), adapter=job.adapter,
                          max_new_tokens=job.gen.max_new_tokens, seed=seed, answer=lead,
                          key=(job.gen.pk, index, attempt, LONG, candidate), **self._row_args(job))

    def _item_requests(self, job: Job, unit: Unit, item: Item) -> list[Any]:
        from copywriter.ml.engine import SeqRequest

        fields = job.gen.fields
        prompt = _with_line(item_prompt(item, template_title=job.title, brief=job.brief_text,
                                        fields=fields, examples=job.examples,
                                        product=job.brief.product), job.tone_line)
        per_round = self._per_round(job)
        first = unit.rounds.get(item.number, 0) * per_round
        base = (int(job.gen.sampling.get("seed", 0)) + unit.index + SEED_STEP * unit.attempt
                + ITEM_STEP * (item.number + 1))
        budget = min(item_budget(item.slot, fields), job.gen.max_new_tokens)
        keyword = asks_keyword(item, fields)
        phrase = must_carry(item, fields, job.brief.product)
        if phrase and first:
            # after a round that left out the search term (or the product's name), the
            # candidates start with it
            answer = keyword_start(item, keyword) if keyword else phrase
        elif (first and unit.rounds.get(item.number, 0) == self.item_rounds
              and fits_product(item, fields, job.brief.product)):
            # the last round of an item no candidate has passed yet starts with the product's
            # name: a line that names what it sells rather than an empty place
            answer = job.brief.product
        else:
            answer = ""
        return [SeqRequest(prompt=prompt, adapter=job.adapter, max_new_tokens=budget,
                           one_line=True, seed=base + CANDIDATE_STEP * c, answer=answer,
                           key=(job.gen.pk, unit.index, unit.attempt, item.number, c),
                           **self._row_args(job))
                for c in range(first, first + per_round)]

    # -- choosing, review and storing ----------------------------------------------------------
    def _settle(self, finished: list[Any]) -> None:
        """Take in the rows that finished at this step: choose slot items, write items again,
        and queue the variants whose rows are all in for their review (``_review_due``)."""
        touched: dict[tuple[int, int], Unit] = {}
        for r in finished:
            pk, index, attempt = r.key[0], r.key[1], r.key[2]
            job = self.jobs.get(pk)
            unit = job.units.get(index) if job is not None else None
            if job is None or unit is None or unit.attempt != attempt or r.key not in unit.waiting:
                continue  # a cancelled job's, or a superseded attempt's row
            unit.waiting.discard(r.key)
            unit.got.setdefault(r.key[3], []).append(r)
            unit.tokens += r.tokens
            job.tokens += r.tokens
            touched[(pk, index)] = unit
        more: list[Any] = []
        ready: list[tuple[Job, Unit]] = []
        for (pk, _), unit in touched.items():
            job = self.jobs[pk]
            for item in unit.items:
                if item.number not in unit.chosen and not unit.item_waiting(item.number):
                    more += self._decide_item(job, unit, item)
            if unit.ready:
                ready.append((job, unit))
        if more:
            self._add_live(more)
        now = time.monotonic()
        self.to_review += [(job, unit, now) for job, unit in ready]

    def _review_due(self, *, drain: bool) -> int:
        """Review the variants that are ready: every interactive one at once; bulk ones a group
        at a time (``BULK_REVIEW_GROUP``, or fewer once the oldest waited ``BULK_REVIEW_WAIT``):
        a group costs much less than its variants one by one, and a group at most holds the
        loop, and a new request's first token, for a fraction of a second (all of a static
        batch's variants at once held it for seconds); all of them when the batch has nothing
        else to do."""
        due = [x for x in self.to_review
               if self.jobs.get(x[0].gen.pk) is x[0] and x[0].units.get(x[1].index) is x[1]]
        if drain:
            now, self.to_review = due, []
        else:
            now = [x for x in due if x[0].kind == scheduler.INTERACTIVE]
            bulk = [x for x in due if x[0].kind != scheduler.INTERACTIVE]
            if bulk and (len(bulk) >= BULK_REVIEW_GROUP
                         or time.monotonic() - bulk[0][2] >= BULK_REVIEW_WAIT):
                now += bulk[:BULK_REVIEW_GROUP]
                bulk = bulk[BULK_REVIEW_GROUP:]
            self.to_review = bulk
        return self._review([(job, unit) for job, unit, _ in now]) if now else 0

    def _decide_item(self, job: Job, unit: Unit, item: Item) -> list[Any]:
        """Choose this item from its candidates, or write it again, or give up on it."""
        results = unit.got.get(item.number, [])
        others = [t for n, t in sorted(unit.chosen.items()) if t]
        fields = job.gen.fields
        phrase = must_carry(item, fields, job.brief.product)
        keep = _keeps(job, item)
        scored = []
        for r in results:
            raw = read_item(r.text, item.slot, job.field_labels, keep)
            if r.finish_reason == "length":  # out of tokens mid-phrase: its complete part only
                raw = complete_part(raw)
            text = fit(raw, item.slot, fields)
            s = choice.score_item(text, r.text, brief=job.brief, logprob=r.logprob, tokens=r.tokens,
                                  others=others, first=item.n == 0,
                                  examples=job.examples.get(str(item.slot["name"]), ()),
                                  example_brief=job.example_brief, slot=item.slot)
            scored.append((s.key(), text, s))
        scored.sort(key=lambda x: x[0])
        if phrase:
            # The item asked for the search term (or the product's name) carries it: the best
            # candidate that does, or another round, whose candidates start with it
            # (``_item_requests``); out of rounds, the best one without it.
            def carries(x: Any) -> bool:
                return not x[2].failed and x[1] is not None and contains(x[1], phrase)

            if any(carries(x) for x in scored):
                scored.sort(key=lambda x: not carries(x))  # stable: best first within each
            elif any(not x[2].failed for x in scored) and self._rounds_left(unit, item):
                return self._again(job, unit, item)
        best = scored[0] if scored else None
        if best is not None and not best[2].failed:
            unit.chosen[item.number] = best[1]
            unit.why[item.number] = {"candidates": len(results), **best[2].as_dict()}
            return []
        if self._rounds_left(unit, item):
            return self._again(job, unit, item)
        # Out of rounds. A near-copy of another item is still a valid item; anything else
        # (over its limit, a placeholder, an echo) is never shown: the item stays empty.
        # Of near-copies, the least like the others; never the same item twice.
        usable = sorted((x for x in scored if x[1] is not None
                         and set(x[2].failed) <= {"near-copy of another item"}
                         and x[1].lower() not in {o.lower() for o in others}),
                        key=lambda x: x[2].parts.get("distinct", 0.0), reverse=True)
        unit.chosen[item.number] = usable[0][1] if usable else None
        unit.why[item.number] = {"candidates": len(results),
                                 **(usable[0][2] if usable else best[2] if best else
                                    choice.Scored(failed=["nothing written"], score=0.0)).as_dict()}
        if not usable and best is not None and best[1]:
            unit.why[item.number]["rejected"] = best[1]  # the best line not shown, and why
        return []

    def _rounds_left(self, unit: Unit, item: Item) -> bool:
        return unit.rounds.get(item.number, 0) < self.item_rounds

    def _again(self, job: Job, unit: Unit, item: Item) -> list[Any]:
        """Another round of candidates for this item."""
        unit.rounds[item.number] = unit.rounds.get(item.number, 0) + 1
        requests = self._item_requests(job, unit, item)
        unit.waiting |= {r.key for r in requests}
        return requests

    def _candidates(self, job: Job, unit: Unit) -> list[Kept]:
        if unit.items:
            items, missing = unit.chosen_items()
            empty = [unit.why.get(i.number) or {} for i in unit.items if not unit.chosen.get(i.number)]
            why = {"items": {str(n): unit.why.get(n) for n in sorted(unit.why)},
                   "missing": missing,
                   # what the page says of each empty place: why no line was shown, and the
                   # best line that was not (the marketer may fix it by hand)
                   "left_empty": [{"item": name, "failed": w.get("failed", []),
                                   "rejected": w.get("rejected", "")}
                                  for w, name in zip(empty, missing, strict=True)],
                   "candidates_per_item": self._per_round(job)}
            return [Kept(text=render_items(job.slots or [], items), tokens=unit.tokens,
                         finish_reason="stop", slots=items, choice=why)]
        results = sorted(unit.got.get(LONG, []), key=lambda r: r.key[4])
        kept = []
        for r in results:
            text, why = r.text, {"logprob": r.logprob}
            if self._cuts(job.gen):
                text, filled = fill_blanks(r.text, job.gen.fields, job.labels)
                cut = cut_unsupported(text, support=job.brief.support, banned=job.brief.banned,
                                      product=job.brief.product)
                text = cut.text
                why |= cut.as_dict() | ({"filled": filled} if filled else {})
            kept.append(Kept(text=text, tokens=r.tokens, finish_reason=r.finish_reason, choice=why))
        return kept

    def _review(self, ready: list[tuple[Job, Unit]]) -> int:
        """Run the review stages over every candidate of the variants that are ready, keep the
        best candidate of each (``choice``), then rewrite or settle it."""
        groups = [(job, unit, self._candidates(job, unit)) for job, unit in ready]
        drafts = [Draft(key=(job.gen.pk, unit.index), generation=job.gen, text=k.text,
                        tokens=k.tokens, finish_reason=k.finish_reason, attempt=unit.attempt)
                  for job, unit, kept in groups for k in kept]
        verdicts: dict[str, list[Verdict]] = {}
        for stage in self.stages:
            started = time.monotonic()
            verdicts[stage.name] = stage.review(drafts)
            spent = (time.monotonic() - started) / max(1, len(drafts))
            for d in drafts:
                self.jobs[d.key[0]].review_seconds += spent
        again: list[Any] = []
        done: list[int] = []
        i = 0
        for job, unit, kept in groups:
            mine = [{name: v[i + j] for name, v in verdicts.items()} for j in range(len(kept))]
            i += len(kept)
            pick = self._pick(job, unit, kept, mine)
            index = unit.index
            job.attempts[index].append((kept[pick], mine[pick]))
            wants = [s for s in self.stages if mine[pick][s.name].rewrite
                     and unit.attempt < s.max_rewrites(job.gen)]
            if wants:
                again += self._start(job, index, attempt=unit.attempt + 1)
                continue
            job.units.pop(index, None)
            job.open.discard(index)
            if not job.open:
                done.append(job.gen.pk)
        if again:
            self._add_live(again)
        return self._store(done)

    def _pick(self, job: Job, unit: Unit, kept: list[Kept], verdicts: list[dict[str, Verdict]]) -> int:
        """Best of N (``choice``): the candidate to show, its breakdown stored with it."""
        if unit.items:
            return 0
        shown = [a[-1][0].text for i, a in job.attempts.items() if a and i != unit.index]
        scored = []
        for k, v in zip(kept, verdicts, strict=True):
            verdict_claims = v.get("claims")
            claims = (verdict_claims.report or {}) if verdict_claims is not None else {}
            stage_failures = [f"{name}: asks for a rewrite" for name, verdict in v.items()
                              if verdict.rewrite]
            scored.append(choice.score_text(
                k.text, brief=job.brief, logprob=float((k.choice or {}).get("logprob", 0.0)),
                tokens=k.tokens, finish_reason=k.finish_reason, stage_failures=stage_failures,
                shown=shown, unsupported=claims.get("unsupported") if claims else None))
        pick = min(range(len(kept)), key=lambda j: scored[j].key())
        cut = {k: v for k, v in (kept[pick].choice or {}).items()
               if k in ("taken_out", "refused", "filled")}
        kept[pick].choice = {"candidates": len(kept), "chosen": pick, **scored[pick].as_dict(),
                             "others": [s.as_dict() for j, s in enumerate(scored) if j != pick],
                             **cut}
        return pick

    def _add_live(self, requests: list[Any]) -> None:
        """Queue more rows for jobs that are still ours; a job cancelled meanwhile is dropped."""
        live = set(Generation.objects.filter(pk__in={r.key[0] for r in requests},
                                             status=Status.RUNNING, claimed_by=self.me)
                   .values_list("pk", flat=True))
        add = [r for r in requests if r.key[0] in live]
        for pk in {r.key[0] for r in requests} - live:
            self._drop(pk)  # cancelled meanwhile: no rewrite, store nothing
        if add:
            self.session.add(add)

    def _kept(self, attempts: list[tuple[Kept, dict[str, Verdict]]]) -> tuple[Kept, dict[str, Any]]:
        """The best attempt (every stage's rank, in stage order) and its reports."""
        def rank(a: tuple[Kept, dict[str, Verdict]]) -> tuple[tuple[float, ...], ...]:
            return tuple(a[1][s.name].rank for s in self.stages)

        result, verdicts = min(attempts, key=rank)
        reports = {s.name: s.final_report(verdicts[s.name], [a[1][s.name] for a in attempts])
                   for s in self.stages}
        return result, reports

    def _store(self, pks: list[int]) -> int:
        stored = []
        for pk in pks:
            job = self.jobs.pop(pk)
            rows, reports = [], {}
            for index in sorted(job.attempts):
                result, report = self._kept(job.attempts[index])
                rows.append(runner.Written(index=index, text=result.text, tokens=result.tokens,
                                           finish_reason=result.finish_reason, slots=result.slots,
                                           choice=result.choice))
                reports[index] = report
            now = time.monotonic()
            queued = (job.gen.started_at - job.gen.created_at).total_seconds() if job.gen.started_at else 0.0
            first = (job.first_token_at or now) - job.claimed_at
            timings = {"scheduler": "static" if self.static else "continuous", "class": job.kind,
                       "queue_seconds": round(queued, 2),
                       "first_token_seconds": round(queued + first, 2),
                       "done_seconds": round(queued + now - job.claimed_at, 2),
                       "tokens": job.tokens, "review_seconds": round(job.review_seconds, 2),
                       "rewrites": sum(len(a) - 1 for a in job.attempts.values()),
                       "candidates": job.candidates, "slots": bool(job.slots)}
            if runner.finish(pk, rows, self.me, timings, reports=reports):
                stored.append(pk)
        for stage in self.stages:
            stage.finished(stored)
        generations_finished(generation_ids=pks)
        if self.on_store is not None and pks:
            self.on_store(pks)
        return len(stored)

    def _drop(self, pk: int) -> None:
        job = self.jobs.pop(pk, None)
        if job is None:
            return
        self.session.cancel(self._keys(job))
        generations_finished(generation_ids=[pk])

    @staticmethod
    def _keys(job: Job) -> set[RowKey]:
        return {key for unit in job.units.values() for key in unit.waiting}

    # -- streaming, leases, cancellation ---------------------------------------------------------
    def _write_partial(self) -> None:
        texts: dict[tuple[int, int], tuple[str, int]] = {}
        writing = {r.key: r for r in self.session.partial()
                   if len(r.key) > 3 and r.key[0] in self.jobs}
        for job in self.jobs.values():
            for index, attempts in job.attempts.items():
                if attempts and index not in job.open:
                    result = self._kept(attempts)[0]
                    texts[(job.gen.pk, index)] = (result.text, result.tokens)
            for index, unit in job.units.items():
                if unit.items:  # the items chosen so far, and the next one as it is written
                    so_far, _ = unit.chosen_items()
                    line = self._writing_item(job, unit, writing)
                    if line is not None:
                        so_far.setdefault(line[0], []).append(line[1])
                    if so_far:
                        texts[(job.gen.pk, index)] = (render_items(job.slots or [], so_far),
                                                      unit.tokens)
        for key, r in writing.items():
            if key[3] == LONG and key[4] == 0:
                texts[(key[0], key[1])] = (r.text, r.tokens)
        live = runner.write_partial(set(self.jobs), texts, self.me)
        for pk in [pk for pk in self.jobs if pk not in live]:
            self._drop(pk)  # cancelled, or taken over after our lease ran out

    def _writing_item(self, job: Job, unit: Unit, writing: dict[Any, Any]) -> tuple[str, str] | None:
        """The first item not chosen yet, as the first candidate of its latest round writes it
        (slot name, text so far): a slot variant shows its words while they are written, not
        only once its items are chosen. The chosen item (the best candidate) replaces it."""
        item = next((i for i in unit.items if i.number not in unit.chosen), None)
        if item is None:
            return None
        per_round = self._per_round(job)
        least = unit.rounds.get(item.number, 0) * per_round
        mine = [r for r in unit.got.get(item.number, []) if r.key[4] >= least]
        row = (job.gen.pk, unit.index, unit.attempt, item.number)
        mine += [writing[key] for key in (row + (c,) for c in range(least, least + per_round))
                 if key in writing]
        if not mine:
            return None
        text = read_item(min(mine, key=lambda r: r.key[4]).text, item.slot, job.field_labels,
                         _keeps(job, item))
        return (str(item.slot["name"]), text) if text else None

    def _release(self, error: str, *, final: bool) -> None:
        gens = [job.gen for job in self.jobs.values()]
        self.jobs.clear()
        self.later, self.to_review = [], []
        if gens:
            runner.release(gens, self.me, error, final=final)
            generations_finished(generation_ids=[g.pk for g in gens])
