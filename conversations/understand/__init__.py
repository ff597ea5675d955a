"""Reading what people answer: one place for choices, yes/no, counts, durations and money.

People answer with words, approximations and slang, not with the exact label: "ko", "chua co", "co roi",
"tnhh 2 thanh vien", "cai dau", "1, 2 va 3", "3 nguoi", "5 nam roi", "khoang 300tr". Every step reads
its answer here, so every flow understands the same forms. A reader returns what it understood (with
``guessed`` set when the answer was interpreted rather than typed as shown, so the engine can echo it
back) or raises :class:`Invalid` with the message to show; it never raises anything else.

:func:`clean_text` is the edge: the engine cleans every input with it once, before anything is stored.
"""

from __future__ import annotations

from conversations.understand.amounts import Amount, read_money
from conversations.understand.choices import Picked, nav_word, read_choice, read_choices, visible_range
from conversations.understand.numbers import Number, read_count, read_months
from conversations.understand.words import (
    MAX_TEXT,
    PAGE_SIZE,
    Invalid,
    clean_text,
    declines,
    is_negative,
    key,
    yes_no,
)

__all__ = [
    "MAX_TEXT",
    "PAGE_SIZE",
    "Amount",
    "Invalid",
    "Number",
    "Picked",
    "clean_text",
    "declines",
    "is_negative",
    "key",
    "nav_word",
    "read_choice",
    "read_choices",
    "read_count",
    "read_money",
    "read_months",
    "visible_range",
    "yes_no",
]
