"""Links into the Saleor Dashboard (3.23 routes): a payment in the app's page, as a transaction event's externalUrl.

The Dashboard opens an installed app at `extensions/app/<app id>` and hands
the route's query string to the app's frame, where the page opens the
payment named by `?payment=`. The Dashboard is found at `DASHBOARD_URL`, or
else where Saleor serves it beside its API (`<origin>/dashboard/`, as Saleor
Cloud and the default deployment do).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit


def base_url(saleor_api_url: str, dashboard_url: str | None) -> str:
    if dashboard_url:
        return dashboard_url
    parts = urlsplit(saleor_api_url)
    return f"{parts.scheme}://{parts.netloc}/dashboard/"


def payment_page(saleor_api_url: str, app_id: str, payment_id: str, dashboard_url: str | None) -> str:
    app = quote(app_id, safe="")
    return f"{base_url(saleor_api_url, dashboard_url)}extensions/app/{app}?{urlencode({'payment': payment_id})}"
