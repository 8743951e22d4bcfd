"""Reading the trail: a workspace's events through the page's (and the API's) filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from copywriter.audit.models import AuditEvent

Q_MAX = 200


class FilterError(ValueError):
    """A filter the page cannot apply; the message says which and why."""


@dataclass(frozen=True)
class Filters:
    kind: str = ""  # "member" (every member.* action) or one action, "member.role_changed"
    actor: str = ""  # the actor's email as recorded ("system": no actor)
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    q: str = ""  # free text in the summary or the target's name

    def as_query(self) -> dict[str, str]:
        """The filters as URL parameters (for the pages' links and the export)."""
        values = {"kind": self.kind, "actor": self.actor, "q": self.q,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


def _day(value: str, name: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD).") from None


def parse_filters(params: dict[str, str]) -> Filters:
    """From query parameters (kind, actor, from, to, q); raises ``FilterError``."""
    f = Filters(kind=params.get("kind", "").strip()[:64], actor=params.get("actor", "").strip()[:254],
                date_from=_day(params.get("from", ""), "From"),
                date_to=_day(params.get("to", ""), "To"), q=params.get("q", "").strip()[:Q_MAX])
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise FilterError("The 'from' date is after the 'to' date.")
    if "\x00" in f.q + f.kind + f.actor:
        raise FilterError("The filters hold a NUL character.")
    return f


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def events_for_workspace(*, workspace_id: int, filters: Filters = Filters()) -> QuerySet[AuditEvent]:
    """Newest first; only this workspace's rows, whatever the filters say."""
    qs = AuditEvent.objects.filter(workspace_id=workspace_id)
    if filters.kind:
        qs = qs.filter(action=filters.kind) if "." in filters.kind else qs.filter(
            action__startswith=filters.kind + ".")
    if filters.actor == "system":
        qs = qs.filter(actor_label="")
    elif filters.actor:
        qs = qs.filter(actor_label__iexact=filters.actor)
    if filters.date_from:
        qs = qs.filter(created_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(created_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    if filters.q:
        qs = qs.filter(Q(summary__icontains=filters.q) | Q(target_label__icontains=filters.q))
    return qs.order_by("-created_at", "-pk")


def choices_for_workspace(*, workspace_id: int) -> tuple[list[str], list[str]]:
    """(kinds, actors) that occur in the workspace's trail, for the filter's lists."""
    rows = AuditEvent.objects.filter(workspace_id=workspace_id)
    actions = set(rows.values_list("action", flat=True).distinct())
    kinds = sorted({a.split(".", 1)[0] for a in actions} | actions)
    actors = sorted(set(rows.exclude(actor_label="").values_list("actor_label", flat=True)
                        .distinct()))
    return kinds, actors
