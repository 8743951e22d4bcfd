"""Reaching a webhook's target without letting its URL reach inside our network (SSRF).

Plain Python, no Django. The rules, applied when a webhook is saved and again at every try:

- ``http`` or ``https`` only, no user name or password in the URL;
- the host is resolved here, and every address it resolves to must be public: private,
  loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved, unspecified and
  shared addresses are refused, also when written as IPv4-mapped IPv6 (``::ffff:127.0.0.1``) or
  NAT64 forms, unless the address lies in one of the allowed networks (the self-hoster's
  ``WEBHOOK_ALLOWED_NETWORKS``);
- plain ``http`` only to targets inside the allowed networks (an internal CMS): on the internet
  the payload travels over TLS;
- the connection goes to the address that was checked (the hostname is used only for the Host
  header and TLS), so a second DNS answer (rebinding) cannot switch the target; and redirects are
  never followed (``http.client`` does not), so a public target cannot bounce us inward.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

URL_MAX_CHARS = 2000
EXCERPT_BYTES = 500
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The URL may not be reached; trying again cannot help. ``str()`` says why, for a person."""


class Unreachable(Exception):
    """Nothing answered (no such host, connection refused or reset, a timeout); may pass later."""


def networks(values: Iterable[str]) -> list[Network]:
    """The allowed networks from CIDR strings; a bad one raises ``ValueError`` naming it."""
    out: list[Network] = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"WEBHOOK_ALLOWED_NETWORKS: {value!r} is not a network such as "
                             "10.0.5.0/24") from None
    return out


def _kind(ip: Address) -> str | None:
    """Why ``ip`` is not a public address, or ``None`` when it is."""
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def _embedded(ip: Address) -> list[Address]:
    """``ip`` and the IPv4 address an IPv6 form carries (mapped, NAT64, 6to4, Teredo)."""
    found: list[Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip in NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip.teredo is not None:
            found.append(ip.teredo[1])
    return found


def allowed_by(ip: Address, allowed: Sequence[Network]) -> bool:
    return any(form.version == net.version and form in net  # type: ignore[operator]
               for form in _embedded(ip) for net in allowed)


def refusal(ip: Address, allowed: Sequence[Network]) -> str | None:
    """Why a connection to ``ip`` is refused ("a loopback address", "an IPv4-mapped form of
    127.0.0.1, a loopback address"), or ``None`` when it is allowed."""
    if allowed_by(ip, allowed):
        return None
    carried = _embedded(ip)[1:]
    for form in [*carried, ip]:  # what an IPv6 form carries says more than the form itself
        kind = _kind(form)
        if kind is not None:
            article = "an" if kind[0] in "aeiou" else "a"
            if form != ip:
                return f"a form of {form}, {article} {kind} address"
            return f"{article} {kind} address"
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL, without brackets
    port: int
    path: str  # path and query, what the request line names


def parse(url: str) -> Target:
    """The parts of a webhook URL, or ``Refused`` saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise Refused("Enter the URL that should receive the events, e.g. "
                      "https://cms.example.com/hooks/copywriter.")
    url = url.strip()
    if len(url) > URL_MAX_CHARS:
        raise Refused(f"The URL is {len(url):,} characters long; the limit is {URL_MAX_CHARS:,}.")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise Refused("The URL has spaces or control characters in it; paste it again.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"That is not a URL we can read ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused("The URL must start with https:// (or http:// for an allowed internal "
                      "network).")
    if parts.username is not None or parts.password is not None:
        raise Refused("Leave the user name and password out of the URL: each message is signed "
                      "with the webhook's secret instead.")
    host = parts.hostname or ""
    if not host:
        raise Refused("The URL has no host name.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def resolve(target: Target, allowed: Sequence[Network]) -> list[Address]:
    """Every address the host resolves to, each checked; ``Refused`` when any is not allowed
    (a name with one public and one internal address is refused whole), ``Unreachable`` when
    the name does not resolve."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"The host {target.host} could not be found ({exc}).") from None
    addresses: list[Address] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise Unreachable(f"The host {target.host} has no address.")
    for ip in addresses:
        why = refusal(ip, allowed)
        if why is not None:
            lead = (f"{target.host} is {why}" if _literal(target.host) == ip
                    else f"{target.host} resolves to {ip}, {why}")
            raise Refused(f"{lead}. Webhooks reach public addresses only; a self-hosted server "
                          "can allow an internal network with the WEBHOOK_ALLOWED_NETWORKS "
                          "setting.")
    if target.scheme == "http" and not all(allowed_by(ip, allowed) for ip in addresses):
        raise Refused("Use an https:// URL: plain http is accepted only for an internal network "
                      "allowed by the WEBHOOK_ALLOWED_NETWORKS setting.")
    return addresses


def check(url: str, allowed: Sequence[Network]) -> Target:
    """Everything ``post`` will check, for a form: ``Refused`` or ``Unreachable`` say why."""
    target = parse(url)
    resolve(target, allowed)
    return target


class _Pinned(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified against the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status: int
    excerpt: str
    address: str
    duration_ms: int


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
         allowed: Sequence[Network]) -> Answer:
    """POST ``body`` once. ``Refused`` (do not try again), ``Unreachable`` (may pass later), or
    the answer, whatever its status: redirects are answers too, never followed."""
    target = parse(url)
    addresses = resolve(target, allowed)
    kind = _PinnedTLS if target.scheme == "https" else _Pinned
    started = time.monotonic()
    last: Exception | None = None
    for ip in addresses[:3]:
        conn = kind(target.host, target.port, str(ip), timeout)
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read(EXCERPT_BYTES)
            return Answer(response.status, raw.decode("utf-8", "replace"), str(ip),
                          int((time.monotonic() - started) * 1000))
        except ssl.SSLError as exc:
            raise Refused(f"TLS failed with {target.host}: {exc.reason or exc}.") from None
        except (OSError, http.client.HTTPException) as exc:
            last = exc
            if isinstance(exc, TimeoutError | socket.timeout):
                break  # one timeout is enough waiting for one try
        finally:
            conn.close()
    what = ("did not answer within the time limit" if isinstance(last, TimeoutError)
            else f"could not be reached ({type(last).__name__}: {last})")
    raise Unreachable(f"{target.host} {what}.")
