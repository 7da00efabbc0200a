"""The Saleor Dashboard's side of the app page, for a real browser: a parent page that frames `/app`.

`/` frames the page the way the Dashboard does (query parameters `locale`,
`theme` and `width`, the iframe's width in px, and `payment`, handed on
to the frame as the Dashboard hands on its route's query) and answers `notifyReady`
with a handshake carrying a Dashboard token, as app-bridge does. `/silent`
frames the page and never answers.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.fakes.dashboard import dashboard_token
from tests.fakes.saleor import FakeSaleor

DEFAULT_WIDTH = 600
MAX_WIDTH = 2000

PARENT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Saleor Dashboard (test)</title>
<style>body{margin:0;font:14px sans-serif;background:%(background)s} iframe{width:%(width)dpx;height:1400px;border:0}</style></head>
<body>
<iframe id="app" name="app" title="Lengo Pay" src="%(src)s"></iframe>
<script>
  // The Dashboard's part of app-bridge: answer notifyReady with a handshake.
  var APP_ORIGIN = %(app_origin)s, TOKEN = %(token)s;
  window.received = [];
  window.addEventListener("message", function (event) {
    if (event.origin !== APP_ORIGIN) return;
    window.received.push(event.data);
    if (event.data && event.data.type === "notifyReady") {
      document.getElementById("app").contentWindow.postMessage(
        {type: "handshake", payload: {token: TOKEN, version: 1, saleorVersion: "3.23.28", dashboardVersion: "3.23.0"}},
        APP_ORIGIN);
    }
  });
</script>
</body></html>
"""


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str:
    value = request.query_params.get(name, allowed[0])
    return value if value in allowed else allowed[0]


def parent_app(app_url: str, saleor: FakeSaleor) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        locale = _choice(request, "locale", ("fr", "en"))
        theme = _choice(request, "theme", ("dark", "light"))
        raw_width = request.query_params.get("width", "")
        width = int(raw_width) if raw_width.isdigit() and 200 <= int(raw_width) <= MAX_WIDTH else DEFAULT_WIDTH
        src = (
            f"{app_url}/app?id={saleor.app_id}&theme={theme}&locale={locale}&domain=saleor.test"
            f"&saleorApiUrl={saleor.api_url}"
        )
        # The Dashboard hands its route's query (extensions/app/<id>?payment=…) on to the frame.
        payment = request.query_params.get("payment", "")
        if payment.isalnum():
            src += f"&payment={payment}"
        token = dashboard_token(saleor, ttl=3600)
        return HTMLResponse(
            PARENT_PAGE % {"width": width, "src": src, "app_origin": json.dumps(app_url), "token": json.dumps(token),
                           # The Dashboard around the frame, in its theme: a screenshot shows the page in place.
                           "background": "#1b1b1f" if theme == "dark" else "#ffffff"},
            # The full address as referrer, so the page can find the Dashboard's root in its path.
            headers={"Referrer-Policy": "unsafe-url"},
        )

    async def silent(request: Request) -> HTMLResponse:
        # Frames the page but never answers notifyReady.
        locale = _choice(request, "locale", ("en", "fr"))
        theme = _choice(request, "theme", ("light", "dark"))
        background = "#1b1b1f" if theme == "dark" else "#ffffff"
        return HTMLResponse(
            f'<!doctype html><body style="margin:0;background:{background}"><iframe id="app" name="app" title="Lengo Pay" '
            f'src="{app_url}/app?locale={locale}&theme={theme}&saleorApiUrl={saleor.api_url}"'
            ' style="width:600px;height:400px;border:0"></iframe>'
        )

    # "/extensions/app/<id>": where Saleor 3.23's Dashboard (at the site's root) frames an app.
    return Starlette(routes=[Route("/", page), Route("/extensions/app/{app_id}", page), Route("/silent", silent)])
