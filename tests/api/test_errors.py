"""One error base for what users are told, answered by the API in one handler; the operation
ids clients were generated with."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from copywriter.api.api import api
from copywriter.api.errors import ApiError
from copywriter.backup.services import BackupError
from copywriter.bulk.errors import BulkError
from copywriter.core.errors import UserError
from copywriter.documents.services import DocumentTooLarge
from copywriter.facts.services import FactsError, StaleEdit
from copywriter.generation.services import GenerationError
from copywriter.originality.services import OriginalityError
from copywriter.seo.services import SeoError
from copywriter.voices.services import VoiceError

USER_ERRORS = [GenerationError, VoiceError, FactsError, BulkError, SeoError, OriginalityError,
               BackupError]


def answer(exc: Exception):
    response = api.on_exception(RequestFactory().post("/api/v1/anything"), exc)
    return response, json.loads(response.content)


@pytest.mark.parametrize("cls", USER_ERRORS, ids=lambda c: c.__name__)
def test_every_apps_user_error_is_answered_with_its_own_status(cls):
    assert issubclass(cls, UserError)
    response, body = answer(cls("Not like that.", status=409))
    assert response.status_code == 409
    assert body == {"detail": "Not like that.", "errors": {}}
    assert not response.has_header("Retry-After")


def test_field_errors_and_retry_after_come_from_the_error():
    response, body = answer(GenerationError("Slow down.", status=429, permanent=False,
                                            field_errors={"tone": "Unknown."}, retry_after=17))
    assert response.status_code == 429 and response["Retry-After"] == "17"
    assert body == {"detail": "Slow down.", "errors": {"tone": "Unknown."}}


def test_the_subclasses_keep_their_own_status_and_fields():
    too_large = DocumentTooLarge("The document is too long.")
    assert too_large.status == 413 and too_large.permanent
    response, body = answer(too_large)
    assert response.status_code == 413
    assert body == {"detail": "The document is too long.",
                    "errors": {"body": "The document is too long."}}
    assert StaleEdit("Someone saved first.", head_number=3).status == 409
    response, body = answer(ApiError(409, "Stale.", extra={"head_version": 3},
                                     headers={"WWW-Authenticate": "Bearer"}))
    assert response.status_code == 409 and response["WWW-Authenticate"] == "Bearer"
    assert body == {"detail": "Stale.", "errors": {}, "head_version": 3}


def test_an_error_that_is_not_a_user_error_is_still_a_500():
    """The control: the one handler does not swallow everything."""
    response, body = answer(ValueError("a bug"))
    assert response.status_code == 500 and "a bug" not in body["detail"]


def test_operation_ids_are_the_ones_clients_were_generated_with():
    schema = api.get_openapi_schema()
    ids = [op["operationId"] for methods in schema["paths"].values() for op in methods.values()]
    assert sorted(ids) == sorted(f"copywriter_api_endpoints_{name}" for name in (
        "template_list", "template_detail", "generation_create", "generation_detail",
        "generation_retry", "document_list", "document_create", "document_detail",
        "version_detail", "version_create", "fact_sheet_list", "fact_sheet_create",
        "fact_sheet_detail", "fact_version_detail", "fact_version_create", "originality_check",
        "originality_detail", "seo_analyse", "seo_suggest", "audit_list", "style_rules_get",
        "style_rules_put", "style_check", "workflow_state",
        "workflow_request_review", "workflow_approve", "workflow_request_changes",
        "workflow_publish", "comment_list", "comment_create", "comment_resolve",
        "workflow_released"))
