"""The SSRF rules of copywriter.webhooks.net, without a database."""

from __future__ import annotations

import socket

import pytest

from copywriter.webhooks import net

REFUSED = {
    "https://127.0.0.1/hook": "127.0.0.1 is a loopback address",
    "https://10.1.2.3/hook": "10.1.2.3 is a private address",
    "https://192.168.0.10/": "a private address",
    "https://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
    "https://[::1]/hook": "::1 is a loopback address",
    "https://[::ffff:127.0.0.1]/hook": "a form of 127.0.0.1, a loopback address",
    "https://[::ffff:169.254.169.254]/": "a form of 169.254.169.254, a link-local address",
    "https://[fe80::1]/": "a link-local address",
    "https://[fd00::1]/": "a private address",
    "https://0.0.0.0/": "an unspecified address",
    "https://224.0.0.1/": "a multicast address",
    "https://240.0.0.1/": "a reserved address",
    "https://100.64.0.1/": "a non-public address",  # carrier-grade NAT
    "https://[64:ff9b::a9fe:a9fe]/": "a form of 169.254.169.254",  # NAT64
    "https://localhost:8000/hook": "localhost resolves to 127.0.0.1, a loopback address",
}


@pytest.mark.parametrize("url", sorted(REFUSED))
def test_internal_targets_are_refused_by_default(url):
    with pytest.raises(net.Refused) as exc:
        net.check(url, [])
    assert REFUSED[url] in str(exc.value)
    assert "WEBHOOK_ALLOWED_NETWORKS" in str(exc.value)


def test_a_public_address_is_accepted_over_https_only():
    assert net.check("https://93.184.215.14/hooks?x=1", []).path == "/hooks?x=1"
    with pytest.raises(net.Refused, match="Use an https:// URL"):
        net.check("http://93.184.215.14/hooks", [])


def test_allowed_networks_let_an_internal_cms_through_even_over_http():
    allowed = net.networks(["127.0.0.0/8", "::1/128", "10.0.5.0/24"])
    assert net.check("http://127.0.0.1:9000/h", allowed).port == 9000
    assert net.check("http://localhost:9000/h", allowed).host == "localhost"
    assert net.check("http://[::ffff:127.0.0.1]:9000/h", allowed).port == 9000
    assert net.check("https://10.0.5.7/h", allowed).scheme == "https"
    with pytest.raises(net.Refused, match="10.0.6.7 is a private address"):
        net.check("https://10.0.6.7/h", allowed)  # the next network is still refused
    with pytest.raises(net.Refused, match="169.254.169.254"):
        net.check("https://169.254.169.254/", allowed)


def test_a_bad_allowed_network_is_named():
    with pytest.raises(ValueError, match="'intranet' is not a network"):
        net.networks(["10.0.0.0/8", "intranet"])


@pytest.mark.parametrize(("url", "message"), [
    ("", "Enter the URL"),
    ("ftp://example.com/", "must start with https://"),
    ("https://user:pass@93.184.215.14/", "Leave the user name and password out"),
    ("https:///path", "no host name"),
    ("https://93.184.215.14:99999/", "not a URL we can read"),
    ("https://93.184.215.14/a b", "spaces or control characters"),
    ("https://93.184.215.14/" + "a" * 2000, "the limit is 2,000"),
])
def test_malformed_urls_say_what_is_wrong(url, message):
    with pytest.raises(net.Refused, match=message):
        net.parse(url)


def test_a_name_with_one_internal_address_is_refused_whole(monkeypatch):
    """A hostname that resolves to a public and an internal address: the connection could go
    to either, so neither is used."""
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(net.socket, "getaddrinfo", fake)
    with pytest.raises(net.Refused, match="cms.example.com resolves to 10.0.0.5, a private"):
        net.check("https://cms.example.com/hook", [])


def test_an_unknown_host_is_unreachable_not_refused():
    with pytest.raises(net.Unreachable, match="could not be found"):
        net.check("https://no-such-host.invalid/hook", [])
