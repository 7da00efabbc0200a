"""The built wheel carries its GraphQL documents, manifest and logo, and a non-editable install finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# End-to-end: builds and installs the wheel in a fresh venv.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _build_wheel(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("saleor_lengo-*.whl")
    return wheel


def test_wheel_ships_resources_under_the_package_and_no_top_level_graphql(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "saleor_lengo/_resources/manifest.json" in names
    assert "saleor_lengo/_resources/graphql/subscriptions/transaction-initialize-session.graphql" in names
    assert "saleor_lengo/_resources/graphql/mutations/transaction-event-report.graphql" in names
    assert "saleor_lengo/static/logo.png" in names
    # The manifest's homepage, support and privacy links serve these.
    assert {f"saleor_lengo/_resources/{doc}" for doc in ("README.md", "docs/operations.md", "docs/privacy.md")} <= names
    assert not any(n.startswith("graphql/") for n in names)


def test_a_non_editable_install_renders_the_manifest(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import saleor_lengo, graphql, json;"
        "from saleor_lengo.saleor.manifest import render_manifest;"
        "from saleor_lengo.settings import load_settings;"
        "assert saleor_lengo.__file__.startswith(%r), saleor_lengo.__file__;"
        "assert hasattr(graphql, 'build_schema');"  # graphql-core is not shadowed
        "m = render_manifest(load_settings({'SECRET_KEY': 'x'*32, 'DATABASE_URL': 'sqlite:///:memory:'}));"
        "print(len(m['webhooks']))"
    ) % str(site)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env={"PYTHONPATH": str(site)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "6"
