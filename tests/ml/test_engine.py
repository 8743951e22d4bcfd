"""The serving engine on a tiny random-weight model with the real architecture and tokenizer."""

from __future__ import annotations

import pytest
import torch

from copywriter.ml.engine import Engine, SeqRequest
from copywriter.ml.lora import BASE
from tests.support.engines import random_adapter


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return {name: random_adapter(tiny_model_dir, root / name, seed)
            for name, seed in (("witty", 1), ("bold", 2))}


@pytest.fixture(scope="module")
def engine(tiny_model_dir, adapters):
    e = Engine(str(tiny_model_dir), device="cpu")
    e.set_adapters(adapters)
    return e


def _peft_logits(tiny_model_dir, adapters, name, input_ids, mask):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = base if name == BASE else PeftModel.from_pretrained(base, adapters[name])
    model.eval()
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        return model(input_ids=input_ids, attention_mask=mask, position_ids=positions).logits


def test_stacked_mixed_batch_matches_peft_per_adapter(engine, tiny_model_dir, adapters):
    tok = engine.tokenizer
    texts = ["Write a tagline for Bean There.", "Describe a hiking boot.", "Hello there, friend."]
    names = ["witty", BASE, "bold"]
    enc = tok(texts, return_tensors="pt", padding=True)
    engine.stack.route(names)
    positions = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        mixed = engine.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                             position_ids=positions).logits
    for row, name in enumerate(names):
        ref = _peft_logits(tiny_model_dir, adapters, name, enc["input_ids"][row:row + 1],
                           enc["attention_mask"][row:row + 1])
        valid = enc["attention_mask"][row].bool()
        assert torch.allclose(mixed[row][valid], ref[0][valid], atol=1e-4), name
    # and the adapters really change the output (the comparison above is not vacuous)
    engine.stack.route([BASE] * 3)
    with torch.no_grad():
        plain = engine.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                             position_ids=positions).logits
    assert not torch.allclose(plain[0], mixed[0], atol=1e-2)


def test_mixed_batch_generates_what_each_request_generates_alone(engine):
    reqs = [SeqRequest(prompt=p, adapter=a, max_new_tokens=n, temperature=0.0, key=i)
            for i, (p, a, n) in enumerate([
                ("Write a tagline for a bakery.", "witty", 12),
                ("Two lines about running shoes for marathon training.", BASE, 20),
                ("Short product blurb: solar lantern.", "bold", 7),
                ("Write a tagline for a bakery.", "bold", 16)])]
    together = engine.generate(reqs)
    for req, result in zip(reqs, together, strict=True):
        alone = engine.generate([req])[0]
        assert alone.token_ids == result.token_ids, req.key
        assert result.tokens <= req.max_new_tokens
    # different adapters on the same prompt give different text
    assert together[0].token_ids != together[3].token_ids


def test_streaming_progress_grows_and_ends_with_the_final_text(engine):
    seen: list[list[str]] = []
    reqs = [SeqRequest(prompt="Describe a lamp.", adapter="witty", max_new_tokens=24,
                       temperature=0.9, seed=5, key=i) for i in range(3)]
    final = engine.generate(reqs, on_progress=lambda rs: seen.append([r.text for r in rs]),
                            progress_every=4)
    assert len(seen) >= 3
    for earlier, later in zip(seen, seen[1:], strict=False):
        for a, b in zip(earlier, later, strict=True):
            assert len(b) >= len(a)
    assert [r.text for r in final] == seen[-1] or all(r.finish_reason for r in final)


def test_seeded_sampling_is_reproducible_and_varies_by_seed(engine):
    def run(seed):
        return [r.token_ids for r in engine.generate(
            [SeqRequest(prompt="Name a coffee shop.", max_new_tokens=10, seed=seed,
                        temperature=1.0, key=0)])]
    assert run(3) == run(3)
    assert run(3) != run(4)


def test_unknown_adapter_is_refused(engine):
    with pytest.raises(KeyError):
        engine.generate([SeqRequest(prompt="x", adapter="nope", max_new_tokens=2)])


def test_repetition_penalty_reduces_repeats(engine):
    def repeats(penalty):
        r = engine.generate([SeqRequest(prompt="Say something.", max_new_tokens=40,
                                        temperature=0.0, repetition_penalty=penalty, key=0)])[0]
        return len(r.token_ids) - len(set(r.token_ids))
    assert repeats(1.8) <= repeats(1.0)


def test_long_generation_matches_transformers_generate(engine):
    """Past the KV cache's first growth (128 positions) the decode loop still equals HF's own."""
    prompt = "Write a long paragraph about a bakery that opens at dawn."
    ours = engine.generate([SeqRequest(prompt=prompt, max_new_tokens=170, temperature=0.0,
                                       repetition_penalty=1.0, ignore_eos=True, key=0)])[0]
    from copywriter.ml.engine import chat_prompt

    ids = engine.tokenizer(chat_prompt(engine.tokenizer, prompt), return_tensors="pt",
                           add_special_tokens=False)["input_ids"]
    engine.stack.route([BASE])
    with torch.no_grad():
        ref = engine.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                    max_new_tokens=170, min_new_tokens=170,
                                    pad_token_id=engine.tokenizer.eos_token_id)
    assert ours.tokens == 170
    assert ours.token_ids == ref[0, ids.shape[1]:].tolist()


def test_mixed_batch_with_rows_ending_at_different_times_past_cache_growth(engine):
    reqs = [SeqRequest(prompt=p, adapter=a, max_new_tokens=n, temperature=0.0, ignore_eos=True,
                       key=i)
            for i, (p, a, n) in enumerate([("Describe a lamp.", "witty", 150),
                                           ("A slogan for socks.", BASE, 40),
                                           ("Describe a lamp.", "bold", 140),
                                           ("Three words on tea.", "witty", 90)])]
    together = engine.generate(reqs)
    for req, result in zip(reqs, together, strict=True):
        assert result.tokens == req.max_new_tokens
        assert engine.generate([req])[0].token_ids == result.token_ids, req.key


def test_growing_kv_cache_layer_equals_concatenation():
    from copywriter.ml.engine import _new_cache

    torch.manual_seed(0)
    cache = _new_cache()
    ref_k = ref_v = torch.zeros(4, 3, 0, 8)
    for i, n in enumerate([30] + [1] * 140):  # crosses the first growth (30 + 128 positions)
        if i == 60:  # drop rows 1 and 2 of the batch, as the decode loop does
            keep = torch.tensor([0, 3])
            cache.batch_select_indices(keep)
            ref_k, ref_v = ref_k[keep], ref_v[keep]
        k = torch.randn(ref_k.shape[0], 3, n, 8)
        got_k, got_v = cache.update(k, k * 2 + 1, 0)
        ref_k, ref_v = torch.cat([ref_k, k], dim=-2), torch.cat([ref_v, k * 2 + 1], dim=-2)
        assert torch.equal(got_k, ref_k) and torch.equal(got_v, ref_v), i
    assert cache.get_seq_length() == 170


def test_reusing_the_shared_prompt_prefix_changes_nothing(engine):
    reqs = [SeqRequest(prompt=p, adapter=a, max_new_tokens=30, temperature=0.0, key=i)
            for i, (p, a) in enumerate([("Write a tagline for a bakery.", "witty"),
                                        ("A slogan for socks.", BASE),
                                        ("Describe a lamp in one long sentence, please.", "bold")])]
    engine.reuse_prefix = False
    try:
        plain = engine.generate(reqs)
    finally:
        engine.reuse_prefix = True
    reused = engine.generate(reqs)
    again = engine.generate(reqs)  # from the stored prefix states
    assert engine._prefix_kv, "the prefix states were not stored"
    assert [r.token_ids for r in plain] == [r.token_ids for r in reused]
    assert [r.token_ids for r in reused] == [r.token_ids for r in again]


BRIEF = ("Google search ad: write one headline.\n\nBrief:\nProduct: Fernway hiking boots\n"
         "Benefit: waterproof leather, a two-year warranty, free returns within 60 days, made in "
         "Portugal by a family workshop since 1952.\n\n")


def _shared_start_requests():
    rows = [(BRIEF + "Lead with the benefit. At most 30 characters.", "witty"),
            (BRIEF + "Lead with the product. At most 30 characters.", "witty"),
            (BRIEF + "Lead with the product. At most 30 characters.", "witty"),  # the same prompt
            (BRIEF + "Lead with the product. At most 30 characters.", "bold"),  # other adapter
            (BRIEF + "Lead with the offer.", BASE),
            (BRIEF + "Lead with a question.", BASE),
            ("A slogan for socks.", "witty")]  # shares nothing
    return [SeqRequest(prompt=p, adapter=a, max_new_tokens=12, temperature=0.0, ignore_eos=True,
                       key=i) for i, (p, a) in enumerate(rows)]


def test_stems_group_rows_of_one_adapter_that_share_a_long_start():
    from copywriter.ml.engine import _stems

    names = ["a", "a", "a", "b", "a", "b"]
    own = [[1, 2, 3, 4, 5], [1, 2, 3, 9], [7, 7, 7, 7], [1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2]]
    groups = {tuple(sorted(m)): n for m, n in _stems(names, own, 3)}
    # rows 0 and 4 are the same prompt: all but its last token; row 1 shares three with them
    assert groups == {(0, 1, 4): 3}
    assert {tuple(sorted(m)): n for m, n in _stems(names, own, 4)} == {(0, 4): 4}
    assert _stems(names, own, 6) == []  # nothing shares six tokens
    assert _stems(["a", "b"], [[1, 2, 3, 4], [1, 2, 3, 4]], 2) == []  # adapters never mix


def test_a_shared_prompt_start_is_prefilled_once_and_changes_nothing(engine, monkeypatch):
    reqs = _shared_start_requests()
    fed: list[tuple[int, int]] = []
    forward = engine._forward

    def counting(input_ids, *args, **kwargs):
        fed.append(tuple(input_ids.shape))
        return forward(input_ids, *args, **kwargs)

    monkeypatch.setattr(engine, "_forward", counting)
    engine.share_prefill = False
    try:
        with torch.inference_mode():
            plain_logits = engine._prefill(reqs, engine.session().system).logits
        plain = engine.generate(reqs)
    finally:
        engine.share_prefill = True
    (rows, width), = fed[:1]
    fed.clear()
    with torch.inference_mode():
        shared_logits = engine._prefill(reqs, engine.session().system).logits
    # the two rows with the same prompt are prefilled once; the stems (witty's two prompts',
    # base's two, the bold row's and the socks row's all but their last token), then every
    # distinct row's rest: a few tokens after the brief
    assert [f[0] for f in fed] == [4, rows - 1], fed
    assert fed[0][1] == width - 1 and fed[1][1] < 16, (fed, width)
    assert torch.allclose(shared_logits, plain_logits, atol=1e-4)
    shared = engine.generate(reqs)
    assert [r.token_ids for r in shared] == [r.token_ids for r in plain]
    assert shared[0].token_ids != shared[-1].token_ids  # the prompts do steer the rows


def test_rows_sharing_a_start_join_a_running_batch_as_they_write_alone(engine):
    reqs = _shared_start_requests()
    alone = {r.key: engine.generate([r])[0].token_ids for r in reqs}
    first = _greedy("Describe a lamp in one long sentence, please.", "bold", 20, "running")
    alone["running"] = engine.generate([first])[0].token_ids
    finished = _run_session(engine.session(), {0: [first], 3: reqs[:4], 5: reqs[4:]})
    assert {key: result.token_ids for key, (result, _) in finished.items()} == alone


# -- continuous batching: rows join and leave a running Session -------------------------------

def _greedy(prompt, adapter, n, key, *, ignore_eos=True):
    return SeqRequest(prompt=prompt, adapter=adapter, max_new_tokens=n, temperature=0.0,
                      ignore_eos=ignore_eos, key=key)


def _run_session(session, schedule):
    """Add each step's rows before that step; step until nothing is live, queued or scheduled.
    Returns {key: (result, step it finished at)}."""
    schedule = dict(schedule)
    finished = {}
    step = 0
    while schedule or session.live or session.pending:
        if step in schedule:
            session.add(schedule.pop(step))
        for result in session.step():
            finished[result.key] = (result, step)
        step += 1
    return finished


def test_rows_joining_at_different_steps_write_what_each_writes_alone(engine):
    schedule = {
        0: [_greedy("Write a tagline for a bakery.", "witty", 14, "a"),
            _greedy("A slogan for socks.", BASE, 9, "b", ignore_eos=False)],
        # joins a batch whose cache is wider than its own prompt: its states are padded
        3: [_greedy("Tea.", "bold", 12, "c"),
            _greedy("Describe a lamp.", "witty", 10, "d")],
        # a long prompt, wider than the running rows: they are the ones padded now
        5: [_greedy("Write three long sentences about a mountain cabin with a wood stove, a "
                    "lake view and a small library of old travel books.", "bold", 8, "e")],
    }
    requests = {r.key: r for rows in schedule.values() for r in rows}
    session = engine.session()
    session.add(schedule.pop(0))
    assert session.pending == 2 and session.live == 0
    assert session.step() == [] and session.live == 2
    assert sorted(session.started) == ["a", "b"]
    assert all(r.tokens == 1 and r.finish_reason == "" for r in session.partial())
    together = _run_session(session, {step - 1: rows for step, rows in schedule.items()})
    assert set(together) == set(requests)
    for key, request in requests.items():
        assert together[key][0].token_ids == engine.generate([request])[0].token_ids, key


def test_a_row_leaves_when_it_finishes_and_a_later_row_still_writes_what_it_writes_alone(engine):
    short = _greedy("Write a tagline for a bakery.", "witty", 3, "short")
    long = _greedy("Describe a hiking boot in detail.", "bold", 24, "long")
    late = _greedy("A slogan for socks.", BASE, 10, "late")
    later = _greedy("Name a coffee shop.", "witty", 6, "later")
    session = engine.session()
    session.add([short, long])
    for _ in range(2):
        assert session.step() == []
    done = session.step()  # the third token: the short row's budget
    assert [r.key for r in done] == ["short"] and done[0].finish_reason == "length"
    assert session.live == 1
    together = _run_session(session, {3: [late], 6: [later]})
    # prefilled at step 3 (its first token), a token a step after, one step waited while
    # "later" was prefilled at step 6: it leaves at the step it wrote its last token
    assert together["late"][1] == 3 + late.max_new_tokens
    for request, result in [(short, done[0])] + [(r, together[r.key][0])
                                                 for r in (long, late, later)]:
        assert result.token_ids == engine.generate([request])[0].token_ids, request.key


def test_cancel_drops_live_and_queued_rows_and_the_others_are_unchanged(engine):
    keep = [_greedy("Write a tagline for a bakery.", "witty", 12, "keep1"),
            _greedy("Describe a lamp.", BASE, 10, "keep2")]
    gone = _greedy("A slogan for socks.", "bold", 12, "gone")
    session = engine.session()
    session.add([keep[0], gone, keep[1]])
    session.step()
    session.step()
    session.add([_greedy("Tea.", "witty", 5, "queued")])
    session.cancel({"gone", "queued"})
    assert session.live == 2 and session.pending == 0
    assert sorted(r.key for r in session.partial()) == ["keep1", "keep2"]
    together = _run_session(session, {})
    assert set(together) == {"keep1", "keep2"}
    for request in keep:
        assert together[request.key][0].token_ids == engine.generate([request])[0].token_ids


def test_cache_width_stays_bounded_as_rows_come_and_go(engine):
    """A new row every other step, each living a few steps: some row is always live, so without
    dropping the columns nobody attends to any more the cache would widen at every step."""
    from copywriter.ml.engine import chat_prompt

    prompts = ["Tea.", "Write a tagline for a bakery.", "Describe a hiking boot in detail."]
    rows = [_greedy(prompts[i % 3], ("witty", BASE, "bold")[i % 3], 4 + i % 3, i)
            for i in range(40)]
    session = engine.session()
    results, widest = {}, 0
    for step in range(2 * len(rows) + 8):
        if step % 2 == 0 and step // 2 < len(rows):
            session.add([rows[step // 2]])
        results.update({r.key: r for r in session.step()})
        widest = max(widest, session.width)
    assert session.live == 0 and len(results) == len(rows)
    longest = max(len(engine.tokenizer(chat_prompt(engine.tokenizer, p),
                                       add_special_tokens=False)["input_ids"]) for p in prompts)
    assert widest <= longest + max(r.max_new_tokens for r in rows)
    for row in rows[-3:]:
        assert results[row.key].token_ids == engine.generate([row])[0].token_ids, row.key


def test_a_seeded_row_samples_the_same_text_alone_and_joining_a_batch(engine):
    def sampled(key, seed, adapter="witty"):
        return SeqRequest(prompt="Name a coffee shop.", adapter=adapter, max_new_tokens=16,
                          temperature=1.0, top_p=0.95, seed=seed, ignore_eos=True, key=key)

    row = sampled("row", 7)
    alone = engine.generate([row])[0].token_ids
    assert alone != engine.generate([sampled("row", 8)])[0].token_ids
    session = engine.session()
    together = _run_session(session, {
        0: [sampled("x", 1, BASE), _greedy("Describe a lamp.", "bold", 20, "y"), sampled("z", 7)],
        3: [row, sampled("w", 9, "bold")]})
    assert together["row"][0].token_ids == alone
    # and in a plain batch behind another row (the batch used to share its first row's seed)
    batch = engine.generate([sampled("w", 9, "bold"), row])
    assert batch[1].token_ids == alone


def test_a_failed_admission_keeps_its_rows_queued_and_the_batch_running(engine, monkeypatch):
    first = _greedy("Write a tagline for a bakery.", "witty", 8, "first")
    second = _greedy("A slogan for socks.", "bold", 6, "second")
    session = engine.session()
    session.add([first])
    session.step()
    session.add([second])

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(engine, "_prefill", out_of_memory)
    with pytest.raises(RuntimeError):
        session.step()
    assert session.pending == 1 and session.live == 1
    monkeypatch.undo()
    together = _run_session(session, {})
    for request in (first, second):
        assert together[request.key][0].token_ids == engine.generate([request])[0].token_ids


def test_parked_rows_resume_where_they_were_and_write_what_they_write_alone(engine):
    """Rows set aside for some steps (a bulk row while an interactive request runs) keep their
    state: resumed, they write exactly the tokens they write never parked; the other rows
    decode without them meanwhile, and cancelling a parked row drops it."""
    rows = [_greedy("Write a tagline for a bakery.", "witty", 24, "a"),
            _greedy("A slogan for socks.", BASE, 20, "b"),
            _greedy("Describe a lamp in one long sentence, please.", "bold", 22, "c"),
            _greedy("Name a tea shop.", "witty", 18, "gone")]
    alone = {r.key: engine.generate([r])[0].token_ids for r in rows}
    session = engine.session()
    session.add(rows)
    finished = {}
    for step in range(80):
        if step == 3:
            session.park({"a", "c", "gone"})
            assert session.active == 1 and session.live == 4 and session.parked() == {"a", "c", "gone"}
            written = session.written()
        if step == 6:
            assert session.written()["b"] > written["b"]  # b went on alone
            session.cancel({"gone"})
            session.resume({"c"})
            assert session.parked() == {"a"} and session.active == 2
        if step == 9:
            session.resume()
        for result in session.step():
            finished[result.key] = result.token_ids
        if not session.live and not session.pending:
            break
    assert "gone" not in finished
    assert finished == {k: v for k, v in alone.items() if k != "gone"}


def test_a_session_with_only_parked_rows_goes_on_with_them(engine):
    row = _greedy("Write a tagline for a bakery.", "witty", 12, "a")
    session = engine.session()
    session.add([row])
    session.step()
    session.park({"a"})
    results = _run_session(session, {})
    assert results["a"][0].token_ids == engine.generate([row])[0].token_ids


def test_a_step_that_admits_rows_writes_their_first_token_and_the_running_rows_wait(engine):
    running = _greedy("Describe a hiking boot in detail.", "bold", 20, "running")
    new = _greedy("A slogan for socks.", BASE, 6, "new")
    session = engine.session()
    session.add([running])
    for _ in range(3):
        session.step()
    before = {r.key: r.tokens for r in session.partial()}
    session.add([new])
    forwards = []  # the rows of each forward the step runs
    hook = engine.model.register_forward_hook(
        lambda module, args, kwargs, out: forwards.append(kwargs["input_ids"].shape[0]),
        with_kwargs=True)
    try:
        assert session.step() == []
    finally:
        hook.remove()
    after = {r.key: r.tokens for r in session.partial()}
    # the new row's prefill only: no forward ran the running row
    assert forwards and set(forwards) == {1} and session.started == ["new"]
    assert after == {"running": before["running"], "new": 1}
    session.step()  # a decode step: every row writes one token
    assert {r.key: r.tokens for r in session.partial()} == {"running": before["running"] + 1,
                                                            "new": 2}


def test_rows_queued_at_every_step_do_not_stall_the_running_ones(engine):
    running = _greedy("Describe a hiking boot in detail.", "bold", 16, "running")
    joiners = {step: [_greedy(f"Name a coffee shop number {step}.", "witty", 3, f"j{step}")]
               for step in range(1, 16)}
    session = engine.session()
    session.add([running])
    together = _run_session(session, joiners)
    # a step that prefills rows is followed by one that admits what is queued then and decodes:
    # token 1 at step 0, tokens 2..9 at steps 1, 3, .., 15 (steps 2, .., 14 prefill a joiner),
    # tokens 10..16 at steps 16..22; a row stalled at every step would leave at step 31
    assert together["running"][1] == 22
    for request in [running] + [r for rows in joiners.values() for r in rows]:
        assert together[request.key][0].token_ids == engine.generate([request])[0].token_ids


def test_a_step_prefills_what_fits_its_budget_higher_priority_first(engine, monkeypatch):
    monkeypatch.setattr(engine, "prefill_chars", 60)
    bulk = [_greedy(f"Describe product number {i} of our autumn catalogue.", "bold", 6, f"b{i}")
            for i in range(3)]
    urgent = SeqRequest(prompt="Write a headline for a tea shop's winter blend.", adapter="witty",
                        max_new_tokens=6, temperature=0.0, ignore_eos=True, key="urgent",
                        priority=1)
    same = [_greedy(bulk[0].prompt, "bold", 6, "copy-of-b0")]  # a prompt taken costs nothing
    session = engine.session()
    session.add(bulk + [urgent] + same)
    admitted = []
    finished = {}
    while session.live or session.pending:
        for r in session.step():
            finished[r.key] = r
        admitted.append(sorted(session.started))
    # each prompt is about 50 characters: one new prompt a step, the urgent row first, then the
    # bulk rows in the order they came (the copy of b0 with b0)
    assert [a for a in admitted if a][:4] == [["urgent"], ["b0", "copy-of-b0"], ["b1"], ["b2"]]
    for request in [*bulk, urgent, *same]:
        assert finished[request.key].token_ids == engine.generate([request])[0].token_ids


def test_a_row_given_its_answers_first_words_writes_on_from_them(engine):
    """``answer``: the words are placed after the chat markup, the row continues them and its
    text starts with them; the model reads them as its own (the same as a prompt ending so)."""
    plain = SeqRequest(prompt="Write a tagline for a bakery.", adapter="witty", max_new_tokens=8,
                       temperature=0.0, key=0)
    led = SeqRequest(prompt="Write a tagline for a bakery.", adapter="witty", max_new_tokens=8,
                     temperature=0.0, key=1, answer="Fresh bread")
    a, b = engine.generate([plain, led])
    assert b.text.startswith("Fresh bread") and not a.text.startswith("Fresh bread")
    assert b.tokens == len(b.token_ids) <= 8  # what it wrote, not the words it was given
    # the words count as written for the first-token draws of a batch and alone alike
    assert engine.generate([led])[0].token_ids == b.token_ids
    # the continuation is what the model writes after those words: the same tokens fed as the
    # end of the prompt's chat text, by hand
    from copywriter.ml.engine import SYSTEM_PROMPT, chat_prompt

    text = chat_prompt(engine.tokenizer, led.prompt, SYSTEM_PROMPT) + led.answer
    ids = engine.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    engine.stack.route(["witty"])
    with torch.no_grad():
        logits = engine.model(input_ids=ids).logits[0, -1]
    # the first token is the greedy one after the given words (no repetition penalty yet)
    assert b.token_ids[0] == int(logits.argmax())
