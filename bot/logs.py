"""Logging without personal data: what an owner typed never reaches the log.

The code logs ids (the update, the user key such as ``telegram:12345``, a dossier's reference) and
exception types. What it cannot control is the text of an exception: a parser's ``ValueError`` quoting
the input, a platform's error echoing the message it refused, a database error with the values of a
row. :class:`PrivacyFilter`, on every handler, rewrites each record before it is written:

- an exception among the message's arguments is shown by its type only;
- a traceback keeps its frames (file, line, function: code, not data) and shows each exception in the
  chain by type, with its message withheld;
- what is left is scrubbed of the shapes personal data takes here: e-mail addresses, phone numbers
  and tax codes written like them, bot tokens.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import TextIO

WITHHELD = "<message withheld>"
PATTERNS = (
    (re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"), "<token>"),  # a Telegram bot token
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    # phone numbers and the tax codes that start like them (0100109106, 0100109106-001); platform ids
    # (update 812345678, telegram:12345) stay readable
    (re.compile(r"(?<![\w:])(?:\+84|0)\d(?:[ .-]?\d){7,10}(?:-\d{3})?(?!\w)"), "<number>"),
)


def scrub(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _label(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def describe(error: BaseException) -> str:
    """An exception as the log may show it: its type, not its message."""
    return f"{_label(error)}: {WITHHELD}"


def format_traceback(error: BaseException) -> str:
    """A traceback with every exception of the chain by type only (frames are code, not data)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        block = ["Traceback (most recent call last):\n", *traceback.format_tb(current.__traceback__)]
        block.append(describe(current) + "\n")
        parts.insert(0, "".join(block))
        if current.__cause__ is not None:
            parts.insert(0, "\nThe above exception was the direct cause of the following exception:\n\n")
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            parts.insert(0, "\nDuring handling of the above exception, another exception occurred:\n\n")
            current = current.__context__
        else:
            current = None
    return "".join(parts).rstrip("\n")


class PrivacyFilter(logging.Filter):
    """Put on a handler: every record it writes, from any logger, is rewritten as the module says."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            args = tuple(describe(a) if isinstance(a, BaseException) else a for a in args)
        try:
            message = str(record.msg) % args if args else str(record.msg)
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = format_traceback(record.exc_info[1])
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def _log_uncaught(kind: type[BaseException], error: BaseException | None, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):  # Ctrl-C: Python's own short answer
        sys.__excepthook__(kind, error if error is not None else kind(), tb)
        return
    error = error if error is not None else kind()
    logging.getLogger("smebot").critical("uncaught %s", kind.__name__, exc_info=(kind, error, tb))


def configure(level: int, fmt: str, stream: TextIO = sys.stderr) -> logging.Handler:
    """The process's logging: one handler on the root logger, through :class:`PrivacyFilter`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(PrivacyFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # what nothing caught is logged too (through the filter), not printed with its message
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda hook: _log_uncaught(hook.exc_type, hook.exc_value, hook.exc_traceback)
    # A Bot API URL carries the token. aiohttp (the bot's backend) does not log requests; httpx, PTB's
    # default, logs each at INFO with its URL: should anything fall back to it, the token stays out.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
