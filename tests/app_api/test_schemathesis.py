"""Schemathesis against the app's own GraphQL API, with a valid Dashboard token: no server error for any query.

The cases come from `graphql/app/schema.graphql` (kept equal to the live
schema by `tests/app_api/test_export.py`): every query and mutation, with valid
arguments (positive) and with arguments the schema must refuse (negative).
Each goes through the app in-process. Judged by: HTTP status below 500, no
stack trace, no `INTERNAL` error (the app's mark of a resolver that raised),
and — Schemathesis' own GraphQL checks — a JSON answer that never breaks
the schema's promises (a non-null field answered null, for one).

Schemathesis' `not_a_server_error` is not used as is: it counts every error
with a path as the server's, and the app answers its refusals ("No such
payment.") that way, with `extensions.code` saying which.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode

from tests.conftest import APP_URL
from tests.fakes.dashboard import dashboard_headers
from tests.hostile.harness import HostileApp, assert_no_fault, fuzz
from tests.hostile.strategies import dumps
from tests.hostile.harness import assert_no_internal_error

# End-to-end property runs: hundreds of generated requests through the whole app and its database.
pytestmark = pytest.mark.slow

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "graphql" / "app" / "schema.graphql"
ENDPOINT = APP_URL + "/graphql"
EXAMPLES_PER_OPERATION = 10


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_schemathesis_finds_no_server_error_in_the_app_api(database_url: str, mode: GenerationMode) -> None:
    schema = schemathesis.graphql.from_path(SCHEMA_PATH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [o.label for o in operations]
    with HostileApp(database_url) as app:
        headers = {"content-type": "application/json", **dashboard_headers(app.fake)}
        for operation in operations:  # each query and mutation gets its own examples

            @fuzz(EXAMPLES_PER_OPERATION)
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                body = case.as_transport_kwargs(base_url=ENDPOINT)["json"]
                response = app.post("/graphql", dumps(body), headers)
                what = f"{case.operation.label}: {body['query'][:200]!r}"
                assert_no_fault(response, what)
                assert_no_internal_error(response)
                answer = httpx.Response(
                    response.status, headers=response.headers, content=response.content,
                    request=httpx.Request("POST", ENDPOINT, json=body),
                )
                answer.elapsed = timedelta(0)  # read in full already, on the app's loop
                case.operation.schema.validate_response(case.operation, schemathesis.Response.from_any(answer), case=case)

            check()
