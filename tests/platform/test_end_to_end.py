"""End to end: the generate form, the embedded broker, a real worker process, the real model
with a real trained tone adapter, and the text visible in the page the browser polls."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from copywriter.generation.models import Generation, Status
from copywriter.ml.paths import adapters_dir
from tests.support import workers
from tests.support.cast import client_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(not (adapters_dir() / "witty" / "adapter_model.safetensors").exists(),
                    reason="the trained witty adapter is not in adapters/")
def test_generate_through_a_real_worker_and_see_it_in_the_page(cast, ad_template, tmp_path):
    # The worker shares this process's default broker: the embedded Valkey.
    env = workers.worker_env(REDIS_URL=settings.REDIS_URL,
                             CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    try:
        client = client_for(cast.bob)
        response = client.post(reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk]), {
            "product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns",
            "keyword": "", "tone": "witty", "variants": 2, "length": "short"})
        assert response.status_code == 302
        gen = Generation.objects.get()
        url = reverse("generation:detail", args=[cast.ws.pk, gen.pk])
        seen_partial = []

        def finished() -> bool:
            r = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="generation-status")
            seen_partial.append(r.status_code)
            return r.status_code == 286

        assert workers.wait_for(finished, 300, interval=1.0), (
            (tmp_path / "worker.log").read_text()[-3000:])
        gen.refresh_from_db()
        assert gen.status == Status.DONE and gen.tone == "witty"
        page = client.get(url).content.decode()
        texts = [v.text for v in gen.results.all()]
        assert len(texts) == 2 and all(len(t.split()) >= 3 for t in texts)
        for text in texts:
            assert escape(text) in page  # exactly what the model wrote, escaped, in the page
        assert "Save to document" in page
    finally:
        worker.stop()
