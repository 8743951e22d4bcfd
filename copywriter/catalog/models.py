from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from copywriter.catalog.schema import PromptTemplate, parse_template
from copywriter.workspaces.models import Workspace


class Template(models.Model):
    """A prompt template: built-in (``workspace`` null, synced from templates_lib/) or a
    workspace's own. Content changes create a new ``TemplateVersion``; generations point at the
    version they used, so editing a template never rewrites history."""

    slug = models.SlugField(max_length=80)
    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="templates")
    title = models.CharField(max_length=80)
    description = models.CharField(max_length=240)
    category = models.CharField(max_length=40, db_index=True)
    tags = models.JSONField(default=list)
    search_text = models.TextField(default="")
    current = models.ForeignKey("TemplateVersion", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slug"], condition=models.Q(workspace__isnull=True),
                                    name="builtin_slug"),
            models.UniqueConstraint(fields=["workspace", "slug"], name="workspace_slug"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_builtin(self) -> bool:
        return self.workspace_id is None

    def spec(self) -> PromptTemplate:
        assert self.current is not None
        return self.current.spec()


class TemplateVersion(models.Model):
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    content_hash = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "content_hash"],
                                               name="version_hash")]

    def __str__(self) -> str:
        return f"{self.template_id}@{self.content_hash[:8]}"

    def spec(self) -> PromptTemplate:
        cached: PromptTemplate | None = getattr(self, "_spec", None)
        if cached is None:
            # A version's content never changes (its hash is in the key), so the parsed and
            # validated spec is kept per process: parsing the Jinja prompt was a large share of
            # the generate form's time (docs/web.md).
            key = (self.pk, self.content_hash)
            cached = _SPECS.get(key) if self.pk else None
            if cached is None:
                cached = parse_template(self.data, source=f"template version {self.pk}",
                                        check_sample=False)
                if self.pk:
                    if len(_SPECS) >= 4096:
                        _SPECS.clear()
                    _SPECS[key] = cached
            self._spec = cached
        return cached


_SPECS: dict[tuple[int, str], PromptTemplate] = {}


class Favourite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="favourites")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "workspace", "template"],
                                               name="one_favourite")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.template_id}"


def search_text_for(data: dict[str, Any]) -> str:
    parts = [data.get("title", ""), data.get("description", ""), data.get("category", ""),
             " ".join(data.get("tags", []))]
    return " ".join(parts).lower()
