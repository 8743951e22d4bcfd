"""Backup and restore of what people wrote: documents with every version (conflict copies
included), keyword lists, the workspace's own templates with every version, brand voices'
samples and reference texts, the workspaces' activity (audit) trail, the documents' review
states, review requests and comments with each workspace's workflow settings, house style
rules, and the workspaces and memberships they belong to, as one JSON file (gzip if it ends in
``.gz``). Not in it:
generations (re-created by generating again), API tokens (only their hashes are stored),
webhooks' signing secrets and delivery logs (a restored webhook keeps its URL, events and active
flag but has no secret, so it sends nothing until an owner rotates its secret: a backup file in
the wrong hands must not be able to sign messages that a CMS trusts), trained voice adapters (a
restored voice is a draft to train again) and the passages' embeddings
(``manage.py reindex_originality`` rebuilds them).

Rows are matched by natural keys, never by database ids, so a backup restores into an empty
database or into the same one, and restoring it twice adds nothing the second time:

- a user is their email; missing users are created with no usable password, marked as
  restored so that "Forgot password" serves them (``accounts.restored``);
- a workspace is its creation time and its creator's email (a rename keeps it the same);
- a document is its workspace, creation time and creator; a version is its document and
  number; a keyword list is its workspace and name;
- a template, a brand voice, a reference text and a webhook are their workspace, creation time
  and creator; a template version is its template and content hash;
- an activity event is its workspace, time, action and actor's email; it is restored with its
  original time and labels (its actor is linked when that email is one of the backup's users).

A document that already exists gains the versions it lacks; its current text moves to the
backup's only when the backup's head version is newer. Nothing is ever deleted or overwritten.

A backup file is input like any other: whoever wrote it may not be who restores it. So
``read`` inflates and parses at most ``RESTORE_MAX_BYTES`` and refuses nesting deeper than a
backup has, and ``validate`` checks every row against the web's own limits (field lengths,
``DOCUMENT_MAX_CHARS``, keyword, brand-voice and reference-text limits, template schema, roles,
emails, no NUL or control characters in one-line fields) before anything is written; a file
that fails is refused whole with the place of each problem. Memberships are how people reach a
workspace, so a file cannot hand them out: a workspace that already exists gains no members,
and an account that already exists joins a workspace only when the operator names its email
(``restore --add-existing-member EMAIL``); otherwise the workspace's owner invites them, and
the report lists each membership left out.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils.dateparse import parse_datetime

from copywriter.accounts.models import User
from copywriter.accounts.restored import mark_restored_without_password
from copywriter.audit.models import (
    ACTION_MAX,
    LABEL_MAX,
    SUMMARY_MAX,
    USER_AGENT_MAX,
    AuditEvent,
)
from copywriter.audit.services import DETAILS_MAX_CHARS
from copywriter.catalog.models import Template, TemplateVersion
from copywriter.catalog.schema import TemplateInvalid, parse_template
from copywriter.catalog.services import _upsert
from copywriter.core.errors import UserError
from copywriter.documents.models import Document, DocumentVersion, VersionKind
from copywriter.originality.models import ReferenceItem
from copywriter.originality.services import REFERENCE_MAX_CHARS
from copywriter.seo.keywords import KeywordError, parse_keywords
from copywriter.seo.models import KeywordList
from copywriter.seo.services import LIST_NAME_MAX
from copywriter.style.models import StyleRules
from copywriter.style.services import StyleError, clean_rules, rules_to_dict
from copywriter.style.services import as_rules as style_rules
from copywriter.voices.models import BrandVoice
from copywriter.voices.services import MAX_CHARS as VOICE_SAMPLE_MAX
from copywriter.voices.services import MAX_SAMPLES as VOICE_MAX_SAMPLES
from copywriter.webhooks.models import Event as WebhookEvent
from copywriter.webhooks.models import Webhook
from copywriter.webhooks.net import URL_MAX_CHARS as WEBHOOK_URL_MAX
from copywriter.workflow.models import (
    Approvers,
    Comment,
    Decision,
    DocumentState,
    ReviewRequest,
    State,
    WorkflowSettings,
)
from copywriter.workflow.services import COMMENT_MAX_CHARS, QUOTE_MAX_CHARS
from copywriter.workspaces.models import Membership, Role, Workspace

FORMAT = "copywriter-backup"
VERSION = 1


class BackupError(UserError):
    """A backup file that cannot be restored; the message says why."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _when(value: Any, what: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise BackupError(f"{what}: {value!r} is not a date and time.")
    return parsed


def _email(user: User | None) -> str | None:
    return user.email if user is not None else None


def workspace_key(ws: Workspace) -> str:
    return f"{_iso(ws.created_at)}|{_email(ws.created_by) or ''}"


def dump(*, workspace_ids: list[int] | None = None) -> dict[str, Any]:
    workspaces = Workspace.objects.select_related("created_by").order_by("pk")
    if workspace_ids:
        workspaces = workspaces.filter(pk__in=workspace_ids)
        missing = set(workspace_ids) - set(workspaces.values_list("pk", flat=True))
        if missing:
            raise BackupError(f"No workspace with id {', '.join(map(str, sorted(missing)))}.")
    keys = {ws.pk: workspace_key(ws) for ws in workspaces}
    members = Membership.objects.filter(workspace_id__in=keys).select_related("user").order_by("pk")
    users: dict[str, dict[str, Any]] = {}

    def user(u: User | None) -> str | None:
        if u is not None and u.email not in users:
            users[u.email] = {"email": u.email, "first_name": u.first_name,
                              "last_name": u.last_name}
        return _email(u)

    out_ws = [{"key": keys[ws.pk], "name": ws.name, "created_at": _iso(ws.created_at),
               "created_by": user(ws.created_by),
               "members": [{"user": user(m.user), "role": m.role, "created_at": _iso(m.created_at)}
                           for m in members if m.workspace_id == ws.pk]}
              for ws in workspaces]
    docs = (Document.objects.filter(workspace_id__in=keys).select_related("created_by")
            .order_by("pk"))
    versions: dict[int, list[DocumentVersion]] = {}
    for v in (DocumentVersion.objects.filter(document__workspace_id__in=keys)
              .select_related("author").order_by("document_id", "number")):
        versions.setdefault(v.document_id, []).append(v)
    out_docs = [{"workspace": keys[d.workspace_id], "created_at": _iso(d.created_at),
                 "created_by": user(d.created_by), "title": d.title, "body": d.body,
                 "head_number": d.head_number, "updated_at": _iso(d.updated_at),
                 "deleted_at": _iso(d.deleted_at),
                 "versions": [{"number": v.number, "based_on": v.based_on, "kind": v.kind,
                               "title": v.title, "body": v.body, "author": user(v.author),
                               "created_at": _iso(v.created_at)} for v in versions.get(d.pk, [])]}
                for d in docs]
    out_lists = [{"workspace": keys[kl.workspace_id], "name": kl.name, "keywords": kl.keywords,
                  "created_at": _iso(kl.created_at), "updated_at": _iso(kl.updated_at)}
                 for kl in KeywordList.objects.filter(workspace_id__in=keys).order_by("pk")]
    def key_of(workspace_id: int | None) -> str:  # null: built-in/global rows, never selected
        assert workspace_id is not None
        return keys[workspace_id]

    out_templates = [
        {"workspace": key_of(t.workspace_id), "created_at": _iso(t.created_at),
         "created_by": user(t.created_by), "slug": t.slug, "is_active": t.is_active,
         "current": t.current.content_hash if t.current else None,
         "versions": [{"content_hash": v.content_hash, "data": v.data,
                       "created_at": _iso(v.created_at)}
                      for v in t.versions.order_by("created_at", "pk")]}
        for t in Template.objects.filter(workspace_id__in=keys)
        .select_related("created_by", "current").order_by("pk")]
    out_voices = [{"workspace": keys[v.workspace_id], "created_at": _iso(v.created_at),
                   "created_by": user(v.created_by), "name": v.name, "samples": v.samples}
                  for v in BrandVoice.objects.filter(workspace_id__in=keys)
                  .select_related("created_by").order_by("pk")]
    out_refs = [{"workspace": key_of(r.workspace_id), "created_at": _iso(r.created_at),
                 "created_by": user(r.created_by), "title": r.title, "text": r.text,
                 "source_name": r.source_name, "updated_at": _iso(r.updated_at)}
                for r in ReferenceItem.objects.filter(workspace_id__in=keys)
                .select_related("created_by").order_by("pk")]
    out_hooks = [{"workspace": keys[h.workspace_id], "created_at": _iso(h.created_at),
                  "created_by": user(h.created_by), "url": h.url, "events": h.events,
                  "active": h.active}  # never the secret: see the module's docstring
                 for h in Webhook.objects.filter(workspace_id__in=keys)
                 .select_related("created_by").order_by("pk")]
    # The actor is kept by email only (not added to the backup's users): a former member's
    # event must not bring their account back on restore.
    out_events = [{"workspace": keys[e.workspace_id], "created_at": _iso(e.created_at),
                   "actor": e.actor_label or None, "action": e.action,
                   "target_type": e.target_type, "target_id": e.target_id,
                   "target_label": e.target_label, "summary": e.summary, "details": e.details,
                   "ip": e.ip, "user_agent": e.user_agent}
                  for e in AuditEvent.objects.filter(workspace_id__in=keys).order_by("pk")]
    out_style = [{"workspace": keys[r.workspace_id], "updated_at": _iso(r.updated_at),
                  "updated_by": user(r.updated_by), "rules": rules_to_dict(style_rules(r))}
                 for r in StyleRules.objects.filter(workspace_id__in=keys)
                 .select_related("updated_by").order_by("pk")]
    return {"format": FORMAT, "version": VERSION, "users": sorted(users.values(), key=lambda u: u["email"]),
            "workspaces": out_ws, "documents": out_docs, "keyword_lists": out_lists,
            "templates": out_templates, "voices": out_voices, "references": out_refs,
            "webhooks": out_hooks, "audit_events": out_events,
            "style_rules": out_style, **_dump_workflow(keys, user)}


def write(data: dict[str, Any], path: Path) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:
        fh.write(text)


def _read_capped(path: Path, limit: int) -> bytes:
    """The file's (inflated) bytes, reading at most ``limit`` + 1 of them: a small .gz cannot
    grow into gigabytes in memory."""
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    fh: IO[bytes]
    with opener(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        inflated = " once inflated" if path.name.endswith(".gz") else ""
        raise BackupError(f"{path}: more than {limit:,} bytes{inflated}"
                          f"; the limit is RESTORE_MAX_BYTES ({limit:,}). Split the backup with "
                          "`manage.py backup --workspace ID`, or raise the limit for this run.")
    return raw


def read(path: Path, *, max_bytes: int | None = None) -> dict[str, Any]:
    limit = settings.RESTORE_MAX_BYTES if max_bytes is None else max_bytes
    try:
        data = json.loads(_read_capped(path, limit).decode("utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except RecursionError:
        raise BackupError(f"{path}: not a readable backup (nested too deeply).") from None
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path}: not a readable backup ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{path}: not a copywriter backup.")
    if data.get("version") != VERSION:
        raise BackupError(f"{path}: backup format version {data.get('version')!r}; this copywriter "
                          f"reads version {VERSION}.")
    return data


# --- validation: the web's limits, before anything is written ---------------------------------

MAX_PROBLEMS = 20  # listed in the refusal; one is enough to refuse the file
MAX_NESTING = 32  # a template's data is the deepest part of a backup: a few levels
_ONE_LINE_BAD = {chr(c) for c in range(32)} | {"\x7f"}


class _Problems(Exception):
    pass


class _Check:
    """Collects ``where: what`` problems; stops collecting after ``MAX_PROBLEMS``."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Problems

    def rows(self, data: dict[str, Any], name: str, *, where: str = "",
             required: bool = True) -> list[dict[str, Any]]:
        rows = data.get(name, None if required else [])
        where = f"{where}.{name}" if where else name
        if not isinstance(rows, list):
            self.bad(where, "missing or not a list")
            return []
        good = []
        for i, row in enumerate(rows):
            if isinstance(row, dict):
                good.append(row)
            else:
                self.bad(f"{where}[{i}]", "not an object")
        return good

    def text(self, row: dict[str, Any], key: str, where: str, *, limit: int, one_line: bool = False,
             empty: bool = True, optional: bool = False) -> str | None:
        value = row.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.bad(f"{where}.{key}", "missing or not a string")
            return None
        if "\x00" in value:
            self.bad(f"{where}.{key}", "holds a NUL character, which the database cannot store")
        elif one_line and _ONE_LINE_BAD & set(value):  # keys and addresses, never typed text
            self.bad(f"{where}.{key}", "holds a line break or control character")
        if len(value) > limit:
            self.bad(f"{where}.{key}", f"{len(value):,} characters; the limit is {limit:,}")
        if not empty and not value.strip():
            self.bad(f"{where}.{key}", "is empty")
        return value

    def when(self, row: dict[str, Any], key: str, where: str, *, optional: bool = False) -> None:
        value = row.get(key)
        if value is None and optional:
            return
        if not isinstance(value, str) or len(value) > 40 or parse_datetime_safe(value) is None:
            self.bad(f"{where}.{key}", f"{str(value)[:40]!r} is not a date and time")

    def number(self, row: dict[str, Any], key: str, where: str, *, optional: bool = False) -> None:
        value = row.get(key)
        if value is None and optional:
            return
        if type(value) is not int or not 1 <= value <= 2**31 - 1:
            self.bad(f"{where}.{key}", f"{str(value)[:40]!r} is not a positive whole number")

    def person(self, row: dict[str, Any], key: str, where: str, emails: set[str]) -> None:
        value = row.get(key)
        if value is not None and value not in emails:
            self.bad(f"{where}.{key}", f"{str(value)[:80]!r} is not one of the backup's users")

    def workspace(self, row: dict[str, Any], where: str, keys: set[str]) -> None:
        if row.get("workspace") not in keys:
            self.bad(f"{where}.workspace", "not one of the backup's workspaces")


def parse_datetime_safe(value: str) -> datetime | None:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _depth(value: Any) -> int:
    """How deep ``value`` nests, walked without recursion (so a deep one cannot crash it)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_NESTING:
            return level
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def validate(data: dict[str, Any]) -> None:
    """Refuse (``BackupError``, listing where and what) a backup any row of which the web would
    refuse; nothing is written before this passes."""
    check = _Check()
    with contextlib.suppress(_Problems):  # enough problems listed
        _validate(data, check)
    if check.problems:
        more = " (and maybe more)" if len(check.problems) >= MAX_PROBLEMS else ""
        raise BackupError("The backup is damaged or breaks this copywriter's limits, so it was "
                          f"not restored; nothing was written. Problems{more}:\n- "
                          + "\n- ".join(check.problems))


def _validate(data: dict[str, Any], check: _Check) -> None:
    doc_max = settings.DOCUMENT_MAX_CHARS
    emails: set[str] = set()
    for i, u in enumerate(check.rows(data, "users")):
        where = f"users[{i}]"
        email = check.text(u, "email", where, limit=254, one_line=True)
        if email is not None:
            try:
                validate_email(email)
            except ValidationError:
                check.bad(f"{where}.email", f"{email[:80]!r} is not an email address")
            if email.lower() in {e.lower() for e in emails}:
                check.bad(f"{where}.email", "appears twice")
            emails.add(email)
        for name in ("first_name", "last_name"):
            check.text(u, name, where, limit=150, optional=True)

    keys: set[str] = set()
    for i, w in enumerate(check.rows(data, "workspaces")):
        where = f"workspaces[{i}]"
        key = check.text(w, "key", where, limit=400, one_line=True)
        if key is not None:
            keys.add(key)
        check.text(w, "name", where, limit=100, empty=False)
        check.when(w, "created_at", where)
        check.person(w, "created_by", where, emails)
        for j, m in enumerate(check.rows(w, "members", where=where)):
            mwhere = f"{where}.members[{j}]"
            check.person(m, "user", mwhere, emails)
            if m.get("role") not in Role.values:
                check.bad(f"{mwhere}.role", f"{str(m.get('role'))[:20]!r} is not a role")
            check.when(m, "created_at", mwhere)

    for i, d in enumerate(check.rows(data, "documents")):
        where = f"documents[{i}]"
        check.workspace(d, where, keys)
        check.when(d, "created_at", where)
        check.when(d, "updated_at", where)
        check.when(d, "deleted_at", where, optional=True)
        check.person(d, "created_by", where, emails)
        check.text(d, "title", where, limit=200)
        check.text(d, "body", where, limit=doc_max)
        check.number(d, "head_number", where)
        for j, v in enumerate(check.rows(d, "versions", where=where)):
            vwhere = f"{where}.versions[{j}]"
            check.number(v, "number", vwhere)
            check.number(v, "based_on", vwhere, optional=True)
            if v.get("kind") not in VersionKind.values:
                check.bad(f"{vwhere}.kind", f"{str(v.get('kind'))[:20]!r} is not a version kind")
            check.text(v, "title", vwhere, limit=200)
            check.text(v, "body", vwhere, limit=doc_max)
            check.person(v, "author", vwhere, emails)
            check.when(v, "created_at", vwhere)


    for i, kl in enumerate(check.rows(data, "keyword_lists", required=False)):
        where = f"keyword_lists[{i}]"
        check.workspace(kl, where, keys)
        check.text(kl, "name", where, limit=LIST_NAME_MAX, empty=False)
        check.when(kl, "created_at", where)
        check.when(kl, "updated_at", where)
        words = kl.get("keywords")
        if not isinstance(words, list) or not all(isinstance(k, str) for k in words):
            check.bad(f"{where}.keywords", "not a list of strings")
        else:
            try:  # the same parser as the web's keyword fields
                parse_keywords(words)
            except KeywordError as exc:
                check.bad(f"{where}.keywords", str(exc))

    for i, t in enumerate(check.rows(data, "templates", required=False)):
        where = f"templates[{i}]"
        check.workspace(t, where, keys)
        check.when(t, "created_at", where)
        check.person(t, "created_by", where, emails)
        slug = check.text(t, "slug", where, limit=80, one_line=True, empty=False)
        if type(t.get("is_active")) is not bool:
            check.bad(f"{where}.is_active", "not true or false")
        hashes = set()
        for j, v in enumerate(check.rows(t, "versions", where=where)):
            vwhere = f"{where}.versions[{j}]"
            content_hash = check.text(v, "content_hash", vwhere, limit=64, one_line=True)
            hashes.add(content_hash)
            check.when(v, "created_at", vwhere)
            if not isinstance(v.get("data"), dict) or _depth(v["data"]) > MAX_NESTING:
                check.bad(f"{vwhere}.data", "not a template (an object, at most "
                                            f"{MAX_NESTING} levels deep)")
                continue
            try:  # the same schema as the template editor and templates_lib/
                parse_template(v["data"], source=f"restored template {slug}")
            except TemplateInvalid as exc:
                check.bad(f"{vwhere}.data", "; ".join(exc.errors)[:500])
        if t.get("current") is not None and t.get("current") not in hashes:
            check.bad(f"{where}.current", "not one of the template's versions")

    for i, v in enumerate(check.rows(data, "voices", required=False)):
        where = f"voices[{i}]"
        check.workspace(v, where, keys)
        check.when(v, "created_at", where)
        check.person(v, "created_by", where, emails)
        check.text(v, "name", where, limit=80, empty=False)
        samples = v.get("samples")
        if not isinstance(samples, list) or not all(isinstance(s, str) for s in samples):
            check.bad(f"{where}.samples", "not a list of strings")
            continue
        if len(samples) > VOICE_MAX_SAMPLES:
            check.bad(f"{where}.samples", f"{len(samples)} samples; the limit is "
                                          f"{VOICE_MAX_SAMPLES}")
        for j, sample in enumerate(samples):
            check.text({"sample": sample}, "sample", f"{where}.samples[{j}]",
                       limit=VOICE_SAMPLE_MAX)

    # A disclaimer may name a category of a template restored with it.
    categories = set(Template.objects.values_list("category", flat=True)) | {
        str(v["data"].get("category")) for t in data.get("templates") or [] if isinstance(t, dict)
        for v in t.get("versions") or [] if isinstance(v, dict) and isinstance(v.get("data"), dict)}
    styled: set[Any] = set()
    for i, r in enumerate(check.rows(data, "style_rules", required=False)):
        where = f"style_rules[{i}]"
        check.workspace(r, where, keys)
        check.when(r, "updated_at", where)
        check.person(r, "updated_by", where, emails)
        if r.get("workspace") in styled:
            check.bad(f"{where}.workspace", "has house style rules twice")
        styled.add(r.get("workspace"))
        if not isinstance(r.get("rules"), dict) or _depth(r["rules"]) > MAX_NESTING:
            check.bad(f"{where}.rules", "not house style rules (an object)")
            continue
        try:  # the same cleaning as the rules page and the API
            clean_rules(r["rules"], known_categories=categories)
        except StyleError as exc:
            for key, problem in list(exc.field_errors.items())[:5]:
                check.bad(f"{where}.rules.{key}", problem)
    _validate_workflow(data, check, keys, emails)

    for i, r in enumerate(check.rows(data, "references", required=False)):
        where = f"references[{i}]"
        check.workspace(r, where, keys)
        check.when(r, "created_at", where)
        check.when(r, "updated_at", where)
        check.person(r, "created_by", where, emails)
        check.text(r, "title", where, limit=200)
        check.text(r, "text", where, limit=REFERENCE_MAX_CHARS)
        check.text(r, "source_name", where, limit=300)

    for i, h in enumerate(check.rows(data, "webhooks", required=False)):
        where = f"webhooks[{i}]"
        check.workspace(h, where, keys)
        check.when(h, "created_at", where)
        check.person(h, "created_by", where, emails)
        check.text(h, "url", where, limit=WEBHOOK_URL_MAX, one_line=True, empty=False)
        events = h.get("events")
        if (not isinstance(events, list) or not events
                or any(e not in WebhookEvent.values for e in events)):
            check.bad(f"{where}.events", f"must list some of {', '.join(WebhookEvent.values)}")
        if not isinstance(h.get("active"), bool):
            check.bad(f"{where}.active", "must be true or false")
    for i, e in enumerate(check.rows(data, "audit_events", required=False)):
        where = f"audit_events[{i}]"
        check.workspace(e, where, keys)
        check.when(e, "created_at", where)
        check.text(e, "actor", where, limit=254, one_line=True, optional=True)
        check.text(e, "action", where, limit=ACTION_MAX, one_line=True, empty=False)
        check.text(e, "target_type", where, limit=64, one_line=True)
        check.text(e, "target_id", where, limit=64, one_line=True)
        check.text(e, "target_label", where, limit=LABEL_MAX)
        check.text(e, "summary", where, limit=SUMMARY_MAX)
        check.text(e, "user_agent", where, limit=USER_AGENT_MAX)
        details = e.get("details")
        try:
            dumped = (json.dumps(details, allow_nan=False)
                      if isinstance(details, dict) and _depth(details) <= MAX_NESTING else None)
        except ValueError:  # NaN or Infinity, which the database's JSON cannot hold
            dumped = None
        if dumped is None or len(dumped) > DETAILS_MAX_CHARS or "\\u0000" in dumped:
            check.bad(f"{where}.details", f"not a JSON object of at most {DETAILS_MAX_CHARS:,} "
                                          "characters without NUL")
        ip = e.get("ip")
        if ip is not None:
            try:
                ipaddress.ip_address(ip if isinstance(ip, str) else "")
            except ValueError:
                check.bad(f"{where}.ip", f"{str(ip)[:60]!r} is not an IP address")


Who = Callable[[str | None], User | None]  # an email in the backup -> the restored user


def _owned(row: dict[str, Any], what: str, spaces: dict[str, Workspace],
           who: Who) -> tuple[Workspace, datetime, User | None]:
    """The natural key of a row a workspace owns: its workspace, creation time and creator."""
    return spaces[row["workspace"]], _when(row["created_at"], what), who(row["created_by"])


@dataclass
class RestoreReport:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    # (email, workspace name, role) of memberships the file asked for and the restore left out
    left_out: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, kind: str, created: bool) -> None:
        target = self.created if created else self.existing
        target[kind] = target.get(kind, 0) + 1


def restore(data: dict[str, Any], *, add_existing_members: Collection[str] = ()) -> RestoreReport:
    """All or nothing: ``validate`` first, then one transaction. ``add_existing_members``: emails
    of accounts that already exist which the operator lets the file make members."""
    validate(data)
    rep = RestoreReport()
    vouched = {e.strip().lower() for e in add_existing_members}
    try:
        with transaction.atomic():
            _restore(data, rep, vouched)
    except (KeyError, TypeError, ValueError, DatabaseError) as exc:
        # validate() should have refused the file; this keeps any gap a message, not a traceback
        raise BackupError(f"The backup is damaged: {exc.__class__.__name__}: {exc}") from None
    return rep


def _restore(data: dict[str, Any], rep: RestoreReport, vouched: set[str]) -> None:
    users: dict[str, User] = {}
    made_here: set[int] = set()  # users this restore created
    for u in data["users"]:
        existing = User.objects.filter(email__iexact=u["email"]).first()
        rep.add("users", existing is None)
        if existing is None:
            existing = User(email=u["email"].strip().lower(), first_name=u.get("first_name") or "",
                            last_name=u.get("last_name") or "")
            mark_restored_without_password(existing)
            existing.save()
            made_here.add(existing.pk)
        users[u["email"]] = existing

    def who(email: str | None) -> User | None:
        return users.get(email) if email else None

    spaces: dict[str, Workspace] = {}
    for w in data["workspaces"]:
        created_at, creator = _when(w["created_at"], "workspace"), who(w["created_by"])
        ws = next((c for c in Workspace.objects.filter(created_at=created_at)
                   if workspace_key(c) == w["key"]), None)
        new_workspace = ws is None
        rep.add("workspaces", new_workspace)
        if ws is None:
            ws = Workspace.objects.create(name=w["name"], created_at=created_at, created_by=creator)
        spaces[w["key"]] = ws
        for m in w["members"]:
            member = who(m["user"])
            if member is None:
                continue
            if Membership.objects.filter(workspace=ws, user=member).exists():
                rep.add("memberships", False)
                continue
            # A live workspace's members change only through its owners, and an account that
            # exists joins a workspace by accepting an invitation, unless the operator vouches
            # for it by name. Otherwise a file could plant its author in someone's workspace,
            # or put someone's account in a workspace they never asked to join.
            if not ((new_workspace and member.pk in made_here)
                    or member.email.lower() in vouched):
                rep.left_out.append((member.email, ws.name, m["role"]))
                continue
            Membership.objects.create(workspace=ws, user=member, role=Role(m["role"]),
                                      created_at=_when(m["created_at"], "membership"))
            rep.add("memberships", True)

    for d in data["documents"]:
        ws, created_at, creator = _owned(d, "document", spaces, who)
        doc = Document.objects.filter(workspace=ws, created_at=created_at, created_by=creator).first()
        rep.add("documents", doc is None)
        if doc is None:
            doc = Document.objects.create(
                workspace=ws, title=d["title"], body=d["body"], head_number=d["head_number"],
                created_by=creator, created_at=created_at,
                updated_at=_when(d["updated_at"], "document"),
                deleted_at=_when(d["deleted_at"], "document") if d["deleted_at"] else None)
        elif d["head_number"] > doc.head_number:
            doc.title, doc.body, doc.head_number = d["title"], d["body"], d["head_number"]
            doc.updated_at = _when(d["updated_at"], "document")
            doc.save(update_fields=["title", "body", "head_number", "updated_at"])
        have = set(DocumentVersion.objects.filter(document=doc).values_list("number", flat=True))
        new = [DocumentVersion(document=doc, number=v["number"], based_on=v["based_on"],
                               kind=v["kind"], title=v["title"], body=v["body"],
                               author=who(v["author"]), created_at=_when(v["created_at"], "version"))
               for v in d["versions"] if v["number"] not in have]
        DocumentVersion.objects.bulk_create(new)
        rep.created["versions"] = rep.created.get("versions", 0) + len(new)
        rep.existing["versions"] = rep.existing.get("versions", 0) + len(d["versions"]) - len(new)

    for kl in data.get("keyword_lists", []):
        _, made = KeywordList.objects.get_or_create(
            workspace=spaces[kl["workspace"]], name=kl["name"],
            defaults={"keywords": kl["keywords"], "created_at": _when(kl["created_at"], "list"),
                      "updated_at": _when(kl["updated_at"], "list")})
        rep.add("keyword_lists", made)
    # Sections added after the first backups: files without them restore as before.
    _restore_templates(data.get("templates", []), spaces, who, rep)
    _restore_voices(data.get("voices", []), spaces, who, rep)
    _restore_references(data.get("references", []), spaces, who, rep)
    _restore_webhooks(data.get("webhooks", []), spaces, who, rep)
    _restore_events(data.get("audit_events", []), spaces, who, rep)
    _restore_style(data.get("style_rules", []), spaces, who, rep)
    _restore_workflow(data, spaces, who, rep)


def _restore_templates(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                       rep: RestoreReport) -> None:
    for t in rows:
        ws, created_at, creator = _owned(t, "template", spaces, who)
        tpl = Template.objects.filter(workspace=ws, created_at=created_at,
                                      created_by=creator).first()
        new = tpl is None
        rep.add("templates", new)
        slug = t["slug"]
        if tpl is None:
            if Template.objects.filter(workspace=ws, slug=slug).exists():
                slug = f"{slug}-restored"[:80]  # the live workspace reused the id meanwhile
            tpl = Template.objects.create(workspace=ws, slug=slug, created_at=created_at,
                                          created_by=creator, is_active=t["is_active"])
        versions = {}
        for v in t["versions"]:  # a known template gains the versions it lacks
            versions[v["content_hash"]], made = TemplateVersion.objects.get_or_create(
                template=tpl, content_hash=v["content_hash"],
                defaults={"data": v["data"], "created_at": _when(v["created_at"], "version")})
            rep.add("template_versions", made)
        current = versions.get(t["current"]) if new else None  # a known one keeps its current
        if current is not None:
            try:
                spec = parse_template(current.data, source=f"restored template {slug}")
            except TemplateInvalid as exc:
                raise BackupError(f"Template {slug!r} in the backup is not valid here: "
                                  f"{'; '.join(exc.errors)}") from None
            _upsert(tpl, spec)  # title, category, search text and current from that version
            tpl.slug, tpl.is_active = slug, t["is_active"]
            tpl.save(update_fields=["slug", "is_active"])


def _restore_voices(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                    rep: RestoreReport) -> None:
    for v in rows:
        ws, created_at, creator = _owned(v, "voice", spaces, who)
        _, made = BrandVoice.objects.get_or_create(
            workspace=ws, created_at=created_at, created_by=creator,
            defaults={"name": v["name"], "samples": list(v["samples"]), "status": "draft"})
        rep.add("voices", made)


def _restore_references(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                        rep: RestoreReport) -> None:
    for r in rows:
        ws, created_at, creator = _owned(r, "reference", spaces, who)
        exists = ReferenceItem.objects.filter(workspace=ws, created_at=created_at,
                                              created_by=creator).exists()
        rep.add("references", not exists)
        if not exists:
            source = r["source_name"]
            if source and ReferenceItem.objects.filter(workspace=ws, source_name=source).exists():
                source = ""  # the live workspace re-imported that file meanwhile: keep both
            ReferenceItem.objects.create(workspace=ws, created_at=created_at, created_by=creator,
                                         title=r["title"], text=r["text"], source_name=source,
                                         updated_at=_when(r["updated_at"], "reference"))


def _restore_webhooks(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                      rep: RestoreReport) -> None:
    """Without a secret (backups hold none): it sends nothing until an owner rotates it. The
    target is checked again (SSRF) at every try, under this server's settings."""
    for h in rows:
        ws, created_at, creator = _owned(h, "webhook", spaces, who)
        _, made = Webhook.objects.get_or_create(
            workspace=ws, created_at=created_at, created_by=creator,
            defaults={"url": h["url"].strip(), "events": list(dict.fromkeys(h["events"])),
                      "active": h["active"], "secret": "", "updated_at": created_at})
        rep.add("webhooks", made)


def _restore_events(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                    rep: RestoreReport) -> None:
    """Kept as they were written: the original time, actor's email and target's label."""
    for e in rows:
        ws, created_at = spaces[e["workspace"]], _when(e["created_at"], "activity event")
        label = e.get("actor") or ""
        exists = AuditEvent.objects.filter(workspace=ws, created_at=created_at, action=e["action"],
                                           actor_label=label).exists()
        rep.add("audit_events", not exists)
        if not exists:
            AuditEvent.objects.create(
                workspace=ws, created_at=created_at, actor=who(label) if label else None,
                actor_label=label, action=e["action"], target_type=e["target_type"],
                target_id=e["target_id"], target_label=e["target_label"], summary=e["summary"],
                details=e["details"], ip=e.get("ip"), user_agent=e["user_agent"])


def _restore_style(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                   rep: RestoreReport) -> None:
    """A workspace's rules come back only where it has none: a live workspace's owners may have
    changed them since the backup, and theirs win."""
    for r in rows:
        ws = spaces[r["workspace"]]
        exists = StyleRules.objects.filter(workspace=ws).exists()
        rep.add("style_rules", not exists)
        if not exists:
            categories = set(Template.objects.values_list("category", flat=True))
            StyleRules.objects.create(workspace=ws, updated_at=_when(r["updated_at"], "style rules"),
                                      updated_by=who(r.get("updated_by")),
                                      **clean_rules(r["rules"], known_categories=categories
                                                    | {d.get("category") for d in
                                                       r["rules"].get("disclaimers") or []}))


# --- the workflow: settings per workspace; per document its state, review requests, comments

def _document_key(d: Document, keys: dict[int, str]) -> dict[str, Any]:
    return {"workspace": keys[d.workspace_id], "created_at": _iso(d.created_at),
            "created_by": _email(d.created_by)}


def _dump_workflow(keys: dict[int, str], user: Callable[[User | None], str | None]) -> dict[str, Any]:
    out_settings = [{"workspace": keys[w.workspace_id], "approvers": w.approvers,
                     "reviewers": sorted(filter(None, (user(u) for u in w.reviewers.all()))),
                     "publish_needs_approval": w.publish_needs_approval,
                     "approval_needs_clean_style": w.approval_needs_clean_style}
                    for w in WorkflowSettings.objects.filter(workspace_id__in=keys)
                    .prefetch_related("reviewers").order_by("pk")]
    docs: dict[int, dict[str, Any]] = {}

    def doc_row(d: Document) -> dict[str, Any]:
        if d.pk not in docs:
            user(d.created_by)
            docs[d.pk] = {**_document_key(d, keys), "state": None, "review_requests": [],
                          "comments": []}
        return docs[d.pk]

    for st in (DocumentState.objects.filter(document__workspace_id__in=keys)
               .select_related("document__created_by", "changed_by").order_by("pk")):
        doc_row(st.document)["state"] = {
            "state": st.state, "version": st.version, "approved_version": st.approved_version,
            "published_version": st.published_version, "changed_by": user(st.changed_by),
            "changed_at": _iso(st.changed_at)}
    for r in (ReviewRequest.objects.filter(document__workspace_id__in=keys)
              .select_related("document__created_by", "reviewer", "requested_by", "decided_by")
              .order_by("pk")):
        doc_row(r.document)["review_requests"].append({
            "version": r.version, "reviewer": user(r.reviewer),
            "requested_by": user(r.requested_by), "created_at": _iso(r.created_at),
            "decision": r.decision, "decided_by": user(r.decided_by),
            "decided_at": _iso(r.decided_at), "comment": r.comment})
    index: dict[int, int] = {}
    for c in (Comment.objects.filter(document__workspace_id__in=keys)
              .select_related("document__created_by", "author", "resolved_by")
              .order_by("document_id", "created_at", "pk")):
        rows = doc_row(c.document)["comments"]
        index[c.pk] = len(rows)
        rows.append({"version": c.version,
                     "parent": index.get(c.parent_id) if c.parent_id else None,
                     "author": user(c.author), "body": c.body, "quote": c.quote,
                     "start": c.start, "end": c.end, "created_at": _iso(c.created_at),
                     "resolved_at": _iso(c.resolved_at), "resolved_by": user(c.resolved_by)})
    return {"workflow_settings": out_settings, "workflow_documents": list(docs.values())}


def _validate_workflow(data: dict[str, Any], check: _Check, keys: set[str],
                       emails: set[str]) -> None:
    doc_max = settings.DOCUMENT_MAX_CHARS
    for i, w in enumerate(check.rows(data, "workflow_settings", required=False)):
        where = f"workflow_settings[{i}]"
        check.workspace(w, where, keys)
        if w.get("approvers") not in Approvers.values:
            check.bad(f"{where}.approvers", "not owners or reviewers")
        reviewers = w.get("reviewers")
        if not isinstance(reviewers, list):
            check.bad(f"{where}.reviewers", "not a list")
        else:
            for j, email in enumerate(reviewers):
                check.person({"r": email}, "r", f"{where}.reviewers[{j}]", emails)
        for flag in ("publish_needs_approval", "approval_needs_clean_style"):
            if type(w.get(flag)) is not bool:
                check.bad(f"{where}.{flag}", "not true or false")
    for i, d in enumerate(check.rows(data, "workflow_documents", required=False)):
        where = f"workflow_documents[{i}]"
        check.workspace(d, where, keys)
        check.when(d, "created_at", where)
        check.person(d, "created_by", where, emails)
        st = d.get("state")
        if st is not None:
            swhere = f"{where}.state"
            if not isinstance(st, dict) or st.get("state") not in State.values:
                check.bad(swhere, "not a workflow state")
            else:
                for key in ("version", "approved_version", "published_version"):
                    check.number(st, key, swhere, optional=True)
                check.person(st, "changed_by", swhere, emails)
                check.when(st, "changed_at", swhere)
        for j, r in enumerate(check.rows(d, "review_requests", where=where)):
            rwhere = f"{where}.review_requests[{j}]"
            check.number(r, "version", rwhere)
            if r.get("reviewer") is None:
                check.bad(f"{rwhere}.reviewer", "missing")
            check.person(r, "reviewer", rwhere, emails)
            check.person(r, "requested_by", rwhere, emails)
            check.person(r, "decided_by", rwhere, emails)
            check.when(r, "created_at", rwhere)
            check.when(r, "decided_at", rwhere, optional=True)
            if r.get("decision") not in Decision.values:
                check.bad(f"{rwhere}.decision", "not a review decision")
            check.text(r, "comment", rwhere, limit=COMMENT_MAX_CHARS)
        comments = check.rows(d, "comments", where=where)
        for j, c in enumerate(comments):
            cwhere = f"{where}.comments[{j}]"
            check.number(c, "version", cwhere)
            parent = c.get("parent")
            if parent is not None and (type(parent) is not int or not 0 <= parent < j):
                check.bad(f"{cwhere}.parent", "not an earlier comment of this document")
            check.person(c, "author", cwhere, emails)
            check.person(c, "resolved_by", cwhere, emails)
            check.text(c, "body", cwhere, limit=COMMENT_MAX_CHARS, empty=False)
            check.text(c, "quote", cwhere, limit=QUOTE_MAX_CHARS)
            for key in ("start", "end"):
                value = c.get(key)
                if value is not None and (type(value) is not int or not 0 <= value <= doc_max):
                    check.bad(f"{cwhere}.{key}", "not an offset in the text")
            check.when(c, "created_at", cwhere)
            check.when(c, "resolved_at", cwhere, optional=True)


def _restore_workflow(data: dict[str, Any], spaces: dict[str, Workspace], who: Who,
                      rep: RestoreReport) -> None:
    """Added where missing, never overwritten: a document's state only when it has none, a
    review request by its reviewer, version and time, a comment by its author and time."""
    def when(value: str | None, what: str) -> datetime | None:
        return _when(value, what) if value else None

    for w in data.get("workflow_settings", []):
        row, made = WorkflowSettings.objects.get_or_create(
            workspace=spaces[w["workspace"]],
            defaults={"approvers": w["approvers"],
                      "publish_needs_approval": w["publish_needs_approval"],
                      "approval_needs_clean_style": w["approval_needs_clean_style"]})
        if made:
            row.reviewers.set([u for u in map(who, w["reviewers"]) if u is not None])
        rep.add("workflow_settings", made)
    for d in data.get("workflow_documents", []):
        ws, created_at, creator = _owned(d, "document", spaces, who)
        doc = Document.objects.filter(workspace=ws, created_at=created_at, created_by=creator).first()
        if doc is None:
            continue
        st = d.get("state")
        if st is not None:
            _, made = DocumentState.objects.get_or_create(document=doc, defaults={
                "state": st["state"], "version": st["version"],
                "approved_version": st["approved_version"],
                "published_version": st["published_version"],
                "changed_by": who(st["changed_by"]),
                "changed_at": _when(st["changed_at"], "workflow state")})
            rep.add("workflow_states", made)
        for r in d["review_requests"]:
            reviewer = who(r["reviewer"])
            if reviewer is None:
                continue
            _, made = ReviewRequest.objects.get_or_create(
                document=doc, reviewer=reviewer, version=r["version"],
                created_at=_when(r["created_at"], "review request"),
                defaults={"requested_by": who(r["requested_by"]), "decision": r["decision"],
                          "decided_by": who(r["decided_by"]),
                          "decided_at": when(r["decided_at"], "review request"),
                          "comment": r["comment"]})
            rep.add("review_requests", made)
        restored: list[Comment] = []
        for c in d["comments"]:
            parent = restored[c["parent"]] if c["parent"] is not None else None
            comment, made = Comment.objects.get_or_create(
                document=doc, author=who(c["author"]), created_at=_when(c["created_at"], "comment"),
                body=c["body"],
                defaults={"version": c["version"], "parent": parent, "quote": c["quote"],
                          "start": c["start"], "end": c["end"],
                          "resolved_at": when(c["resolved_at"], "comment"),
                          "resolved_by": who(c["resolved_by"])})
            restored.append(comment)
            rep.add("comments", made)
