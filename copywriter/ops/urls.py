from django.conf import settings
from django.urls import path

from copywriter.ops import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("w/<int:ws>/metrics/", views.metrics, name="metrics"),
    path("ops/metrics/", views.global_metrics, name="global_metrics"),
]
if settings.COPYWRITER_BENCH:
    urlpatterns.append(path("bench/trivial/", views.bench_trivial, name="bench_trivial"))
