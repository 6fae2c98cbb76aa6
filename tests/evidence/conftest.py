"""The console-script fixture of the CLI tests."""

from tests.cli.conftest import cli

__all__ = ["cli"]
