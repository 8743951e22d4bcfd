import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")

if os.environ.get("LOG_FORMAT") == "json":
    from copywriter.ops.logs import celery_use_django_logging

    celery_use_django_logging()

app = Celery("copywriter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
