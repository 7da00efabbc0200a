"""Every GraphQL document the app sends to or subscribes from Saleor validates against Saleor's schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from saleor_lengo.resources import graphql_dir
from saleor_lengo.saleor.documents import load
from tests.fakes.saleor import validation_errors
from tests.reference import needs_reference

DOCUMENTS = sorted(
    str(p.relative_to(graphql_dir()))
    for p in graphql_dir().rglob("*.graphql")
    if p.parent.name in ("subscriptions", "queries", "mutations")
)


def test_there_are_documents_for_every_kind() -> None:
    kinds = {Path(d).parts[0] for d in DOCUMENTS}
    assert kinds == {"subscriptions", "queries", "mutations"}
    assert len([d for d in DOCUMENTS if d.startswith("subscriptions/")]) == 6


@needs_reference
@pytest.mark.parametrize("document", DOCUMENTS)
def test_document_validates_against_saleor_schema(document: str) -> None:
    assert validation_errors(load(document)) == []


@needs_reference
def test_an_invalid_document_is_refused_by_the_schema_check() -> None:
    assert validation_errors("query { app { idd } }")
