"""A minimal fake Saleor for the benchmarks: answers `transactionEventReport` with success, at once.

Not `tests.fakes.saleor.FakeSaleor`: that one validates and executes every
document against Saleor's schema with graphql-core, which costs more than the
app's relay itself and would measure the fake instead of the relay. This one
only counts the reports it receives and the HTTP requests that carried them (`GET /stats`) and serves the JWKS
(`--jwks FILE`), so the app could refetch keys if it had to. `POST /settings {"batch_max_count": N}` sets
Saleor's `GRAPHQL_BATCH_MAX_COUNT` (a longer list is refused whole, as Saleor does; 1 is Saleor's default).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app(jwks: bytes) -> Starlette:
    seen = {"reports": 0, "other": 0, "requests": 0}
    settings = {"batch_max_count": 1000}

    def answer(operation: dict[str, object]) -> dict[str, object]:
        if "transactionEventReport" not in str(operation.get("query") or ""):
            seen["other"] += 1
            return {"data": None}
        seen["reports"] += 1
        return {"data": {"transactionEventReport": {
            "alreadyProcessed": False, "transactionEvent": {"id": f"VHJhbnNhY3Rpb25FdmVudDo{seen['reports']}"}, "errors": []}}}

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        seen["requests"] += 1
        if isinstance(body, list) and len(body) > settings["batch_max_count"]:
            return Response(json.dumps({"errors": [{"message": "Number of batch queries exceeded."}]}),
                            status_code=400, media_type="application/json")
        # A list of operations is answered with a list, as Saleor's GraphQL view does.
        answers = [answer(op) for op in body] if isinstance(body, list) else answer(body)
        return Response(json.dumps(answers), media_type="application/json")

    async def jwks_route(_request: Request) -> Response:
        return Response(jwks, media_type="application/json")

    async def stats(_request: Request) -> Response:
        return Response(json.dumps(seen), media_type="application/json")

    async def set_settings(request: Request) -> Response:
        settings["batch_max_count"] = int(json.loads(await request.body())["batch_max_count"])
        return Response(json.dumps(settings), media_type="application/json")

    return Starlette(routes=[
        Route("/graphql/", graphql, methods=["POST"]),
        Route("/.well-known/jwks.json", jwks_route, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/settings", set_settings, methods=["POST"]),
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(args.jwks.read_bytes()), host="127.0.0.1", port=args.port, workers=1, access_log=False,
                log_level="warning")


if __name__ == "__main__":
    main()
