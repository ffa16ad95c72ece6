"""One plotting style for the whole course (matplotlib).

Call :func:`style` once at the top of a notebook; use :func:`caption` to put the
source and sample size under every chart, so a reader always knows where a
number comes from.
"""

from __future__ import annotations

PALETTE = ["#3B6EA8", "#E07B39", "#5AA469", "#C44E52", "#8172B2", "#937860", "#DA8BC3", "#8C8C8C"]


def style() -> None:
    """Apply the course style to matplotlib (idempotent)."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.prop_cycle": mpl.cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.labelsize": 10,
            "legend.frameon": False,
            "font.size": 10,
            "svg.hashsalt": "aie",  # stable SVG ids
        }
    )


def caption(ax, source: str, n: str | int | None = None) -> None:
    """Write 'Source: …; n = …' under the axes."""
    text = f"Source: {source}"
    if n is not None:
        text += f"; n = {n:,}" if isinstance(n, int) else f"; n = {n}"
    ax.figure.text(0.01, -0.02, text, ha="left", va="top", fontsize=8, color="#555555", wrap=True)


def percent_axis(ax, axis: str = "x") -> None:
    """Format an axis whose values are percentages (0-100)."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v:.0f}%")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)
