"""SSRF guard: non-public addresses refused after DNS, at every redirect hop, and at connect time."""

from __future__ import annotations

import pytest

import pipeline.fetch.ssrf as ssrf_module
from pipeline.errors import FetchError
from pipeline.fetch import Fetcher, is_public_address
from pipeline.newssite import Response, Site
from pipeline.settings import Settings

from .helpers import fast_settings

pytestmark = pytest.mark.timeout(30)
GUARDED = fast_settings(allow_private_networks=False, respect_robots=False)
HTML = "<html><body>ok</body></html>"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("100.64.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("255.255.255.255", False),
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_loopback_is_refused_by_default() -> None:
    with Site({"/a": Response(HTML)}) as site, Fetcher(GUARDED) as f:
        for url in (site.url("/a"), f"http://localhost:{site.port}/a"):
            with pytest.raises(FetchError) as err:
                f.fetch(url)
            assert err.value.reason == "unsafe_url"
    assert site.requests == []  # refused before connecting


def test_default_settings_refuse_private_networks() -> None:
    assert Settings().allow_private_networks is False
    assert Settings.from_env({}).allow_private_networks is False


def test_env_setting_allows_private_networks() -> None:
    settings = Settings.from_env({"NEWS_PIPELINE_ALLOW_PRIVATE_NETWORKS": "1"}, respect_robots=False)
    with Site({"/a": Response(HTML)}) as site, Fetcher(settings) as f:
        assert f.fetch(site.url("/a")).status == 200


@pytest.fixture
def loopback_one_is_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend 127.0.0.1 is a public address so a site on it can play the public first hop."""
    real = ssrf_module.is_public_address
    monkeypatch.setattr(ssrf_module, "is_public_address", lambda a: a == "127.0.0.1" or real(a))


@pytest.mark.usefixtures("loopback_one_is_public")
@pytest.mark.parametrize(
    "target",
    ["private_site", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/admin", "http://[::1]/"],
)
def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    with Site({"/ok": Response(HTML)}, host="127.0.0.2") as private:
        location = private.url("/ok") if target == "private_site" else target
        with (
            Site({"/go": Response(status=302, headers={"Location": location})}) as public,
            Fetcher(GUARDED) as f,
        ):
            with pytest.raises(FetchError) as err:
                f.fetch(public.url("/go"))
    assert err.value.reason == "unsafe_url"
    assert public.hits("/go") == 1 and private.requests == []


def test_dns_rebinding_is_caught_at_connect_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS said public, the socket reached loopback: the connection-level check refuses it."""
    monkeypatch.setattr(ssrf_module, "resolve_addresses", lambda host, port: ["93.184.216.34"])
    with Site({"/a": Response(HTML)}) as site, Fetcher(GUARDED) as f:
        with pytest.raises(FetchError) as err:
            f.fetch(site.url("/a"))
    assert err.value.reason == "unsafe_url" and site.requests == []


@pytest.mark.usefixtures("loopback_one_is_public")
def test_redirect_hop_is_checked_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the connect-time check off, the DNS check at the hop alone keeps the private site safe."""
    monkeypatch.setattr(ssrf_module, "check_peer", lambda sock, host: None)
    with Site({"/ok": Response(HTML)}, host="127.0.0.2") as private:
        with Site({"/go": Response(status=302, headers={"Location": private.url("/ok")})}) as public:
            with Fetcher(GUARDED) as f, pytest.raises(FetchError) as err:
                f.fetch(public.url("/go"))
    assert err.value.reason == "unsafe_url" and "resolves to non-public" in str(err.value)
    assert private.requests == []
