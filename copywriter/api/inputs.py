"""What every operation checks in what it was sent, before anything is stored."""

from __future__ import annotations

from typing import Any

from copywriter.api.errors import ApiError


def refuse_unstorable(value: Any, where: str = "") -> None:
    """NUL characters and unpaired surrogates cannot be stored as text: say so, as a 400."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ApiError(400, "Text cannot contain NUL characters.",
                           errors={where or "__all__": "Contains a NUL (\\u0000) character."})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(400, "Text must be valid Unicode.", errors={
                where or "__all__": "Contains an unpaired surrogate."}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable(key, where)
            refuse_unstorable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            refuse_unstorable(item, f"{where}.{i}")
