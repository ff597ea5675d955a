"""Statistics as a picture an officer can receive in a chat: a horizontal bar chart, PNG bytes.

matplotlib runs on the Agg backend (no display) with DejaVu Sans, which has every Vietnamese glyph. pyplot is
imported inside the function so that importing this module stays cheap, and it is used under a lock because
pyplot's figure registry is shared by every thread.
"""

from __future__ import annotations

import io
import textwrap
import threading
from typing import Any

import matplotlib

from locales import t

matplotlib.use("Agg")

FONT = "DejaVu Sans"
BAR_COLOUR = "#2f6f9f"
LABEL_WIDTH = 36  # characters per line of a bar's label
_PYPLOT = threading.Lock()


def number_text(value: float, lang: str) -> str:
    """Counts as people read them: 1.234 and 2,5 in Vietnamese; 1,234 and 2.5 in English."""
    whole = float(value).is_integer()
    text = f"{int(value):,}" if whole else f"{value:,.1f}"
    if lang == "vi":  # swap the separators: a dot groups thousands, a comma marks decimals
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def stats_figure(title: str, series: dict[str, int], lang: str = "vi", xlabel: str = "") -> Any:
    """The chart as a matplotlib Figure (the caller closes it): one bar per entry of ``series``, top to
    bottom in its order, each labelled with its value; the x axis counts from 0 in whole numbers."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    labels = [textwrap.fill(str(name), LABEL_WIDTH) for name in series]
    values = [int(value) for value in series.values()]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = max(2.8, 1.6 + 0.32 * lines + 0.18 * len(labels))
    with plt.rc_context({"font.family": FONT, "font.size": 10}):
        fig, ax = plt.subplots(figsize=(8.5, height), dpi=110)
        ax.set_title(title, fontsize=12, fontweight="bold", loc="left", wrap=True)
        if values:
            positions = list(range(len(values)))
            bars = ax.barh(positions, values, color=BAR_COLOUR)
            ax.set_yticks(positions, labels)
            ax.invert_yaxis()
            ax.bar_label(bars, labels=[number_text(v, lang) for v in values], padding=3, fontsize=9)
            # counts are whole: ticks only at integers (never 0, 0, 1, 1 from rounding 0.5 steps)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: number_text(x, lang)))
            ax.set_xlim(0, max(1, max(values)) * 1.18)
            if xlabel:
                ax.set_xlabel(xlabel)
            ax.spines[["top", "right"]].set_visible(False)
            ax.grid(axis="x", alpha=0.3)
            ax.set_axisbelow(True)
        else:
            ax.text(0.5, 0.5, t("doc.chart.empty", lang), ha="center", va="center", fontsize=12)
            ax.set_axis_off()
        fig.tight_layout()
    return fig


def stats_png(title: str, series: dict[str, int], lang: str = "vi", xlabel: str = "") -> bytes:
    import matplotlib.pyplot as plt

    with _PYPLOT:
        fig = stats_figure(title, series, lang, xlabel)
        try:
            out = io.BytesIO()
            fig.savefig(out, format="png")
        finally:
            plt.close(fig)
    return out.getvalue()
