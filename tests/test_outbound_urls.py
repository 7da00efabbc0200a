"""`outbound.check_url` checks each origin once: it must accept and refuse exactly what parsing the whole URL did.

The reference below is the check as it was (both parsers on the whole URL,
every time); the property test feeds both URLs made of hostile pieces.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saleor_lengo.outbound import UnsafeUrl, check_url


def reference_accepts(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
        httpx.URL(url).host  # noqa: B018
    except (ValueError, httpx.InvalidURL):
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return not (parts.username or parts.password)


def accepts(url: str) -> bool:
    try:
        assert check_url(url) == url
    except UnsafeUrl:
        return False
    return True


SCHEMES = st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript", "", "http:", "h ttp"])
HOSTS = st.sampled_from([
    "shop.example", "127.0.0.1", "[::1]", "[::1", "::1]", "xn--nxasmq6b.example", "xn--a.example", "bücher.example",
    "user:pw@shop.example", "user@shop.example", "@shop.example", "shop.example:8443", "shop.example:99999",
    "shop.example:-1", "shop.example:abc", "", "shop example", "shop\texample", "[v1.x]", "%41.example",
    "shop.example\\@evil.example", "a" * 300 + ".example",
])
REST = st.lists(st.sampled_from([*"/?#&=%:@ab\\ .é\x00\x7f\t\n[]", "%zz", "%41"]), max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(SCHEMES, st.sampled_from(["://", ":/", ":", "//"]), HOSTS, REST)
def test_the_same_urls_are_accepted_as_by_parsing_all_of_each(scheme: str, sep: str, host: str, rest: str) -> None:
    url = f"{scheme}{sep}{host}{rest}"
    assert accepts(url) == reference_accepts(url), url


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://shop.example/checkout/return?transactionId=VHJhbnNhY3Rpb246MQ==", True),
        ("https://shop.example/pay?x=1\n", False),  # a control character past the origin
        ("https://shop.example/" + "a" * 70000, False),  # longer than httpx accepts
        ("https://user:pw@shop.example/", False),
        ("https://shop.example:99999/", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_url_check_agrees_with_the_reference_parser_on_known_urls(url: str, ok: bool) -> None:
    assert accepts(url) is ok and reference_accepts(url) is ok


def test_a_refused_url_is_named_in_the_error_and_stays_refused() -> None:
    for _ in range(2):  # refusals are not cached as acceptances
        with pytest.raises(UnsafeUrl, match="not a valid URL: 'http://\\[::1/x'"):
            check_url("http://[::1/x")
