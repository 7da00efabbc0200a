"""Where the shipped files are: inside the wheel, or at the repository top in a checkout.

The wheel maps `graphql/` and `manifest.json` under `saleor_lengo/_resources/`
(see pyproject.toml); an editable install reads them from the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def resource_root() -> Path:
    shipped = _PACKAGE / "_resources"
    if (shipped / "manifest.json").exists():
        return shipped
    return _PACKAGE.parent


def graphql_dir() -> Path:
    return resource_root() / "graphql"


def manifest_template_path() -> Path:
    return resource_root() / "manifest.json"


def documentation_path(name: str) -> Path:
    """The project's own documentation the manifest links to: README.md, docs/operations.md or docs/privacy.md."""
    return resource_root() / name


def static_dir() -> Path:
    return _PACKAGE / "static"
