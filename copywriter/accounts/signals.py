from __future__ import annotations

from django.dispatch import Signal

# Sent by ``user_create`` inside its transaction, with ``user``: what other apps set up for a new
# account (workspaces makes the first workspace). A receiver that raises undoes the sign-up.
user_created = Signal()
