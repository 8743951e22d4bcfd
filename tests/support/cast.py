"""The shared cast's password and a logged-in client for any user."""

from __future__ import annotations

from django.test import Client

PASSWORD = "correct horse battery staple 42"


def client_for(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client
