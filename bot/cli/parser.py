"""argparse for smebot: a usage mistake is one line on stderr and exit 2, never a usage dump."""

from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """Bad input on the command line: one line for stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit 2, never a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def fail(message: str) -> int:
    print(f"smebot: {message}", file=sys.stderr)
    return 2
