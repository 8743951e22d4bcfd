"""``{{ value|when }}``: a date as people read it in a list, stable for the whole day.

"today 15:36", "yesterday 09:12", "24 Nov", "24 Nov 2025", in a ``<time>`` element carrying the
exact moment. Unlike "3 minutes ago" it does not go stale while a page is cached (cached pages
are keyed by the local date, see copywriter/core/pagecache.py).
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.filter
def when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    if local.date() == today:
        text = f"today {local:%H:%M}"
    elif local.date() == today - dt.timedelta(days=1):
        text = f"yesterday {local:%H:%M}"
    elif local.year == today.year:
        text = date_format(local, "j M")
    else:
        text = date_format(local, "j M Y")
    return format_html('<time datetime="{}" title="{}">{}</time>', local.isoformat(),
                       date_format(local, "j M Y, H:i"), text)
