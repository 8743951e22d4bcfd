"""Hands settings to ``copywriter.ml``, which reads neither the environment nor Django settings.

Done once when Django starts, and again whenever one of them changes (``override_settings``,
pytest-django's ``settings`` fixture). Only ``ml.config`` is imported here: no torch.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from copywriter.ml import config as ml_config

# Each is the lower-cased name of a field of copywriter.ml.config.Config.
ML_SETTINGS = ("BASE_MODEL", "MODEL_CACHE", "MODEL_PATH", "TONE_ADAPTERS", "DEVICE", "TORCH_THREADS",
               "INT8")


def configure_ml() -> None:
    ml_config.configure(**{name.lower(): getattr(settings, name) for name in ML_SETTINGS})


def _reconfigure(*, setting: str, **kwargs: Any) -> None:
    if setting in ML_SETTINGS:
        configure_ml()


def connect_ml_settings() -> None:
    configure_ml()
    setting_changed.connect(_reconfigure, dispatch_uid="copywriter.core.mlsettings")
