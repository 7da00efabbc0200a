"""requirements/*.txt lock what pyproject.toml asks for: exact versions, with hashes, each admitted by its range.

`requirements/app.txt` is what the app installs (README command 1, the
Docker image); `requirements/test.txt` adds the test extra (README command 2,
.ci/run). Both come from `requirements/compile`. Chosen strictness: every
locked package must be required by the project or by another locked package
(a leftover pin fails), and the two locks agree on every package they share.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, requires
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "saleor-lengo (pyproject.toml)"
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==(\S+?)(?:\s*;\s*(.+?))?\s*((?:--hash=sha256:[0-9a-f]{64}\s*)+)$")


@dataclass
class Pin:
    version: str
    marker: str | None
    hashes: int
    via: set[str] = field(default_factory=set)


def parse_lock(text: str) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if current is not None:
                name = stripped.lstrip("#").strip().removeprefix("via").strip()
                if name:
                    current.via.add(name if name == PROJECT else str(canonicalize_name(name)))
            continue
        logical += " " + stripped.removesuffix("\\")
        if stripped.endswith("\\"):
            continue
        entry = ENTRY.match(logical.strip())
        logical = ""
        if entry is None:
            continue
        name = str(canonicalize_name(entry[1]))
        assert name not in pins, f"{name} is pinned twice"
        current = pins[name] = Pin(entry[2], entry[3], entry[4].count("--hash="))
    return pins


def extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What `name[extra]` adds, read from the installed distribution's metadata."""
    if not requirement.extras:
        return []
    try:
        declared = requires(requirement.name) or []
    except PackageNotFoundError:
        return [Requirement(f"{requirement.name}-metadata-not-installed")]
    added = []
    for line in declared:
        candidate = Requirement(line)
        if candidate.marker is not None and any(
            candidate.marker.evaluate({"extra": extra}) and not candidate.marker.evaluate({"extra": ""})
            for extra in requirement.extras
        ):
            added.append(candidate)
    return added


def disagreements(requirements: list[str], pins: dict[str, Pin]) -> list[str]:
    """Why `pins` does not lock `requirements` (pyproject strings), empty when it does."""
    problems: list[str] = []
    wanted: list[Requirement] = []
    for line in requirements:
        requirement = Requirement(line)
        wanted += [requirement, *extra_requirements(requirement)]
    for requirement in wanted:
        pin = pins.get(str(canonicalize_name(requirement.name)))
        if pin is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} does not admit the locked {pin.version}")
    for name, pin in sorted(pins.items()):
        if pin.hashes == 0:
            problems.append(f"{name} has no hash")
        if not pin.via or not all(v == PROJECT or v in pins for v in pin.via):
            problems.append(f"{name} is required by nothing locked ({sorted(pin.via)})")
    return problems


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def lock(name: str) -> dict[str, Pin]:
    return parse_lock((ROOT / "requirements" / name).read_text())


def test_the_app_lock_pins_every_runtime_requirement_at_a_version_pyproject_admits() -> None:
    assert disagreements(pyproject()["dependencies"], lock("app.txt")) == []


def test_the_test_lock_pins_the_runtime_and_the_test_requirements() -> None:
    project = pyproject()

    assert disagreements([*project["dependencies"], *project["optional-dependencies"]["test"]], lock("test.txt")) == []


def test_the_two_locks_pin_the_packages_they_share_alike() -> None:
    app, test = lock("app.txt"), lock("test.txt")

    assert set(app) <= set(test)
    assert {n: app[n].version for n in app} == {n: test[n].version for n in app}


def test_the_app_runs_on_uvloop_and_httptools_without_file_watchers_or_websockets() -> None:
    app = lock("app.txt")

    assert {"uvloop", "httptools"} <= set(app)
    assert not {"watchfiles", "websockets"} & set(app)


LOCK = """\
alpha==1.2.0 \\
    --hash=sha256:{h}
    # via saleor-lengo (pyproject.toml)
beta==2.0.0 ; python_full_version < '3.12' \\
    --hash=sha256:{h} \\
    --hash=sha256:{h}
    # via
    #   alpha
    #   saleor-lengo (pyproject.toml)
""".format(h="0" * 64)


@pytest.mark.parametrize(
    ("requirements", "lock_text", "expected"),
    [
        (["alpha>=1", "beta<3"], LOCK, []),
        (["alpha>=1", "beta<3", "gamma"], LOCK, ["gamma is not in the lock"]),
        (["alpha>=1.3", "beta<3"], LOCK, ["alpha>=1.3 does not admit the locked 1.2.0"]),
        (["alpha>=1"], LOCK + "stray==1.0 \\\n    --hash=sha256:" + "1" * 64 + "\n    # via nobody\n",
         ["stray is required by nothing locked (['nobody'])"]),
    ],
)
def test_the_check_fails_when_pyproject_and_the_lock_disagree(
    requirements: list[str], lock_text: str, expected: list[str]
) -> None:
    pins = parse_lock(lock_text)

    assert (pins["beta"].version, pins["beta"].hashes, pins["beta"].via) == ("2.0.0", 2, {"alpha", PROJECT})
    assert disagreements(requirements, pins) == expected
