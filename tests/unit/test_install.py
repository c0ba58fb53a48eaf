"""The pinned dependency set installs on every Python version pyproject.toml claims (Requires-Python of each pin)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]


def _claimed() -> SpecifierSet:
    return SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"])


def _oldest_of_each_claimed_minor() -> list[Version]:
    """3.11.0, 3.12.0, ...: the first release of every minor version the project says it supports."""
    return [Version(f"3.{minor}.0") for minor in range(8, 20) if Version(f"3.{minor}.0") in _claimed()]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            pins[requirement.name] = str(requirement.specifier).removeprefix("==")
    return pins


def test_every_pin_supports_the_oldest_python_of_each_claimed_version() -> None:
    """e.g. soupsieve 4.1.3 needs >= 3.11.5 and cannot be installed on Debian 12's Python 3.11.2."""
    floors = _oldest_of_each_claimed_minor()
    assert floors and floors[0] == Version("3.11.0")
    refused, checked = [], 0
    for name, version in _pins().items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # only installed on other Pythons (an environment marker), e.g. async-timeout below 3.11.3
        assert dist.version == version, f".venv has {name} {dist.version}, constraints.txt pins {version}"
        checked += 1
        requires = SpecifierSet(dist.metadata.get("Requires-Python") or "")
        refused += [f"{name}=={version} needs Python {requires}" for v in floors if v not in requires]
    assert checked > 100
    assert not refused, refused


def test_every_installed_distribution_is_pinned() -> None:
    """A dependency left out of constraints.txt would float to whatever is newest on the day of install."""
    pinned = {re.sub(r"[-_.]+", "-", name).lower() for name in _pins()}
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() for d in metadata.distributions()}
    unpinned = installed - pinned - {"news-pipeline", "pip", "setuptools", "wheel"}
    assert not unpinned, f"add to constraints.txt: {sorted(unpinned)}"
