"""The client's address, for throttles that count per address (logins, sign-ups).

Behind a proxy every connection comes from the proxy, so counting ``REMOTE_ADDR`` puts every
client in one bucket: ten wrong guesses by anyone lock out everyone. ``X-Forwarded-For`` names
the client, but anyone can send that header; it is believed only from ``TRUSTED_PROXIES``, and
read from the right (the end the proxies append to), skipping proxies we trust, so a value the
client forged at the left end is never the answer.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request: HttpRequest) -> str:
    """``REMOTE_ADDR``, unless it is a trusted proxy: then the right-most address in
    ``X-Forwarded-For`` that is not a trusted proxy itself."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not settings.TRUSTED_PROXIES or not _trusted(remote):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))[:2000]
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote  # a malformed chain: count the proxy rather than believe it
        if not _trusted(hop):
            return hop
    return hops[0] if hops else remote
