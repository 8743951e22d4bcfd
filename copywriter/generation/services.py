from __future__ import annotations

import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from copywriter.catalog.models import Template
from copywriter.catalog.schema import PromptError
from copywriter.celery import app
from copywriter.core.counters import bump, seconds_to_midnight, seconds_to_next_minute
from copywriter.core.errors import UserError
from copywriter.documents.models import Document, VersionKind
from copywriter.documents.services import document_create
from copywriter.facts import services as facts_services
from copywriter.generation.models import Generation, Status, Variant
from copywriter.generation.tones import LENGTHS, TONES, VOICE_PREFIX
from copywriter.voices.models import BrandVoice
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership


class GenerationError(UserError):
    """A generation that cannot be made: bad inputs (permanent) or a spent rate or quota
    (transient, 429, with ``retry_after``)."""


def tone_choices(*, workspace_id: int) -> list[tuple[str, str]]:
    choices = [(key, f"{key.title()}: {label}") for key, label in TONES.items()]
    for voice in BrandVoice.objects.filter(workspace_id=workspace_id, status="ready"):
        choices.append((f"{VOICE_PREFIX}{voice.pk}", f"Brand voice: {voice.name}"))
    return choices


@dataclass(frozen=True)
class _Scope:
    """One budget: the workspace's, its user's (across all their workspaces), the deployment's."""

    key: str
    per_minute: int
    per_day: int
    minute_message: str
    day_message: str


def _scopes(*, workspace_id: int, user_id: int | None) -> list[_Scope]:
    """Per workspace alone, free workspaces multiplied the limits (one user with 21 workspaces
    got 6x the per-minute rate); per user and per deployment they hold however many workspaces
    there are. The API acts as the token's maker, so it spends the same budgets."""
    day = "The quota resets at midnight UTC."
    scopes = [_Scope(f"{workspace_id}", settings.GENERATION_RATE_PER_MINUTE,
                     settings.GENERATION_DAILY_QUOTA,
                     "Too many generations this minute for this workspace; wait a minute and try "
                     "again.",
                     f"This workspace used its {settings.GENERATION_DAILY_QUOTA} generations for "
                     f"today. {day}")]
    if user_id is not None:
        scopes.append(_Scope(f"u{user_id}", settings.GENERATION_USER_RATE_PER_MINUTE,
                             settings.GENERATION_USER_DAILY_QUOTA,
                             "Too many generations this minute from your account (all your "
                             "workspaces together); wait a minute and try again.",
                             f"Your account used its {settings.GENERATION_USER_DAILY_QUOTA} "
                             f"generations for today, across all your workspaces. {day}"))
    scopes.append(_Scope("site", settings.GENERATION_SITE_RATE_PER_MINUTE,
                         settings.GENERATION_SITE_DAILY_QUOTA,
                         "The service is at its generation limit for this minute (all users "
                         "together); wait a minute and try again.",
                         f"The service reached its limit of {settings.GENERATION_SITE_DAILY_QUOTA} "
                         f"generations for today (all users together). {day}"))
    return scopes


def _day_key(scope: str) -> str:
    return f"gen-day:{scope}:{timezone.now():%Y%m%d}"


def daily_quota_left(*, workspace_id: int, user_id: int | None = None) -> int:
    """What may still be generated today: the smallest of the workspace's, the user's (when
    given) and the deployment's quotas."""
    scopes = _scopes(workspace_id=workspace_id, user_id=user_id)
    used = cache.get_many([_day_key(sc.key) for sc in scopes])
    return max(0, min(sc.per_day - int(used.get(_day_key(sc.key), 0)) for sc in scopes))


def _check_limits(membership: Membership, *, per_minute: bool = True) -> None:
    """Rates (per minute) and daily quotas of the workspace, its user and the deployment,
    counted in the shared cache. Bulk runs pace themselves (a window of rows in flight), so they
    skip the per-minute rates only. A refused request spends nothing: the minute counters it
    took are given back."""
    scopes = _scopes(workspace_id=membership.workspace_id, user_id=membership.user_id)
    used = cache.get_many([_day_key(sc.key) for sc in scopes])
    for sc in scopes:
        if int(used.get(_day_key(sc.key), 0)) >= sc.per_day:
            raise GenerationError(sc.day_message, permanent=False, status=429,
                                  retry_after=seconds_to_midnight())
    if per_minute:
        taken: list[str] = []
        for sc in scopes:
            key = f"gen-rate:{sc.key}:{timezone.now():%Y%m%d%H%M}"
            taken.append(key)
            if bump(key, timeout=120) > sc.per_minute:
                for k in taken:
                    _give_back(k)
                raise GenerationError(sc.minute_message, permanent=False, status=429,
                                      retry_after=seconds_to_next_minute())
    for sc in scopes:
        bump(_day_key(sc.key), timeout=2 * 86400)


def _give_back(key: str) -> None:
    with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
        cache.decr(key)


def generation_create(*, membership: Membership, template: Template, fields: dict[str, Any],
                      tone: str, variants: int | None = None, length: str = "medium",
                      retry_of: Generation | None = None, per_minute_limit: bool = True,
                      enqueue_job: bool = True, fact_sheets: Sequence[int | str] = (),
                      facts_snapshot: Mapping[str, Any] | None = None) -> Generation:
    """Validate everything first; only a valid request is stored and enqueued.

    ``fact_sheets``: ids of the workspace's fact sheets (digit strings too, as forms send them);
    their latest versions are stored as ``Generation.facts`` and the writer is given their facts
    ahead of the template's prompt.
    ``facts_snapshot``: a stored snapshot to use as is instead (a retry keeps its facts).

    ``enqueue_job=False`` stores it queued without publishing a task: the caller runs it in
    this process (``generate --local``, ``generate_bulk --local``) or publishes it later."""
    require_writer(membership, GenerationError(
        "Viewers cannot generate copy; ask an owner for the editor role.", status=403))
    spec = template.spec()
    clean = {f.name: fields.get(f.name, "") for f in spec.fields}
    for name, value in clean.items():
        if value is not None and not isinstance(value, str | int):
            raise GenerationError("Field values must be text.", field_errors={name: "Must be text."})
    clean = {k: ("" if v is None else str(v)) for k, v in clean.items()}
    errors = spec.validate_values(clean)
    unknown = sorted(set(fields) - set(clean))
    if unknown:
        errors["__all__"] = f"Unknown fields for this template: {', '.join(unknown)}."
    if errors:
        raise GenerationError("Some fields need attention.", field_errors=errors)
    valid_tones = {key for key, _ in tone_choices(workspace_id=membership.workspace_id)}
    if tone not in valid_tones:
        raise GenerationError(f"Unknown tone {tone!r}. Choose one of: "
                              f"{', '.join(sorted(valid_tones))}.",
                              field_errors={"tone": "Choose a tone from the list."})
    n = spec.variants if variants is None else variants
    if not isinstance(n, int) or not 1 <= n <= settings.GENERATION_MAX_VARIANTS:
        raise GenerationError(f"Variants must be between 1 and {settings.GENERATION_MAX_VARIANTS}.",
                              field_errors={"variants": "Out of range."})
    if length not in LENGTHS:
        raise GenerationError(f"Length must be one of {', '.join(LENGTHS)}.",
                              field_errors={"length": "Choose short, medium or long."})
    # The template's own word range bounds the budget too (~1.6 tokens a word).
    max_tokens = min(LENGTHS[length], settings.GENERATION_MAX_NEW_TOKENS,
                     max(48, int(spec.max_words * 1.6) + 16))
    try:
        prompt = spec.render(clean)
    except PromptError as exc:
        raise GenerationError(f"These values do not fit the template's prompt: {exc}.") from None
    if template.current is None:
        raise GenerationError("This template has no published version.", status=404)
    facts, prompt = _with_facts(membership.workspace_id, prompt, fact_sheets, facts_snapshot)
    _check_limits(membership, per_minute=per_minute_limit)
    sampling = {"temperature": 0.8, "top_p": 0.92, "repetition_penalty": 1.15,
                **spec.sampling, "seed": random.randrange(1, 2**31)}
    with transaction.atomic():
        gen = Generation.objects.create(
            workspace=membership.workspace, created_by=membership.user, template=template,
            template_version=template.current, fields=clean, prompt=prompt, tone=tone,
            variants=n, max_new_tokens=max_tokens, sampling=sampling,
            queue=settings.GENERATION_QUEUE, retry_of=retry_of, facts=facts)
        Variant.objects.bulk_create([Variant(generation=gen, index=i) for i in range(n)])
        if enqueue_job:
            enqueue(gen)
    return gen


def _with_facts(workspace_id: int, prompt: str, sheet_ids: Sequence[int | str],
                snap: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The facts snapshot to store and the prompt with its facts block. The block goes before
    the template's prompt, not after: templates end with what to write and how long, and the
    model follows best what it read last; the facts are context, like the brief."""
    if snap is None:
        if isinstance(sheet_ids, str | bytes) or not isinstance(sheet_ids, Sequence):
            raise GenerationError("fact_sheets must be a list of fact sheet ids.",
                                  field_errors={"fact_sheets": "Not a list."})
        try:
            versions = facts_services.versions_for_generation(workspace_id=workspace_id,
                                                              sheet_ids=sheet_ids)
        except facts_services.FactsError as exc:
            raise GenerationError(exc.message, status=exc.status, permanent=exc.permanent,
                                  field_errors=exc.field_errors) from None
        snap = facts_services.snapshot(versions)
    block = facts_services.prompt_block(dict(snap))
    return dict(snap), f"{block}\n\n{prompt}" if block else prompt


GENERATE_TASK = "generation.generate"


def enqueue(gen: Generation) -> None:
    """Publish the job by its task's name: the task belongs to the worker pipeline
    (``copywriter/pipeline/tasks.py``), above this app."""
    transaction.on_commit(lambda: app.send_task(GENERATE_TASK, args=[gen.pk], queue=gen.queue))


def generation_retry(*, membership: Membership, generation: Generation) -> Generation:
    """A failed (or any finished) job runs again as a new row with the same inputs."""
    return generation_create(membership=membership, template=generation.template,
                             fields=generation.fields, tone=generation.tone,
                             variants=generation.variants,
                             length=_length_for(generation.max_new_tokens),
                             retry_of=generation, facts_snapshot=generation.facts)


def _length_for(max_new_tokens: int) -> str:
    for name, tokens in LENGTHS.items():
        if max_new_tokens <= tokens:
            return name
    return "long"


def generation_cancel(*, membership: Membership, generation: Generation) -> None:
    require_writer(membership, GenerationError("Viewers cannot cancel generations.", status=403))
    Generation.objects.filter(pk=generation.pk, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.CANCELLED, finished_at=timezone.now())


def variant_rate(*, membership: Membership, variant: Variant, rating: int) -> Variant:
    require_writer(membership, GenerationError("Viewers cannot rate.", status=403))
    variant.rating = max(-1, min(1, rating))
    variant.save(update_fields=["rating"])
    return variant


def variant_to_document(*, membership: Membership, variant: Variant) -> Document:
    gen = variant.generation
    title = f"{gen.template.title} ({timezone.localtime(gen.created_at):%Y-%m-%d %H:%M})"
    return document_create(membership=membership, title=title, body=variant.text,
                           kind=VersionKind.GENERATION)

