"""`python -m tests.screenshots OUTDIR`: a PNG of every screen of the merchant's page, light and dark,
English and French, in OUTDIR (made if missing), named `<locale>-<theme>-<screen>.png`.

Needs Chromium and its driver (`apt-get install chromium chromium-driver`).
Runs tests/web/test_dashboard_screens.py, which also checks each screen.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.screenshots OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["SCREENSHOTS_DIR"] = str(out)
    here = Path(__file__).resolve().parent
    code = int(pytest.main([str(here / "web" / "test_dashboard_screens.py"), "-q", "-p", "no:cacheprovider", "-k", "sqlite"]))
    if code == 0:
        print(f"screenshots in {out}")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
