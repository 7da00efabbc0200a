"""The shared outbound client keeps no cookie: one merchant's Lengo session never rides on another's call."""

from __future__ import annotations

import httpx

from saleor_lengo.lengo.client import LengoClient, LengoCredentials
from saleor_lengo.money import Money
from saleor_lengo.outbound import make_http_client

LENGO = "http://lengo.test"


async def test_a_cookie_lengo_sets_for_one_merchant_is_not_sent_with_the_next_merchants_call() -> None:
    seen: list[httpx.Request] = []

    def lengo(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        # As a PHP or Laravel front would: a session cookie on an API answer.
        cookie = {"set-cookie": "laravel_session=merchant-a-session; Path=/; HttpOnly"}
        if request.url.path == "/api/v1/payments":
            return httpx.Response(
                200, headers=cookie, json={"status": "Success", "pay_id": "PAY-A", "payment_url": "http://lengo.test/pay/PAY-A"}
            )
        return httpx.Response(200, headers=cookie, json={"status": "SUCCESS", "pay_id": "PAY-B", "amount": "5000"})

    async with make_http_client("none", transport=httpx.MockTransport(lengo)) as http:
        merchant_a = LengoClient(http, LengoCredentials(LENGO, "site-a", "key-a"))
        merchant_b = LengoClient(http, LengoCredentials(LENGO, "site-b", "key-b"))
        await merchant_a.create_payment(Money.parse("5000", "GNF"), return_url=None, callback_url=None)
        await merchant_b.payment_status("PAY-B")

        assert [r.url.path for r in seen] == ["/api/v1/payments", "/api/v1/transaction/status"]
        assert "cookie" not in seen[1].headers
        assert len(http.cookies) == 0

