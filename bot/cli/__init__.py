"""The ``smebot`` command (``bot.cli:main``): one sub-command per job.

- ``classify | estimate | items``: the rules engine on the command line (``rules``; the firm's options in
  ``profile``);
- ``chat`` (the terminal chat), ``run`` (the Telegram bot), ``db upgrade`` (``app``);
- ``parser``: a usage mistake is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli.parser import Parser, UsageError, fail
from bot.cli.rules import add_rules_commands


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="smebot", description="smebot: state support for Vietnamese SMEs")
    parser.add_argument("--lang", choices=["vi", "en"], default="vi")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_rules_commands(sub)
    try:
        from bot.cli.app import add_app_commands
    except ImportError:  # the chat shell is optional while the rules CLI stands alone
        pass
    else:
        add_app_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --lang may come after the sub-command too
    if "--lang" in argv[1:]:
        i = argv.index("--lang")
        if i + 1 < len(argv):
            argv = [argv[i], argv[i + 1], *argv[:i], *argv[i + 2 :]]
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except UsageError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
