"""``python -m bot.cli``: the same as the installed ``smebot`` command."""

from bot.cli import main

raise SystemExit(main())
