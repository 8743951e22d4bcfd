"""The worker pipeline on the real engine (tiny random model, random adapters): a job that joins
a running batch mid-way, and the jobs it joins, each write exactly what they write alone."""

from __future__ import annotations

import pytest

from copywriter.generation import runner
from copywriter.generation.models import Generation, Status
from copywriter.generation.review import Verdict
from copywriter.generation.services import generation_create
from copywriter.ml.engine import SeqRequest
from copywriter.pipeline.worker import Pipeline
from tests.support.templates import GOOD


class Accept:
    name = "originality"

    def max_rewrites(self, generation):
        return 0

    def review(self, drafts):
        return [Verdict(report=None) for _ in drafts]

    def final_report(self, kept, attempts):
        return None

    def finished(self, generation_ids):
        pass


class JoinsAtStep:
    """The engine, creating one more job after the running batch's ``step``-th decode step."""

    def __init__(self, engine, step, make):
        self.engine, self.at, self.make = engine, step, make
        self.late: list[Generation] = []
        self.steps = 0

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def session(self, *, system):
        session = self.engine.session(system=system)
        real = session.step

        def step():
            out = real()
            self.steps += 1
            if self.steps == self.at:
                self.late.append(self.make())
            return out

        session.step = step
        return session


def _alone(engine, gen: Generation, index: int) -> str:
    s = gen.sampling
    request = SeqRequest(prompt=gen.prompt, adapter=runner.adapter_for(gen.tone)[0],
                         max_new_tokens=gen.max_new_tokens,
                         temperature=float(s.get("temperature", 0.8)), top_p=float(s.get("top_p", 0.92)),
                         repetition_penalty=float(s.get("repetition_penalty", 1.15)),
                         seed=int(s.get("seed", 0)) + index, key=0)
    return engine.generate([request])[0].text


@pytest.fixture
def one_thread():
    """One torch thread, whatever an earlier test's get_engine() left: with two, BLAS splits a
    matmul by batch size and a sampled near-tie can fall the other way 700 characters in (seen
    once in a full run, never alone)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("static", [False, True], ids=["continuous", "static"])
def test_a_job_joining_a_running_batch_and_the_jobs_it_joins_write_what_they_write_alone(
        cast, ad_template, sent, tiny_engine, static, monkeypatch, one_thread):
    monkeypatch.setattr("copywriter.pipeline.worker.CLAIM_EVERY", 0.0)  # look at every step
    gens = [generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone=tone,
                              variants=2, length="short") for tone in ("witty", "neutral")]

    def make() -> Generation:
        return generation_create(membership=cast.alice_m, template=ad_template, fields=GOOD,
                                 tone="bold", variants=1, length="short")

    engine = JoinsAtStep(tiny_engine, 3, make)
    pipeline = Pipeline(me="host:1", queue=gens[0].queue, engine=engine, stages=[Accept()],
                        capacity=8, bulk_share=0.75, max_seconds=60, static=static,
                        slots=False)  # whole prompts, compared with generate() alone
    assert pipeline.run(first_id=gens[0].pk) == 3
    assert engine.late, "the batch ended before the third step"
    for gen in [*gens, *engine.late]:
        gen.refresh_from_db()
        assert gen.status == Status.DONE, gen.error
        for v in gen.results.order_by("index"):
            assert v.text == _alone(tiny_engine, gen, v.index), (gen.tone, v.index)
    late = engine.late[0]
    if static:
        assert late.started_at >= max(g.finished_at for g in gens)  # waited for the batch
    else:
        assert late.started_at < max(g.finished_at for g in gens)  # joined it
