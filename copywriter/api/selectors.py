from __future__ import annotations

from django.db.models import QuerySet

from copywriter.api.models import ApiToken


def tokens_for_workspace(*, workspace_id: int) -> QuerySet[ApiToken]:
    return (ApiToken.objects.filter(workspace_id=workspace_id).select_related("created_by")
            .order_by("revoked_at", "-created_at"))
