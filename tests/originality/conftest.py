from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _claims_marked_only(request):
    """Originality's rewrites are tested alone: the scripted texts state things the test briefs
    do not (a Vibram outsole, a lamp's wattage), which a workspace's default claims policy would
    take out of the text or write again (tests/claims covers that)."""
    if "cast" not in request.fixturenames:
        return
    from copywriter.workspaces.models import Workspace

    cast = request.getfixturevalue("cast")
    Workspace.objects.filter(pk__in=[cast.ws.pk, cast.other.pk]).update(claims_policy="flag")
