"""The worker path, top to bottom: claim -> engine -> review stages -> store -> tell bulk runs.

Continuous (iteration-level) batching: one engine session runs for as long as there is work.
Between two decode steps the worker claims queued rows that fit the free capacity
(``scheduler``: interactive first, bulk in what is left, workspaces in turns) and adds them to
the session, which prefills them and joins them to the running batch. A variant that finishes
leaves the batch at once and goes through the review stages; a variant a stage wants rewritten
joins the running batch again as a new row with a new seed. When every variant of a generation
is settled, the generation is stored and shown, and bulk runs hear about it, while the other
rows go on decoding.

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
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.bulk.services import generations_finished
from copywriter.generation import runner
from copywriter.generation.models import Generation, Status
from copywriter.generation.review import Draft, Stage, Verdict
from copywriter.pipeline import scheduler

log = logging.getLogger(__name__)
SEED_STEP = 7919  # a rewrite's seed: far from the seeds the first writing used
PARTIAL_EVERY = 0.7  # seconds between writes of growing texts (and lease renewals)
CLAIM_EVERY = 0.25  # seconds between looks at the queue while the batch runs


@dataclass
class Job:
    """One claimed generation while its variants are written and reviewed."""

    gen: Generation
    kind: str
    adapter: str
    claimed_at: float
    first_token_at: float | None = None
    open: set[int] = field(default_factory=set)  # variant indexes still writing or rewriting
    attempts: dict[int, list[tuple[Any, dict[str, Verdict]]]] = field(default_factory=dict)
    tokens: int = 0
    review_seconds: float = 0.0


class Pipeline:
    def __init__(self, *, me: str, queue: str, engine: Any, stages: list[Stage],
                 capacity: int, bulk_share: float, max_seconds: float, static: bool = False,
                 on_store: Callable[[list[int]], None] | None = None):
        """``static``: the scheduler before continuous batching, kept as the serving bench's
        baseline (``GENERATION_SCHEDULER=static``): claim a batch in arrival order, decode it to
        the end, review it, rewrite flagged variants in extra rounds, store, and only then look
        at the queue again."""
        self.me, self.queue, self.engine, self.stages = me, queue, engine, stages
        self.static = static
        self.on_store = on_store  # e.g. a command's progress line, after generations are stored
        self.held: list[Any] = []  # static: finished rows wait for the rest of their batch
        self.capacity = scheduler.Capacity(total=capacity, bulk_share=bulk_share)
        self.max_seconds = max_seconds
        self.jobs: dict[int, Job] = {}
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
                    break
                finished = self.session.step()
                self.steps += 1
                now = time.monotonic()
                for job in self.jobs.values():
                    if job.first_token_at is None and job.open:
                        job.first_token_at = now  # admitted rows wrote their first token this step
                if self.static:
                    self.held += finished
                    if not self.session.live and not self.session.pending:
                        finished, self.held = self.held, []
                    else:
                        finished = []
                if finished:
                    stored += self._settle(finished)
                if now - last_partial >= PARTIAL_EVERY:
                    self._write_partial()
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
    def _admit(self, first_id: int | None) -> bool:
        taken = scheduler.claim(me=self.me, queue=self.queue, capacity=self.capacity,
                                first_id=first_id, fifo=self.static)
        requests: list[Any] = []
        needed: dict[str, Path] = {}
        for gen, kind in taken:
            try:
                adapter, path = runner.adapter_for(gen.tone)
            except LookupError as exc:
                runner.fail(gen.pk, str(exc), permanent=True)
                self._uncount(gen, kind)
                generations_finished(generation_ids=[gen.pk])
                continue
            if path is not None and getattr(self.engine, "adapter_paths", {}).get(adapter) != path:
                needed[adapter] = path
            job = Job(gen=gen, kind=kind, adapter=adapter, claimed_at=time.monotonic())
            self.jobs[gen.pk] = job
            for index in range(gen.variants):
                job.open.add(index)
                job.attempts[index] = []
                requests.append(self._request(job, index, attempt=0))
        if needed:
            self.engine.ensure_adapters(needed)
        if requests:
            self.session.add(requests)
        return bool(taken)

    def _request(self, job: Job, index: int, *, attempt: int) -> Any:
        from copywriter.ml.engine import SeqRequest

        s = job.gen.sampling
        seed = int(s.get("seed", 0)) + index + SEED_STEP * attempt
        return SeqRequest(prompt=job.gen.prompt, adapter=job.adapter,
                          max_new_tokens=job.gen.max_new_tokens,
                          temperature=float(s.get("temperature", 0.8)),
                          top_p=float(s.get("top_p", 0.92)),
                          repetition_penalty=float(s.get("repetition_penalty", 1.15)),
                          seed=seed, key=(job.gen.pk, index, attempt))

    def _uncount(self, gen: Generation, kind: str) -> None:
        self.capacity.running[kind] = self.capacity.running.get(kind, 0) - gen.variants
        self.capacity.by_workspace[gen.workspace_id] = (
            self.capacity.by_workspace.get(gen.workspace_id, 0) - gen.variants)

    # -- review and storing --------------------------------------------------------------------
    def _settle(self, finished: list[Any]) -> int:
        """Review the rows that finished at this step; rewrite, or store what is settled."""
        drafts = [Draft(key=(r.key[0], r.key[1]), generation=self.jobs[r.key[0]].gen, text=r.text,
                        tokens=r.tokens, finish_reason=r.finish_reason, attempt=r.key[2])
                  for r in finished if r.key[0] in self.jobs]
        verdicts: dict[str, list[Verdict]] = {}
        for stage in self.stages:
            started = time.monotonic()
            verdicts[stage.name] = stage.review(drafts)
            spent = (time.monotonic() - started) / max(1, len(drafts))
            for d in drafts:
                self.jobs[d.key[0]].review_seconds += spent
        again: list[Any] = []
        done: list[int] = []
        for i, (draft, result) in enumerate(zip(drafts, [r for r in finished if r.key[0] in self.jobs],
                                                strict=True)):
            job = self.jobs[draft.key[0]]
            index = draft.key[1]
            job.tokens += draft.tokens
            mine = {name: v[i] for name, v in verdicts.items()}
            job.attempts[index].append((result, mine))
            wants = [s for s in self.stages if mine[s.name].rewrite
                     and draft.attempt < s.max_rewrites(job.gen)]
            if wants:
                again.append(self._request(job, index, attempt=draft.attempt + 1))
                continue
            job.open.discard(index)
            if not job.open:
                done.append(job.gen.pk)
        if again:
            live = set(Generation.objects.filter(pk__in={r.key[0] for r in again},
                                                 status=Status.RUNNING, claimed_by=self.me)
                       .values_list("pk", flat=True))
            for request in again:
                if request.key[0] in live:
                    self.session.add([request])
                else:  # cancelled meanwhile: no rewrite, store nothing
                    self._drop(request.key[0])
        return self._store(done)

    def _kept(self, attempts: list[tuple[Any, dict[str, Verdict]]]) -> tuple[Any, dict[str, Any]]:
        """The best attempt (every stage's rank, in stage order) and its reports."""
        def rank(a: tuple[Any, dict[str, Verdict]]) -> tuple[tuple[float, ...], ...]:
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
                                           finish_reason=result.finish_reason))
                reports[index] = report
            now = time.monotonic()
            queued = (job.gen.started_at - job.gen.created_at).total_seconds() if job.gen.started_at else 0.0
            first = (job.first_token_at or now) - job.claimed_at
            timings = {"scheduler": "static" if self.static else "continuous", "class": job.kind,
                       "queue_seconds": round(queued, 2),
                       "first_token_seconds": round(queued + first, 2),
                       "done_seconds": round(queued + now - job.claimed_at, 2),
                       "tokens": job.tokens, "review_seconds": round(job.review_seconds, 2),
                       "rewrites": sum(len(a) - 1 for a in job.attempts.values())}
            if runner.finish(pk, rows, self.me, timings, reports=reports):
                stored.append(pk)
            self._uncount(job.gen, job.kind)
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
        self.session.cancel({k for k in self._keys(job)})
        self._uncount(job.gen, job.kind)
        generations_finished(generation_ids=[pk])

    @staticmethod
    def _keys(job: Job) -> set[tuple[int, int, int]]:
        return {(job.gen.pk, index, len(job.attempts[index])) for index in job.open}

    # -- streaming, leases, cancellation ---------------------------------------------------------
    def _write_partial(self) -> None:
        texts: dict[tuple[int, int], tuple[str, int]] = {}
        for job in self.jobs.values():
            for index, attempts in job.attempts.items():
                if attempts and index not in job.open:
                    result = self._kept(attempts)[0]
                    texts[(job.gen.pk, index)] = (result.text, result.tokens)
        for r in self.session.partial():
            texts[(r.key[0], r.key[1])] = (r.text, r.tokens)
        live = runner.write_partial(set(self.jobs), texts, self.me)
        for pk in [pk for pk in self.jobs if pk not in live]:
            self._drop(pk)  # cancelled, or taken over after our lease ran out

    def _release(self, error: str, *, final: bool) -> None:
        gens = [job.gen for job in self.jobs.values()]
        self.jobs.clear()
        if gens:
            runner.release(gens, self.me, error, final=final)
            generations_finished(generation_ids=[g.pk for g in gens])
