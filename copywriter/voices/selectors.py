from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from copywriter.voices.models import BrandVoice


def voices_for_workspace(*, workspace_id: int) -> QuerySet[BrandVoice]:
    return BrandVoice.objects.filter(workspace_id=workspace_id).order_by("-created_at")


def voice_get(*, workspace_id: int, voice_id: int) -> BrandVoice:
    return get_object_or_404(BrandVoice, pk=voice_id, workspace_id=workspace_id)
