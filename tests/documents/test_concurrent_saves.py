"""Concurrent saves never overwrite silently: real threads, each with its own database
connection, save the same document from the same base version at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from copywriter.documents.models import DocumentVersion
from copywriter.documents.services import document_create, document_save
from tests.support.report import report

pytestmark = pytest.mark.django_db(transaction=True)
WRITERS = 6
ROUNDS = 3


def test_simultaneous_saves_from_one_base_keep_every_text(cast):
    from copywriter.workspaces.models import Membership, Role

    members = [cast.alice_m, cast.bob_m]
    for i in range(WRITERS - 2):
        from copywriter.accounts.services import user_create
        user = user_create(email=f"w{i}@example.com", password="correct horse battery 9")
        members.append(Membership.objects.create(workspace=cast.ws, user=user, role=Role.EDITOR))
    doc = document_create(membership=cast.alice_m, title="Launch", body="v1")
    for round_ in range(ROUNDS):
        doc.refresh_from_db()
        base = doc.head_number
        barrier = threading.Barrier(WRITERS)
        results: list[tuple[str, bool]] = []
        errors: list[BaseException] = []

        def save(member, text, barrier=barrier, base=base, results=results, errors=errors):
            try:
                barrier.wait(10)
                result = document_save(membership=member, document_id=doc.pk, title="Launch",
                                       body=text, base_number=base)
                results.append((text, result.conflict))
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        texts = [f"round {round_} writer {i}" for i in range(WRITERS)]
        threads = [threading.Thread(target=save, args=(m, t)) for m, t in zip(members, texts, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        winners = [text for text, conflict in results if not conflict]
        assert len(results) == WRITERS and len(winners) == 1, results
        doc.refresh_from_db()
        assert doc.body == winners[0]
        kept = set(DocumentVersion.objects.filter(document=doc).values_list("body", flat=True))
        assert set(texts) <= kept  # every writer's text is a version: the head or a conflict copy
    numbers = list(DocumentVersion.objects.filter(document=doc).values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 1 + ROUNDS * WRITERS
    report(f"concurrent saves: {ROUNDS} rounds x {WRITERS} simultaneous writers, one head each "
           "round, every other text kept as a conflict copy")
