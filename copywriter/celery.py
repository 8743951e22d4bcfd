import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copywriter.settings")

# Imports no app: generation publishes through this app, so it sits at the bottom beside core.
# The JSON log hookup lives in ops' AppConfig.ready().
app = Celery("copywriter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
