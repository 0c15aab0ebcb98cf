"""The figure of a claim's turning point: the paired difference along the swept key.

It draws the mean paired difference (claim side − the side it is compared with) at every
value run, with its 95 % CI as error bars, the claim's bound(s) as dashed lines, and the
turning value with its CI as a vertical line over a shaded band.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def turning_figure(
    values: Sequence[float],
    means: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    bounds: Sequence[float],
    turning: float | None,
    ci: tuple[float, float] | None,
    xlabel: str,
    ylabel: str,
    title: str,
) -> Figure:
    """Paired difference against the swept value, with the claim's bounds and turning point.

    Args:
        values: the values run (sorted).
        means: mean paired difference at each value.
        lows: lower 95 % CI bound at each value.
        highs: upper 95 % CI bound at each value.
        bounds: horizontal lines where the claim's verdict changes (one, or ±margin).
        turning: the turning value, if any.
        ci: its 95 % CI.
        xlabel: the swept key.
        ylabel: the metric's difference.
        title: figure title.
    """
    fig = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    yerr = [
        [m - lo for m, lo in zip(means, lows, strict=True)],
        [hi - m for m, hi in zip(means, highs, strict=True)],
    ]
    ax.errorbar(
        values, means, yerr=yerr, marker="o", capsize=3, color="tab:blue", label="paired difference (95% CI)"
    )
    for b in bounds:
        ax.axhline(b, color="tab:red", linestyle="--", linewidth=1)
    ax.axhline(bounds[0], color="tab:red", linestyle="--", linewidth=1, label="the claim's bound")
    if turning is not None:
        ax.axvline(turning, color="black", linewidth=1, label=f"turning value {turning:.4g}")
        if ci is not None:
            ax.axvspan(ci[0], ci[1], color="grey", alpha=0.25, label="its 95% CI (bootstrap)")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
