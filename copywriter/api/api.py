"""The JSON API, mounted at /api/v1/ (schema at /api/v1/openapi.json, docs at /api/v1/docs/).

Every endpoint acts for one workspace: the token's. Ids of another workspace's objects answer
404, exactly like ids that do not exist. Writes need a token whose effective role is editor
(see ``ApiToken``). Who calls is ``auth``'s; what a failure answers is ``errors``'s; the
operations are one router per resource under ``routers/``.
"""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation

from copywriter.api import errors
from copywriter.api.auth import TokenAuth
from copywriter.api.routers import (
    audit,
    documents,
    facts,
    generations,
    originality,
    seo,
    style,
    templates,
    workflow,
)


class CopywriterApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # ninja's default is the view's module and name; the operations all lived in
        # api/endpoints.py when clients were generated from the schema, so their ids stay.
        return f"copywriter_api_endpoints_{operation.view_func.__name__}"


api = CopywriterApi(
    title="copywriter API", version="1", urls_namespace="v1", auth=TokenAuth(),
    docs_url=None,  # ninja's docs page loads Swagger UI from a CDN; ours is served by views.docs
    description="Templates, generations, documents and originality checks of one workspace, "
                "the token's. Send `Authorization: Bearer cw_...`; make tokens in the "
                "workspace's Settings > API tokens.",
)
errors.install(api)
for resource in (templates, generations, documents, facts, originality, seo, audit, style,
                 workflow):
    api.add_router("", resource.router)
