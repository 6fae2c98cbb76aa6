"""The toy provider installed for this folder's tests only (its dist-info on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugins.toyidp.install import registered


@pytest.fixture(scope="module", autouse=True)
def toy_installed() -> Iterator[None]:
    """The ``toy`` entry points visible while the module's tests run."""
    with registered():
        yield
