"""Statistics as a picture an officer can receive in a chat: a horizontal bar chart, PNG bytes.

matplotlib runs on the Agg backend (no display) with DejaVu Sans, which has every Vietnamese glyph. pyplot is
imported inside the function so that importing this module stays cheap, and it is used under a lock because
pyplot's figure registry is shared by every thread.
"""

from __future__ import annotations

import io
import textwrap
import threading

import matplotlib

from locales import t

matplotlib.use("Agg")

FONT = "DejaVu Sans"
BAR_COLOUR = "#2f6f9f"
LABEL_WIDTH = 36  # characters per line of a bar's label
_PYPLOT = threading.Lock()


def _number(value: int, lang: str) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if lang == "vi" else grouped


def stats_png(title: str, series: dict[str, int], lang: str = "vi") -> bytes:
    """One bar per entry of ``series``, top to bottom in its order, each labelled with its value."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    labels = [textwrap.fill(str(name), LABEL_WIDTH) for name in series]
    values = [int(value) for value in series.values()]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = max(2.8, 1.4 + 0.32 * lines + 0.18 * len(labels))
    with _PYPLOT, plt.rc_context({"font.family": FONT, "font.size": 10}):
        fig, ax = plt.subplots(figsize=(8.5, height), dpi=110)
        try:
            ax.set_title(title, fontsize=12, fontweight="bold", loc="left", wrap=True)
            if values:
                positions = list(range(len(values)))
                bars = ax.barh(positions, values, color=BAR_COLOUR)
                ax.set_yticks(positions, labels)
                ax.invert_yaxis()
                ax.bar_label(bars, labels=[_number(v, lang) for v in values], padding=3, fontsize=9)
                ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _number(int(x), lang)))
                ax.margins(x=0.18)
                ax.spines[["top", "right"]].set_visible(False)
                ax.grid(axis="x", alpha=0.3)
                ax.set_axisbelow(True)
            else:
                ax.text(0.5, 0.5, t("doc.chart.empty", lang), ha="center", va="center", fontsize=12)
                ax.set_axis_off()
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format="png")
        finally:
            plt.close(fig)
    return out.getvalue()
