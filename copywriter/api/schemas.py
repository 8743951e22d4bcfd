"""Request and response bodies of the JSON API (pydantic, through django-ninja)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = {}


class ConflictOut(ErrorOut):
    conflict_version: int
    head_version: int


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    help: str = ""
    max_length: int | None = None
    choices: list[str] = []
    min: int | None = None
    max: int | None = None


class TemplateOut(Schema):
    id: int
    slug: str
    title: str
    description: str
    category: str
    builtin: bool


class TemplatePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TemplateOut]


class TemplateDetailOut(TemplateOut):
    tags: list[str]
    fields: list[FieldOut]
    variants: int
    min_words: int
    max_words: int
    tones: list[str]
    lengths: list[str]


class GenerationIn(Schema):
    template: str = Field(..., max_length=80, description="The template's slug")
    fields: dict[str, Any] = {}
    tone: str = Field("professional", max_length=40)
    variants: int | None = Field(None, description="Defaults to the template's own number")
    length: str = Field("medium", max_length=10, description="short, medium or long")
    fact_sheets: list[int] = Field([], description="Ids of the workspace's fact sheets whose "
                                                   "latest facts the writer is given")


class ClaimOut(Schema):
    span: list[int] = Field(..., description="[start, end): character offsets into the text")
    text: str
    kind: str = Field(..., description="number, price, percentage, duration, quantity, date, "
                                       "time, day, phone, guarantee, superlative, award, name, "
                                       "contradiction or banned")
    reason: str = Field(..., description='"not in the brief", "contradicts: 40-hour" or '
                                         '"banned claim"')


class ClaimsOut(Schema):
    unsupported: int | None = Field(..., description="Claims the brief and the workspace's facts "
                                                     "do not support; null: not checked")
    checked: int | None = Field(..., description="Claims found in the text; null: not checked")
    claims: list[ClaimOut] = Field([], description="The unsupported claims")
    policy: str = Field("flag", description="flag (shown marked) or hide (written again)")
    attempts: list[int | None] = Field([], description="Unsupported claims in each attempt")
    shown_flagged: bool = Field(False, description="Every attempt had an unsupported claim")
    error: str = ""


class StyleFindingOut(Schema):
    rule: str = Field(..., description="banned, preferred, spelling, oxford_comma, headline_case, "
                                       "numbers, exclamations, reading_grade, disclaimer, or "
                                       "generic:<proselint check>")
    message: str
    start: int = Field(..., description="[start, end): character offsets into the text")
    end: int
    replacement: str | None = Field(None, description="The text for [start, end) when the fix "
                                                      "is mechanical; null: a person rewrites it")


class StyleReportOut(Schema):
    checked: bool = Field(..., description="false: the check failed (see error)")
    count: int | None = Field(None, description="House style findings in the kept variant")
    banned: int | None = Field(None, description="Banned terms in the kept variant")
    findings: list[StyleFindingOut] = []
    attempts: list[int | None] = Field([], description="Banned terms in each attempt")
    rewritten: int = Field(0, description="Times the variant was written again for a banned term")
    shown_flagged: bool = Field(False, description="Every attempt had a banned term")
    error: str = ""


class VariantOut(Schema):
    index: int
    text: str
    finished: bool
    tokens: int
    originality: dict[str, Any] | None = None
    claims: ClaimsOut | None = Field(None, description="The claims check; null until checked")
    style: StyleReportOut | None = Field(None, description="The house style check; null until "
                                                           "checked")
    slots: dict[str, list[str]] | None = Field(
        None, description="Slot templates: the items by slot name, in the template's order "
        "(each within its slot's limit); null for long-form copy")
    choice: dict[str, Any] | None = Field(
        None, description="Best of N: candidates written, the chosen one's score and its parts, "
        "the hard filters it failed (if any) and the others' scores; slot templates: per item")


class GenerationOut(Schema):
    id: int
    status: str
    template: str
    tone: str
    fields: dict[str, Any]
    variants_requested: int
    error: str
    error_permanent: bool
    retry_of: int | None
    created_at: datetime
    finished_at: datetime | None
    variants: list[VariantOut]
    facts: dict[str, Any] = Field({}, description="The fact sheet versions used and their "
                                                  "lines: {sheets: [{id, version, name}], facts, "
                                                  "approved, banned}; {} when none")
    url: str


class DocumentOut(Schema):
    id: int
    title: str
    head_version: int
    created_at: datetime
    updated_at: datetime


class DocumentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DocumentOut]


class VersionOut(Schema):
    number: int
    kind: str
    based_on: int | None
    author: str | None
    created_at: datetime


class DocumentDetailOut(DocumentOut):
    body: str
    versions: list[VersionOut]


class VersionDetailOut(VersionOut):
    title: str
    body: str


class DocumentIn(Schema):
    title: str = Field("", max_length=200)
    body: str = ""


class VersionIn(Schema):
    title: str | None = Field(None, max_length=200, description="Unchanged when left out")
    body: str
    base_version: int = Field(..., ge=1, le=2_000_000_000,
                              description="The version this edit started from")


class SavedOut(Schema):
    document: int
    version: int
    changed: bool


class CheckOut(Schema):
    id: int
    status: str
    document: int
    document_version: int
    report: dict[str, Any] | None
    error: str
    created_at: datetime
    finished_at: datetime | None


class SeoAnalyseIn(Schema):
    text: str
    keywords: list[str] | str = Field(
        [], description="A list, or one comma/semicolon/newline-separated string")
    keyword_list: int | None = Field(None, description="Use one of the workspace's keyword "
                                                       "lists (by id) instead of keywords")
    title: str = Field("", max_length=300)
    kind: str = Field("auto", max_length=20, description="auto, plain, markdown, html, "
                                                         "meta_title or meta_description")


class SeoSuggestIn(Schema):
    text: str
    brief: str = Field("", max_length=4000)
    n: int = Field(8, ge=1, le=20)


class SeoSuggestOut(Schema):
    suggestions: list[dict[str, Any]]
    method: str


class FactSheetOut(Schema):
    id: int
    name: str
    kind: str
    version: int
    archived: bool
    created_at: datetime
    updated_at: datetime


class FactSheetPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FactSheetOut]


class FactVersionOut(Schema):
    number: int
    based_on: int | None
    author: str | None
    created_at: datetime


class FactVersionDetailOut(FactVersionOut):
    name: str
    kind: str
    facts: list[str]
    approved: list[str]
    banned: list[str]


class FactSheetDetailOut(FactSheetOut):
    facts: list[str]
    approved: list[str]
    banned: list[str]
    versions: list[FactVersionOut]


class FactSheetIn(Schema):
    name: str = Field(..., max_length=120)
    kind: str = Field("product", max_length=8, description="product or brand")
    facts: list[str] = Field([], description="One fact an item")
    approved: list[str] = Field([], description="Claims that may be made")
    banned: list[str] = Field([], description="Claims never to be made")


class FactVersionIn(FactSheetIn):
    base_version: int = Field(..., ge=1, le=2_000_000_000,
                              description="The version this edit started from")


class FactConflictOut(ErrorOut):
    head_version: int


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str | None = Field(None, description="The actor's email at the time; null: the system")
    action: str = Field(..., description="Dotted, e.g. member.role_changed, token.created")
    target_type: str
    target_id: str
    target: str = Field(..., description="The target's name at the time")
    summary: str
    details: dict[str, Any]
    ip: str | None
    user_agent: str


class AuditEventPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditEventOut]
class BannedTermIO(Schema):
    term: str = Field(..., max_length=200)
    reason: str = Field("", max_length=400)


class PreferredTermIO(Schema):
    use: str = Field(..., max_length=200, description="The term the house style writes")
    instead_of: str = Field(..., max_length=200, description="The term it replaces")


class DisclaimerIO(Schema):
    category: str = Field(..., max_length=40, description="A template category")
    text: str = Field(..., max_length=1000)


class StyleRulesIO(Schema):
    banned: list[BannedTermIO] = Field([], description="Banned terms, each with a reason")
    preferred: list[PreferredTermIO] = Field([], description="Replace instead_of with use")
    spelling: str = Field("", description='"" (not checked), "en-US" or "en-GB"')
    oxford_comma: str = Field("", description='"" (not checked), "always" or "never"')
    headline_case: str = Field("", description='"" (not checked), "title" or "sentence"')
    numbers: str = Field("", description='"" (not checked), "numerals", or "words" (under ten)')
    exclamations: str = Field("any", description='"any", "one" (at most one per text) or "none"')
    max_grade: int | None = Field(None, description="Flesch-Kincaid grade ceiling (1-20); null: none")
    disclaimers: list[DisclaimerIO] = Field([], description="Required disclaimers by template "
                                                            "category")
    generic: bool = Field(True, description="proselint's generic checks (cliches, redundancy, ...)")
    max_rewrites: int = Field(2, description="Rewrites of a generated variant with a banned term "
                                             "(0-5), then it is shown flagged")


class StyleCheckIn(Schema):
    text: str
    category: str | None = Field(None, max_length=40,
                                 description="The template category, for required disclaimers")


class StyleCheckOut(Schema):
    count: int
    fixable: int = Field(..., description="Findings with a mechanical fix")
    findings: list[StyleFindingOut]
    fixed: str = Field(..., description="The text with every mechanical fix applied")
