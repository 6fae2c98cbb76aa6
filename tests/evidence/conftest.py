"""Fixtures of the evidence tests: the console script, and the lab webhook receiver."""

from tests.cli.conftest import cli
from tests.evidence.test_sinks import receiver

__all__ = ["cli", "receiver"]
