"""Training plots: loss and accuracy curves, 2-D decision boundaries, gradient flow.

matplotlib is an optional extra (``pip install autograd-core[plots]``) and is
imported only inside these functions.  Figures are built as
``matplotlib.figure.Figure`` with an Agg canvas, never through ``pyplot``:
that works headless, leaves the global backend alone (a notebook keeps its
inline backend, where a returned figure displays as usual) and keeps no
global list of open figures.  Each function returns the figure and, given
``path``, saves it as PNG or SVG atomically and reproducibly: the same
figure gives byte-identical files on every run (no timestamps, no version
strings, and SVG element ids salted with a fixed string instead of a random one).
"""

from __future__ import annotations

import dataclasses
import io
import math
import numbers
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_core import Value
from autograd_core.atomic import atomic_open

from .trace import layer_prefix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "plot_history",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "decision_grid",
    "save_figure",
    "readable",
]

_FORMATS = ("png", "svg")
#: Salt for the ids matplotlib puts in SVG files (clip paths...); fixed so that files are reproducible.
_SVG_HASHSALT = "autograd-core"


_NOTEBOOK_FIGURE: type | None = None


def _notebook_figure_class() -> type:
    """``matplotlib.figure.Figure`` that also shows itself as a PNG in Jupyter.

    A figure made without pyplot displays as text (``<Figure ...>``) until the
    notebook switches its inline backend on; ``_repr_png_`` is what IPython
    asks any object for, so these figures display as pictures either way.
    """
    global _NOTEBOOK_FIGURE
    if _NOTEBOOK_FIGURE is None:
        from matplotlib.figure import Figure as MplFigure

        # Named Figure so that it reads as one: <Figure size 640x480 with 1 Axes>.
        class Figure(MplFigure):
            def _repr_png_(self) -> bytes:
                buf = io.BytesIO()
                self.savefig(buf, format="png", metadata={"Software": None})
                return buf.getvalue()

        _NOTEBOOK_FIGURE = Figure
    return _NOTEBOOK_FIGURE


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list[Any]]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise ImportError("viz.plots needs matplotlib; install it with: pip install 'autograd-core[plots]'") from None
    fig = _notebook_figure_class()(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # attaches itself: savefig works without pyplot or a display
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _axes(ax: Any, n: int, width: float, height: float, who: str) -> tuple[Figure, list[Any]]:
    """New axes in a new figure, or the caller's ``ax`` (one Axes, or a sequence of ``n``)."""
    if ax is None:
        return _figure(width, height, n)
    axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
    if len(axes) != n or not all(callable(getattr(a, "plot", None)) and hasattr(a, "figure") for a in axes):
        what = "one matplotlib Axes" if n == 1 else f"a sequence of {n} matplotlib Axes (one per panel)"
        raise TypeError(f"{who}(ax=...) needs {what}, got {type(ax).__name__} of length {len(axes)}")
    return axes[0].figure, axes


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` as PNG or SVG (by the suffix of ``path``), atomically.

    Raises:
        ValueError: for a suffix other than ``.png`` or ``.svg``.
        FileNotFoundError: if the directory does not exist.
    """
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"can save a figure as .png or .svg, got {p.name!r}")
    if not p.parent.is_dir():
        raise FileNotFoundError(f"directory {p.parent} does not exist; create it first")
    import matplotlib

    with atomic_open(p, "wb") as f, matplotlib.rc_context({"svg.hashsalt": _SVG_HASHSALT}):
        # Fixed metadata (no timestamp or version string) and a fixed id salt
        # (matplotlib draws a random one otherwise), so files are reproducible.
        meta: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(f, format=fmt, metadata=meta)
    return p


# -- history -------------------------------------------------------------------


def _as_plain(history: Any) -> Any:
    """A History, dataclass or plain object as a dict; dicts and lists as they are."""
    if hasattr(history, "as_dict") and callable(history.as_dict):
        return history.as_dict()
    if dataclasses.is_dataclass(history) and not isinstance(history, type):
        return dataclasses.asdict(history)
    if not isinstance(history, (Mapping, Sequence)) and hasattr(history, "__dict__"):
        return {k: v for k, v in vars(history).items() if not k.startswith("_")}
    return history


def _is_metric(key: str) -> bool:
    low = key.lower()
    return "loss" in low or "acc" in low


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _bad_entry(key: str, i: int, x: Any) -> ValueError:
    return ValueError(
        f"history[{key!r}] entry {i} (epoch {i + 1}) is {x!r:.40} ({type(x).__name__}), not a number; "
        "loss and accuracy series must hold numbers (None for a missing epoch)"
    )


def _history_columns(history: Any) -> dict[str, list[float]]:
    """``{metric: per-epoch values}`` from the accepted history shapes.

    Keys naming a loss or an accuracy must hold numbers (or None); other keys
    (a learning rate, notes) are kept when numeric and ignored otherwise.
    Empty lists (no validation set) and scalars (``best_epoch``) are left out.

    Raises:
        TypeError: for an unsupported history type.
        ValueError: for a loss or accuracy series that is not a list of numbers.
    """
    history = _as_plain(history)
    cols: dict[str, list[float]] = {}
    if isinstance(history, Mapping):
        for k, v in history.items():
            if not isinstance(k, str):
                continue
            seq = isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, (str, bytes))
            if not seq:
                continue  # a scalar such as best_epoch or a summary value: not a series
            bad = next(((i, x) for i, x in enumerate(v) if not (_is_number(x) or x is None)), None)
            if bad is not None:
                if _is_metric(k):
                    raise _bad_entry(k, *bad)
                continue
            if len(v):
                cols[k] = [math.nan if x is None else float(x) for x in v]
    elif isinstance(history, Sequence) and not isinstance(history, str):
        for rec in history:
            if not isinstance(rec, Mapping):
                raise TypeError(f"a history sequence must hold per-epoch dicts, got {type(rec).__name__}")
            for k in rec:
                cols.setdefault(k, [])
        for i, rec in enumerate(history):
            for k in cols:
                x = rec.get(k)
                if isinstance(k, str) and _is_metric(k) and not (_is_number(x) or x is None):
                    raise _bad_entry(k, i, x)
                cols[k].append(float(x) if _is_number(x) else math.nan)
    else:
        raise TypeError(
            "history must be a History, a dict of per-epoch lists or a list of per-epoch dicts, "
            f"got {type(history).__name__}"
        )
    return cols


def _keys(history: Any) -> list[str]:
    history = _as_plain(history)
    if isinstance(history, Mapping):
        return [str(k) for k in history]
    keys: dict[str, None] = {}
    for rec in history if isinstance(history, Sequence) else ():
        keys.update(dict.fromkeys(str(k) for k in rec))
    return list(keys)


def _describe_key(history: Any, key: str) -> str:
    """``'val_loss' (empty)``: a key of the history, with why it is not plotted when that is not obvious."""
    plain = _as_plain(history)
    v = plain.get(key) if isinstance(plain, Mapping) else None
    if isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, (str, bytes)) and len(v) == 0:
        return f"{key!r} (empty)"
    if _is_metric(key) and isinstance(plain, Mapping) and key in plain and not isinstance(v, (Sequence, np.ndarray)):
        return f"{key!r} ({type(v).__name__}, not a per-epoch list)"
    return repr(key)


_WORDS = {"train": "training", "val": "validation", "valid": "validation", "acc": "accuracy", "lr": "learning rate"}


def readable(key: str) -> str:
    """A history key as words for a legend: ``val_accuracy`` -> ``validation accuracy``."""
    return " ".join(_WORDS.get(w, w) for w in key.replace("-", "_").split("_") if w)


def plot_history(
    history: Any,
    *,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Figure:
    """Loss (left) and accuracy (right) per epoch, train and validation.

    Args:
        history: an ``nn.History`` (anything with ``as_dict()``, a dataclass or
            an object with public list attributes), a dict such as
            ``{"train_loss": [...], "val_loss": [...], "train_acc": [...]}`` or
            a list of per-epoch dicts.  Keys containing ``loss`` go to the left
            panel, keys containing ``acc`` to the right.
        path: if given, save there as PNG or SVG.
        title: a title over the panels, e.g. the data set and the model.
        ax: draw into these matplotlib Axes instead of a new figure: one
            Axes per panel shown (loss, accuracy), in that order.

    Returns:
        The matplotlib Figure (the one holding ``ax`` when given).

    Raises:
        TypeError: for an unsupported history type, or ``ax`` that does not
            hold one Axes per panel.
        ValueError: if the history holds no loss or accuracy series, or one
            that is not a list of numbers (the message names the entry).
    """
    cols = _history_columns(history)
    losses = {k: v for k, v in cols.items() if "loss" in k.lower()}
    accs = {k: v for k, v in cols.items() if "acc" in k.lower()}
    if not losses and not accs:
        keys = ", ".join(_describe_key(history, k) for k in _keys(history)) or "none"
        raise ValueError(
            f"history has no loss or accuracy series (keys containing 'loss' or 'acc'); keys found: {keys}"
        )
    panels = [(t, d) for t, d in (("loss", losses), ("accuracy", accs)) if d]
    fig, axes = _axes(ax, len(panels), 5.0 * len(panels), 3.6, "plot_history")
    for panel, (what, series) in zip(axes, panels):
        for name, ys in series.items():
            marker = "o" if len(ys) <= 30 else None
            panel.plot(range(1, len(ys) + 1), ys, marker=marker, markersize=3, label=readable(name))
        panel.xaxis.get_major_locator().set_params(integer=True)
        panel.set_xlabel("epoch")
        panel.set_ylabel(what)
        panel.set_title(what)
        panel.grid(True, alpha=0.3)
        panel.legend()
    if title is not None:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


# -- decision boundary ------------------------------------------------------------


@contextmanager
def _eval_mode(model: Any) -> Any:
    """Switch a module with ``training``/``eval()``/``train()`` to evaluation mode for the block."""
    was = getattr(model, "training", None)
    if was is True and callable(getattr(model, "eval", None)) and callable(getattr(model, "train", None)):
        model.eval()
        try:
            yield
        finally:
            model.train(True)
    else:
        yield


def _score(out: Any) -> float:
    """One number per prediction: the output itself, or the argmax class for several outputs."""
    if isinstance(out, Value):
        return out.data
    if isinstance(out, (int, float)):
        return float(out)
    outs = list(out)
    if len(outs) == 1:
        return _score(outs[0])
    datas = [o.data if isinstance(o, Value) else float(o) for o in outs]
    return float(int(np.argmax(datas)))


def decision_grid(
    model: Any,
    X: Any,
    *,
    resolution: int = 50,
    margin: float = 0.5,
    predict: Callable[[np.ndarray], Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's score on a regular grid covering ``X`` (2-D), for plotting.

    Args:
        model: called on ``[x0, x1]`` (floats), returning a Value or a list of
            Values; with several outputs the score is the argmax index.
        X: array of shape (n, 2).
        resolution: grid points per axis.
        margin: extra room around the data on each side.
        predict: optional vectorized path: ``predict(points)`` with points of
            shape (m, 2) returning m scores (for example a compiled model);
            it replaces the per-point calls of ``model``.

    Returns:
        ``(xx, yy, scores)``, each of shape (resolution, resolution).

    Raises:
        ValueError: if ``X`` is not (n, 2) or ``resolution`` < 2.
    """
    pts = np.asarray(X, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"the decision boundary needs 2-D data of shape (n, 2), got shape {pts.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    lo = pts.min(axis=0) - margin
    hi = pts.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    if predict is not None:
        scores = np.asarray(predict(grid), dtype=float).reshape(-1)
        if scores.shape[0] != grid.shape[0]:
            raise ValueError(f"predict returned {scores.shape[0]} scores for {grid.shape[0]} points")
    else:
        # Plain recording, not no_grad(): each point's graph is freed by reference
        # counting as soon as its score is read, and today's engine records faster
        # than it runs under no_grad() (its slow path checks the mode per op).
        with _eval_mode(model):
            scores = np.array([_score(model([float(a), float(b)])) for a, b in grid.tolist()])
    return xx, yy, scores.reshape(xx.shape)


# Point colours per class (two classes: the region colours, darker); more classes: a qualitative map.
_TWO_CLASS_COLORS = ("#2b6cb0", "#c0392b")
_REGION_COLORS = ["#c6dbef", "#f4c7c3"]


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    *,
    X_val: Any = None,
    y_val: Any = None,
    resolution: int = 50,
    threshold: float = 0.0,
    predict: Callable[[np.ndarray], Any] | None = None,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
    feature_names: Sequence[str] = ("x0", "x1"),
    ax: Any = None,
) -> Figure:
    """The regions a 2-D classifier assigns to each class, with the data on top.

    For one output the boundary is where the score crosses ``threshold`` (0 for
    hinge and logit outputs; use 0.5 for a sigmoid output); for several
    outputs the regions are the argmax classes.  Training points are circles,
    validation points (``X_val``, ``y_val``) triangles; the legend names each
    class and set.

    Args:
        model: callable on ``[x0, x1]`` returning a Value or a list of Values.
        X: array (n, 2); y: n labels (any numbers: 0/1, -1/+1, class indices).
        X_val, y_val: optional validation points and labels, drawn as triangles.
        resolution: grid points per axis (the cost is resolution**2 forward passes
            unless ``predict`` is given).
        threshold: the decision level of a single-output model.
        predict: optional vectorized scorer, see :func:`decision_grid`.
        path: if given, save there as PNG or SVG.
        title: the plot's title (default ``"decision boundary"``), e.g. naming
            the data set and the model.
        feature_names: the axis labels, one per input.
        ax: draw into this matplotlib Axes instead of a new figure.

    Returns:
        The matplotlib Figure (the one holding ``ax`` when given).

    Raises:
        ValueError: for data that is not 2-D or labels of the wrong length.
        TypeError: for ``ax`` that is not an Axes.
    """
    pts = np.asarray(X, dtype=float)
    labels = np.asarray(y, dtype=float).reshape(-1)
    if pts.ndim == 2 and len(labels) != len(pts):
        raise ValueError(f"X has {len(pts)} points but y has {len(labels)} labels")
    if (X_val is None) != (y_val is None):
        raise ValueError("pass X_val and y_val together (validation points and their labels), or neither")
    val_pts = val_labels = None
    if X_val is not None:
        val_pts = np.asarray(X_val, dtype=float)
        val_labels = np.asarray(y_val, dtype=float).reshape(-1)
        if val_pts.ndim != 2 or val_pts.shape[1:] != (2,):
            raise ValueError(f"X_val must have shape (n, 2) like X, got shape {val_pts.shape}")
        if len(val_labels) != len(val_pts):
            raise ValueError(f"X_val has {len(val_pts)} points but y_val has {len(val_labels)} labels")
    names = [str(n) for n in feature_names]
    if len(names) != 2:
        raise ValueError(f"feature_names needs 2 names (one per axis), got {len(names)}")
    # The grid covers every point drawn, validation points included.
    every = pts if val_pts is None or pts.ndim != 2 else np.concatenate([pts, val_pts])
    xx, yy, scores = decision_grid(model, every, resolution=resolution, predict=predict)
    fig, (axes,) = _axes(ax, 1, 5.5, 4.5, "plot_decision_boundary")
    classes = np.unique(labels if val_labels is None else np.concatenate([labels, val_labels]))
    # Two classes: the side of the threshold (an argmax index 0/1 works too); more: argmax regions.
    if len(classes) <= 2:
        region = (scores > threshold).astype(float)
        axes.contourf(xx, yy, region, levels=[-0.5, 0.5, 1.5], colors=_REGION_COLORS, alpha=0.8)
        if np.nanmin(scores) < threshold < np.nanmax(scores):
            axes.contour(xx, yy, scores, levels=[threshold], colors="k", linewidths=1.0)
            axes.plot([], [], color="k", linewidth=1.0, label="decision boundary")
        colors: list[Any] = list(_TWO_CLASS_COLORS[: len(classes)]) if len(classes) == 2 else [_TWO_CLASS_COLORS[1]]
    else:
        axes.contourf(xx, yy, scores, levels=np.arange(len(classes) + 1) - 0.5, cmap="Pastel1", alpha=0.8)
        import matplotlib

        cmap = matplotlib.colormaps["Set1"]
        colors = [cmap(i % cmap.N) for i in range(len(classes))]
    sets = [("training", pts, labels, "o")]
    if val_pts is not None and val_labels is not None:
        sets.append(("validation", val_pts, val_labels, "^"))
    for which, p, lab, marker in sets:
        for c, color in zip(classes, colors):
            mask = lab == c
            if mask.any():
                axes.scatter(
                    p[mask, 0],
                    p[mask, 1],
                    color=color,
                    marker=marker,
                    edgecolors="k",
                    s=22,
                    label=f"class {c:g} ({which})",
                )
    axes.set_xlim(xx.min(), xx.max())
    axes.set_ylim(yy.min(), yy.max())
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    axes.set_title(title if title is not None else "decision boundary")
    axes.legend(fontsize="small", loc="best")
    if path is not None:
        save_figure(fig, path)
    return fig


# -- gradient flow ---------------------------------------------------------------------


def gradient_flow(named_parameters: Iterable[tuple[str, Value]]) -> dict[str, tuple[float, float]]:
    """``{layer prefix: (mean |grad|, max |grad|)}`` in the order layers first appear.

    Raises:
        TypeError: if an item is not a pair (name, Value).
    """
    groups: dict[str, list[float]] = {}
    for item in named_parameters:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Value)):
            raise TypeError(f"named_parameters() must yield pairs (name, Value), got {item!r:.80}")
        name, p = item
        groups.setdefault(layer_prefix(str(name)), []).append(abs(p.grad))
    return {k: (float(np.mean(v)), float(np.max(v))) for k, v in groups.items()}


def plot_gradient_flow(
    model: Any, *, path: str | os.PathLike[str] | None = None, title: str | None = None, ax: Any = None
) -> Figure:
    """Mean (bar) and max (dot) |grad| of the parameters of each layer, on a log scale.

    Call it after ``loss.backward()``.  Layers are the prefixes of the dotted
    parameter names up to their first index (``layers.0``); a layer whose
    gradients are all zero is marked "0" at the bottom.

    Args:
        model: anything with ``named_parameters()`` yielding (name, Value).
        path: if given, save there as PNG or SVG.
        title: the plot's title (default ``"gradient flow per layer"``).
        ax: draw into this matplotlib Axes instead of a new figure.

    Returns:
        The matplotlib Figure (the one holding ``ax`` when given).

    Raises:
        TypeError: if ``model`` has no ``named_parameters()``, or ``ax`` is not an Axes.
        ValueError: if it has no parameters.
    """
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        raise TypeError(f"plot_gradient_flow() needs a model with named_parameters(), got {type(model).__name__}")
    flow = gradient_flow(named())
    if not flow:
        raise ValueError("the model has no parameters to plot")
    names = list(flow)
    means = np.array([flow[k][0] for k in names])
    maxes = np.array([flow[k][1] for k in names])
    positive = np.concatenate([means[means > 0], maxes[maxes > 0]])
    floor = float(positive.min()) / 10 if positive.size and np.isfinite(positive.min()) else 1e-12
    fig, (ax,) = _axes(ax, 1, max(4.0, 0.9 * len(names) + 2), 3.8, "plot_gradient_flow")
    pos = np.arange(len(names))
    ax.bar(pos, np.where(means > 0, means, floor), color="#4c72b0", label="mean |grad|")
    ax.plot(pos, np.where(maxes > 0, maxes, floor), "o", color="#dd8452", label="max |grad|")
    for i in np.flatnonzero(maxes == 0):
        ax.annotate("0", (pos[i], floor), ha="center", va="bottom")
    ax.set_yscale("log")
    # Bars start at the floor (a decade under the smallest gradient), not at an
    # autoscaled limit just under the smallest bar, which would exaggerate differences.
    ax.set_ylim(bottom=floor)
    ax.set_xticks(pos, names, rotation=30, ha="right")
    ax.set_ylabel("|grad|")
    ax.set_title(title if title is not None else "gradient flow per layer")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()
    if path is not None:
        save_figure(fig, path)
    return fig
