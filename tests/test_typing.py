"""The package type-checks under `mypy --strict` (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Type-check: mypy --strict over the package.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_passes_strict_mypy() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "saleor_lengo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
