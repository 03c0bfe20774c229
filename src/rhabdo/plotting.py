"""Every matplotlib figure the project draws is made here: text is never parsed as math, and
the figure is always released.

Free text from a case (a radiotherapy target such as ``VAC $\\foo$``) reaches figure labels;
with math parsing on, matplotlib would read ``$…$`` as TeX and fail.  Figures are created
without pyplot, so none is registered in a global figure manager and none can leak, even when
drawing fails half-way; the rc settings apply only inside the ``with`` block (no global state
changed, safe in a threaded server).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: rc settings for every figure: plain-text labels, embedded fonts as text, stable SVG ids.
RC: dict[str, Any] = {
    "text.parse_math": False,
    "text.usetex": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "rhabdo",
    "font.family": "DejaVu Sans",
}


@contextmanager
def new_figure(rc: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[Any]:
    """A fresh ``matplotlib.figure.Figure`` (keyword arguments as for ``Figure``; ``rc`` adds
    settings), drawn with math parsing off and cleared when the block ends, whatever happens."""
    import matplotlib
    from matplotlib.figure import Figure

    settings: Any = RC | (rc or {})
    with matplotlib.rc_context(settings):
        fig = Figure(**kwargs)
        try:
            yield fig
        finally:
            fig.clear()
