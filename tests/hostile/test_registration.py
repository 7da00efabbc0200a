"""`POST /api/register` under any body and headers: no 5xx, no stack trace, nothing stored unless Saleor confirms the token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.harness import HostileApp, assert_no_fault, fuzz
from tests.hostile.strategies import bodies, dumps, extra_headers, json_values, saleor_urls

# End-to-end property runs: hundreds of generated requests through the whole app and its database.
pytestmark = pytest.mark.slow


def test_registration_refuses_any_body_and_headers_without_the_app_token(database_url: str) -> None:
    with HostileApp(database_url) as app:
        before = app.snapshot()

        @fuzz(60)
        @given(body=bodies, url=st.none() | saleor_urls, headers=extra_headers)
        def check(body: bytes, url: str | None, headers: dict[str, str | bytes]) -> None:
            if url is not None:
                headers = {**headers, "saleor-api-url": url}
            response = app.post("/api/register", body, headers)
            assert_no_fault(response, f"register {url!r}")
            assert 400 <= response.status < 500, response.text
            assert app.snapshot() == before

        check()


def test_registration_with_the_app_token_stores_only_what_saleor_confirms(database_url: str) -> None:
    with HostileApp(database_url) as app:

        @fuzz(60)
        @given(
            url=st.one_of(st.just("http://saleor.test/graphql/"), saleor_urls),
            token=st.one_of(st.sampled_from(["real", "empty"]), st.text(max_size=40), json_values),
            extra=st.dictionaries(st.text(max_size=10), json_values, max_size=3),
        )
        def check(url: str, token: object, extra: dict[str, object]) -> None:
            auth_token = app.fake.app_token if token == "real" else "" if token == "empty" else token
            body = {**extra, "auth_token": auth_token}
            before = app.snapshot()
            response = app.post("/api/register", dumps(body), {"saleor-api-url": url})
            assert_no_fault(response, f"register {url!r}")
            if response.status == 200:
                assert auth_token == app.fake.app_token
                assert response.json() == {"success": True}
            else:
                assert 400 <= response.status < 500, response.text
                assert response.json()["success"] is False
                assert app.snapshot() == before

        check()
