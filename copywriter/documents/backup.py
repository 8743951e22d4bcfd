"""Backup and restore of what people wrote: documents with every version (conflict copies
included), keyword lists, the workspace's own templates with every version, brand voices'
samples and reference texts, and the workspaces and memberships they belong to, as one JSON
file (gzip if it ends in ``.gz``). Not in it: generations (re-created by generating again), API
tokens (only their hashes are stored), trained voice adapters (a restored voice is a draft to
train again) and the passages' embeddings (``manage.py reindex_originality`` rebuilds them).

Rows are matched by natural keys, never by database ids, so a backup restores into an empty
database or into the same one, and restoring it twice adds nothing the second time:

- a user is their email; missing users are created with no usable password (they set one
  through "Forgot password");
- a workspace is its creation time and its creator's email (a rename keeps it the same);
- a document is its workspace, creation time and creator; a version is its document and
  number; a keyword list is its workspace and name;
- a template, a brand voice and a reference text are their workspace, creation time and creator;
  a template version is its template and content hash.

A document that already exists gains the versions it lacks; its current text moves to the
backup's only when the backup's head version is newer. Nothing is ever deleted or overwritten.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.db import transaction
from django.utils.dateparse import parse_datetime

from copywriter.accounts.models import User
from copywriter.documents.models import Document, DocumentVersion
from copywriter.workspaces.models import Membership, Role, Workspace

FORMAT = "copywriter-backup"
VERSION = 1


class BackupError(Exception):
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


def _keyword_list_model() -> Any:
    try:
        return apps.get_model("seo", "KeywordList")
    except LookupError:  # the SEO app is optional here
        return None


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
    out_lists = []
    keyword_list = _keyword_list_model()
    if keyword_list is not None:
        for kl in keyword_list.objects.filter(workspace_id__in=keys).order_by("pk"):
            out_lists.append({"workspace": keys[kl.workspace_id], "name": kl.name,
                              "keywords": kl.keywords, "created_at": _iso(kl.created_at),
                              "updated_at": _iso(kl.updated_at)})
    def key_of(workspace_id: int | None) -> str:  # null: built-in/global rows, never selected
        assert workspace_id is not None
        return keys[workspace_id]

    Template = apps.get_model("catalog", "Template")
    BrandVoice = apps.get_model("generation", "BrandVoice")
    ReferenceItem = apps.get_model("originality", "ReferenceItem")
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
    return {"format": FORMAT, "version": VERSION, "users": sorted(users.values(), key=lambda u: u["email"]),
            "workspaces": out_ws, "documents": out_docs, "keyword_lists": out_lists,
            "templates": out_templates, "voices": out_voices, "references": out_refs}


def write(data: dict[str, Any], path: Path) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:
        fh.write(text)


def read(path: Path) -> dict[str, Any]:
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    try:
        fh: IO[str]
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path}: not a readable backup ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{path}: not a copywriter backup.")
    if data.get("version") != VERSION:
        raise BackupError(f"{path}: backup format version {data.get('version')!r}; this copywriter "
                          f"reads version {VERSION}.")
    return data


Who = Callable[[str | None], User | None]  # an email in the backup -> the restored user


def _owned(row: dict[str, Any], what: str, spaces: dict[str, Workspace],
           who: Who) -> tuple[Workspace, datetime, User | None]:
    """The natural key of a row a workspace owns: its workspace, creation time and creator."""
    return spaces[row["workspace"]], _when(row["created_at"], what), who(row["created_by"])


@dataclass
class RestoreReport:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        target = self.created if created else self.existing
        target[kind] = target.get(kind, 0) + 1


def restore(data: dict[str, Any]) -> RestoreReport:
    """All or nothing: one transaction."""
    rep = RestoreReport()
    try:
        with transaction.atomic():
            _restore(data, rep)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"The backup is damaged: {exc.__class__.__name__}: {exc}") from None
    return rep


def _restore(data: dict[str, Any], rep: RestoreReport) -> None:
    users: dict[str, User] = {}
    for u in data["users"]:
        existing = User.objects.filter(email__iexact=u["email"]).first()
        rep.add("users", existing is None)
        if existing is None:
            existing = User(email=u["email"], first_name=u.get("first_name", ""),
                            last_name=u.get("last_name", ""))
            existing.set_unusable_password()
            existing.save()
        users[u["email"]] = existing

    def who(email: str | None) -> User | None:
        return users.get(email) if email else None

    spaces: dict[str, Workspace] = {}
    for w in data["workspaces"]:
        created_at, creator = _when(w["created_at"], "workspace"), who(w["created_by"])
        ws = next((c for c in Workspace.objects.filter(created_at=created_at)
                   if workspace_key(c) == w["key"]), None)
        rep.add("workspaces", ws is None)
        if ws is None:
            ws = Workspace.objects.create(name=w["name"], created_at=created_at, created_by=creator)
        spaces[w["key"]] = ws
        for m in w["members"]:
            member = who(m["user"])
            if member is None:
                continue
            _, made = Membership.objects.get_or_create(
                workspace=ws, user=member,
                defaults={"role": Role(m["role"]), "created_at": _when(m["created_at"], "membership")})
            rep.add("memberships", made)

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

    keyword_list = _keyword_list_model()
    for kl in data.get("keyword_lists", []):
        if keyword_list is None:
            break
        _, made = keyword_list.objects.get_or_create(
            workspace=spaces[kl["workspace"]], name=kl["name"],
            defaults={"keywords": kl["keywords"], "created_at": _when(kl["created_at"], "list"),
                      "updated_at": _when(kl["updated_at"], "list")})
        rep.add("keyword_lists", made)
    # Sections added after the first backups: files without them restore as before.
    _restore_templates(data.get("templates", []), spaces, who, rep)
    _restore_voices(data.get("voices", []), spaces, who, rep)
    _restore_references(data.get("references", []), spaces, who, rep)


def _restore_templates(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                       rep: RestoreReport) -> None:
    from copywriter.catalog.models import Template, TemplateVersion
    from copywriter.catalog.schema import TemplateInvalid, parse_template
    from copywriter.catalog.services import _upsert

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
    from copywriter.generation.models import BrandVoice

    for v in rows:
        ws, created_at, creator = _owned(v, "voice", spaces, who)
        _, made = BrandVoice.objects.get_or_create(
            workspace=ws, created_at=created_at, created_by=creator,
            defaults={"name": v["name"], "samples": list(v["samples"]), "status": "draft"})
        rep.add("voices", made)


def _restore_references(rows: list[dict[str, Any]], spaces: dict[str, Workspace], who: Who,
                        rep: RestoreReport) -> None:
    from copywriter.originality.models import ReferenceItem

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
