"""Hypothesis strategies for hostile requests: JSON of any shape, bodies, headers, tokens, mutations of valid bodies."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

# Field names the app reads somewhere: random shapes built from these reach past the first `get`.
VOCABULARY = (
    "pay_id", "status", "amount", "message", "Client", "client", "recipient", "id", "transaction", "action",
    "currency", "actionType", "sourceObject", "channel", "slug", "currencyCode", "data", "returnUrl",
    "pspReference", "idempotencyKey", "__typename", "checkout", "order", "issuedAt", "version", "merchantReference",
    "query", "variables", "operationName", "auth_token", "chargedAmount", "grantedRefund", "keys", "kid",
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(float),
    st.text(max_size=40),
    st.sampled_from(["", " ", "0", "-1", "1e400", "NaN", "SUCCESS", "FAILED", "GNF", "USD", "CHARGE", "null", "\x00", "ÿ"]),
)
json_keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(json_keys, inner, max_size=5),
    ),
    max_leaves=16,
)
json_objects = st.dictionaries(json_keys, json_values, max_size=8)


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_plain).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


# Bytes that break parsers: truncated JSON, deep nesting, invalid UTF-8, NUL.
nasty_bytes = st.sampled_from(
    [
        b"",
        b"{",
        b"[" * 10_000,
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"\xff\xfe\x00",
        b"\x00" * 64,
        b"NaN",
        b'{"amount": NaN}',
        b'{"amount": Infinity}',
        b'{"amount": 1e999999}',
        b'{"pay_id": "a", "pay_id": "b"}',
        b"null",
        b"[]",
        b'"string"',
        b"pay_id=a&pay_id=b",
        b"&".join(b"f%d=1" % i for i in range(200)),
        b"%zz=%",
        "pay_id=é&status=✓".encode("latin-1", "replace"),
    ]
)
bodies = st.one_of(
    st.binary(max_size=512),
    json_values.map(dumps),
    json_objects.map(dumps),
    st.dictionaries(json_keys, st.text(max_size=20), max_size=6).map(lambda d: urlencode(d).encode()),
    nasty_bytes,
)

# Header values as a server may pass them on: any byte but CR, LF and NUL.
header_values = st.one_of(
    st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
)
header_names = st.one_of(
    st.sampled_from(
        [
            "content-type", "saleor-api-url", "saleor-domain", "saleor-event", "saleor-signature", "x-saleor-event",
            "authorization-bearer", "authorization", "saleor-schema-version", "content-encoding", "transfer-encoding",
        ]
    ),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-"), min_size=1, max_size=16),
)
extra_headers = st.dictionaries(header_names, header_values, max_size=4).map(
    # httpx computes Content-Length and chooses the transfer encoding itself.
    lambda h: {k: v for k, v in h.items() if k not in ("content-length", "transfer-encoding", "host")}
)

saleor_urls = st.one_of(
    st.sampled_from(
        [
            "http://saleor.test/graphql/",
            "http://saleor.test/graphql",
            "https://saleor.test/graphql/",
            "http://[::1",
            "http://[::1]:8000/graphql/",
            "http://]/",
            "http://saleor.test:99999/graphql/",
            "http://saleor.test:-1/graphql/",
            "http://user:pw@saleor.test/graphql/",
            "ftp://saleor.test/graphql/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://%zz/",
            "http:///graphql/",
            "http://a b/",
            "http://127.0.0.1:1/graphql/",
            "//saleor.test/graphql/",
            "http://xn--/graphql/",
            "http://" + "a" * 300 + ".test/graphql/",
            "",
            " ",
        ]
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
    st.builds(lambda host, path: f"http://{host}/{path}", st.text(max_size=20), st.text(max_size=20)),
)

# Callback tokens: real-looking, empty-ish, huge, with every character a URL may carry.
tokens = st.one_of(
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=1, max_size=64),
    st.text(min_size=1, max_size=40),
    st.sampled_from(["..", ".", "%2e%2e", "x" * 257, "x" * 5000, " ", "%00", "null", "undefined"]),
)

DELETE = object()


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON value (dict keys and list indexes)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            found.append((*prefix, key))
            found.extend(paths_of(inner, (*prefix, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.append((*prefix, index))
            found.extend(paths_of(inner, (*prefix, index)))
    return found


def apply(base: Any, edits: Sequence[tuple[tuple[Any, ...], Any]]) -> Any:
    """A copy of `base` with each (path, value) edit: DELETE removes the key, anything else replaces it."""
    body = copy.deepcopy(base)
    for path, value in edits:
        parent = body
        try:
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            if value is DELETE:
                del parent[last]
            else:
                parent[last] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    return body


def mutations(base: Any, max_edits: int = 4) -> st.SearchStrategy[Any]:
    """`base` with a few of its fields deleted or replaced by JSON of any shape."""
    paths = paths_of(base)
    edit = st.tuples(st.sampled_from(paths), st.one_of(st.just(DELETE), json_values))
    return st.lists(edit, min_size=1, max_size=max_edits).map(lambda edits: apply(base, edits))
