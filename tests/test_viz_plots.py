"""Tests of ``viz.plots``: headless PNG/SVG output, decision boundary of a trained moons model, gradient flow."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from autograd_core import Value
from viz.plots import (
    decision_grid,
    gradient_flow,
    plot_decision_boundary,
    plot_gradient_flow,
    plot_history,
    save_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[1]


def moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, labels 0 (upper) and 1 (lower)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, np.pi, n // 2)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    X = np.vstack([upper, lower]) + rng.normal(scale=noise, size=(2 * len(t), 2))
    return X, np.repeat([0.0, 1.0], len(t))


class TinyMLP:
    """2 -> hidden (tanh) -> 1, with nn-style dotted parameter names; a stand-in for nn.MLP."""

    def __init__(self, hidden: int, rng: random.Random) -> None:
        self.w1 = [[Value(rng.gauss(0, 1)) for _ in range(2)] for _ in range(hidden)]
        self.b1 = [Value(0.0) for _ in range(hidden)]
        self.w2 = [Value(rng.gauss(0, hidden**-0.5)) for _ in range(hidden)]
        self.b2 = Value(0.0)

    def named_parameters(self) -> list[tuple[str, Value]]:
        out: list[tuple[str, Value]] = []
        for j, (ws, b) in enumerate(zip(self.w1, self.b1)):
            out += [(f"layers.0.neurons.{j}.w.{i}", w) for i, w in enumerate(ws)]
            out.append((f"layers.0.neurons.{j}.b", b))
        out += [(f"layers.1.neurons.0.w.{j}", w) for j, w in enumerate(self.w2)]
        return [*out, ("layers.1.neurons.0.b", self.b2)]

    def __call__(self, x: list[float]) -> list[Value]:
        h = [sum((w * xi for w, xi in zip(ws, x)), b).tanh() for ws, b in zip(self.w1, self.b1)]
        return [sum((w * hj for w, hj in zip(self.w2, h)), self.b2)]


@pytest.fixture(scope="module")
def trained() -> tuple[TinyMLP, np.ndarray, np.ndarray]:
    """A TinyMLP trained on 60 moons points (hinge loss, full-batch gradient descent)."""
    X, y = moons(60, 0.1, seed=0)
    model = TinyMLP(12, random.Random(0))
    params = [p for _, p in model.named_parameters()]
    for _ in range(120):
        loss = sum(((1 - (2 * yi - 1) * model(xi)[0]).relu() for xi, yi in zip(X.tolist(), y)), Value(0.0)) / len(X)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
    return model, X, y


def test_plot_decision_boundary_separates_trained_moons(trained: tuple[TinyMLP, np.ndarray, np.ndarray]) -> None:
    model, X, y = trained
    xx, yy, scores = decision_grid(model, X, resolution=40)
    assert xx.shape == yy.shape == scores.shape == (40, 40)
    # The grid must agree with the labels at the data: look up each point's nearest grid cell.
    col = np.abs(xx[0][None, :] - X[:, :1]).argmin(axis=1)
    row = np.abs(yy[:, 0][None, :] - X[:, 1:]).argmin(axis=1)
    predicted = scores[row, col] > 0
    assert np.mean(predicted == (y == 1)) >= 0.9
    # and the score at a cell matches a direct call of the model there
    assert scores[7, 11] == pytest.approx(model([xx[7, 11], yy[7, 11]])[0].data)


def _pixel_colours(fig: Figure, ax: Axes, points: np.ndarray) -> np.ndarray:
    """The RGB colour drawn at each data point (rows of ``points``), read from the rendered canvas."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    height = rgba.shape[0]
    px = ax.transData.transform(points)
    cols = np.clip(np.round(px[:, 0]).astype(int), 0, rgba.shape[1] - 1)
    rows = np.clip(height - 1 - np.round(px[:, 1]).astype(int), 0, height - 1)  # display y grows upwards
    return rgba[rows, cols, :3].astype(float)


def test_plot_decision_boundary_draws_regions_that_separate_trained_moons(
    trained: tuple[TinyMLP, np.ndarray, np.ndarray],
) -> None:
    model, X, y = trained
    fig = plot_decision_boundary(model, X, y, resolution=40)
    (ax,) = fig.axes
    regions, boundary, *scatters = ax.collections
    assert len(scatters) == 2  # one marker set per class
    np.testing.assert_allclose(regions.levels, [-0.5, 0.5, 1.5])  # class 0 below the threshold, class 1 above
    np.testing.assert_allclose(boundary.levels, [0.0])  # the boundary line is drawn at the threshold
    # The colour painted under each data point is its class's region colour (alpha 0.8 over white).
    for scatter in scatters:
        scatter.remove()
    boundary.remove()
    ax.get_legend().remove()
    colours = _pixel_colours(fig, ax, X)
    blue, red = (np.array(to_rgb(c)) * 255 * 0.8 + 255 * 0.2 for c in ("#c6dbef", "#f4c7c3"))
    is_red = np.linalg.norm(colours - red, axis=1) < np.linalg.norm(colours - blue, axis=1)
    near = np.minimum(np.linalg.norm(colours - red, axis=1), np.linalg.norm(colours - blue, axis=1))
    assert np.median(near) < 3  # the pixels are region colours, not something else
    assert np.mean(is_red == (y == 1)) >= 0.9
    assert is_red[y == 1].any() and not is_red[y == 0].all()  # both colours appear
    # Away from sign changes, every grid point is painted by the sign of its score at the threshold 0.
    _, _, scores = decision_grid(model, X, resolution=40)
    xx, yy, _ = decision_grid(model, X, resolution=40, predict=lambda p: np.zeros(len(p)))
    above = scores > 0
    padded = np.pad(above, 1, mode="edge")
    steady = np.ones_like(above)
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        steady &= padded[dr : dr + 40, dc : dc + 40] == above
    inner = np.zeros_like(above)
    inner[1:-1, 1:-1] = True  # the outermost grid points sit on the axes' edge
    pick = steady & inner
    pts = np.column_stack([xx[pick], yy[pick]])
    grid_colours = _pixel_colours(fig, ax, pts)
    grid_red = np.linalg.norm(grid_colours - red, axis=1) < np.linalg.norm(grid_colours - blue, axis=1)
    assert pick.sum() > 1000 and 0 < above[pick].mean() < 1
    np.testing.assert_array_equal(grid_red, above[pick])


def test_plot_decision_boundary_writes_png(tmp_path: Path, trained: tuple[TinyMLP, np.ndarray, np.ndarray]) -> None:
    model, X, y = trained
    fig = plot_decision_boundary(model, X, y, resolution=20, path=tmp_path / "boundary.png")
    assert (tmp_path / "boundary.png").read_bytes()[:8] == PNG_MAGIC
    ax = fig.axes[0]
    # The data scattered on top, one marker set per class.
    assert sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_sizes")) == len(X)


def test_plot_decision_boundary_uses_vectorized_predict(tmp_path: Path) -> None:
    X, y = moons(20, 0.0, seed=1)
    calls = []

    def predict(points: np.ndarray) -> np.ndarray:
        calls.append(points.shape)
        return points[:, 1] - 0.25  # above or below a horizontal line

    def no_model(x: list[float]) -> Value:
        raise AssertionError("the model must not be called when predict is given")

    xx, yy, scores = decision_grid(no_model, X, resolution=10, predict=predict)
    assert calls == [(100, 2)]
    np.testing.assert_allclose(scores, yy - 0.25)
    plot_decision_boundary(no_model, X, y, resolution=10, predict=predict, path=tmp_path / "b.svg")
    assert ET.parse(tmp_path / "b.svg").getroot().tag.endswith("svg")


def test_plot_decision_boundary_rejects_bad_data(trained: tuple[TinyMLP, np.ndarray, np.ndarray]) -> None:
    model, X, y = trained
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="60 points but y has 3 labels"):
        plot_decision_boundary(model, X, y[:3])
    with pytest.raises(ValueError, match="resolution"):
        decision_grid(model, X, resolution=1)


def test_plot_decision_boundary_eval_mode_is_restored() -> None:
    class Moded:
        training = True
        seen: list[bool] = []

        def eval(self) -> None:
            self.training = False

        def train(self, mode: bool = True) -> None:
            self.training = mode

        def __call__(self, x: list[float]) -> list[Value]:
            self.seen.append(self.training)
            return [Value(x[0])]

    m = Moded()
    decision_grid(m, np.array([[0.0, 0.0], [1.0, 1.0]]), resolution=3)
    assert m.seen == [False] * 9 and m.training is True


def test_gradient_flow_means_per_layer() -> None:
    model = TinyMLP(2, random.Random(0))
    named = model.named_parameters()
    grads = {"layers.0": [], "layers.1": []}  # type: dict[str, list[float]]
    for i, (name, p) in enumerate(named):
        p.grad = (-1) ** i * (i + 1) * (1e-6 if name.startswith("layers.0") else 1.0)
        grads[name[:8]].append(abs(p.grad))
    flow = gradient_flow(named)
    assert list(flow) == ["layers.0", "layers.1"]
    for layer, (mean, mx) in flow.items():
        assert mean == pytest.approx(sum(grads[layer]) / len(grads[layer]))
        assert mx == max(grads[layer])


def test_plot_gradient_flow_bars_and_zero_layer(tmp_path: Path) -> None:
    model = TinyMLP(2, random.Random(0))
    for name, p in model.named_parameters():
        p.grad = 0.0 if name.startswith("layers.1") else 0.5
    fig = plot_gradient_flow(model, path=tmp_path / "flow.png")
    ax = fig.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert heights[0] == pytest.approx(0.5)
    assert heights[1] < 0.5  # the all-zero layer sits at the floor of the log axis
    assert ax.get_yscale() == "log"
    # The axis starts at the floor, a decade under the smallest gradient (0.5), so the bar of
    # layers.0 spans exactly one decade instead of reaching down to an arbitrary autoscaled limit.
    assert ax.get_ylim()[0] == pytest.approx(0.05)
    assert ax.get_ylim()[1] >= 0.5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layers.0", "layers.1"]
    assert any(t.get_text() == "0" for t in ax.texts)
    assert (tmp_path / "flow.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(TypeError, match="named_parameters"):
        plot_gradient_flow(object())


def test_plot_history_dict_and_records(tmp_path: Path) -> None:
    hist = {"train_loss": [1.0, 0.5, 0.25], "val_loss": [1.2, 0.7, 0.4], "train_acc": [0.5, 0.8, 0.9], "lr": [0.1] * 3}
    fig = plot_history(hist, path=tmp_path / "h.png")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["training loss", "validation loss"]
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), [1.2, 0.7, 0.4])
    assert [line.get_label() for line in acc_ax.lines] == ["training accuracy"]
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC
    records = [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}]
    (ax,) = plot_history(records).axes
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.0, 1.0])


def test_plot_history_object_with_as_dict() -> None:
    class History:
        def as_dict(self) -> dict[str, list[float]]:
            return {"val_accuracy": [0.5, 0.75]}

    (ax,) = plot_history(History()).axes
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.5, 0.75])


def test_plot_gradient_flow_axis_floor_follows_smallest_gradient() -> None:
    model = TinyMLP(2, random.Random(0))
    for name, p in model.named_parameters():
        p.grad = 1e-6 if name.startswith("layers.0") else 2.0
    ax = plot_gradient_flow(model).axes[0]
    assert ax.get_ylim()[0] == pytest.approx(1e-7)
    assert [bar.get_height() for bar in ax.patches] == pytest.approx([1e-6, 2.0])


def test_plot_history_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no loss or accuracy.*keys found: 'lr'$"):
        plot_history({"lr": [0.1]})
    with pytest.raises(ValueError, match=r"history\['loss'\] entry 1 \(epoch 2\) is 'x' \(str\), not a number"):
        plot_history({"loss": [1, "x"]})
    with pytest.raises(ValueError, match=r"history\['val_acc'\] entry 0 \(epoch 1\) is 'high'"):
        plot_history([{"val_acc": "high"}, {"val_acc": 0.5}])
    with pytest.raises(ValueError, match=r"keys found: 'loss' \(empty\), 'val_loss' \(empty\)"):
        plot_history({"loss": [], "val_loss": []})
    with pytest.raises(ValueError, match=r"keys found: 'loss' \(float, not a per-epoch list\)"):
        plot_history({"loss": 0.3})
    # an empty validation series and a scalar summary are left out, the rest is plotted
    (ax,) = plot_history({"train_loss": [1.0, 0.5], "val_loss": [], "best_val_loss": 0.3}).axes
    assert [line.get_label() for line in ax.lines] == ["training loss"]
    with pytest.raises(TypeError, match="history must be"):
        plot_history(3)
    fig = plot_history({"loss": [1.0]})
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        save_figure(fig, tmp_path / "h.jpg")
    with pytest.raises(FileNotFoundError):
        save_figure(fig, tmp_path / "nope" / "h.png")


def test_plots_are_headless_and_leave_pyplot_alone(tmp_path: Path) -> None:
    # No display and an interactive backend requested: the figures must still render.
    code = (
        "import sys; from viz.plots import plot_history; "
        f"plot_history({{'loss': [1.0, 0.5]}}, path={str(tmp_path / 'h.png')!r}); "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "TkAgg"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC


_REPRO_SCRIPT = """
import random, sys
sys.path.insert(0, {tests!r})
from test_viz_plots import TinyMLP, moons
from viz.plots import plot_decision_boundary, plot_gradient_flow, plot_history
out = sys.argv[1]
model = TinyMLP(3, random.Random(0))
for i, (_, p) in enumerate(model.named_parameters()):
    p.grad = 0.1 * (i + 1)
X, y = moons(20, 0.1, seed=0)
for ext in ("svg", "png"):
    plot_history({{"loss": [1.0, 0.5, 0.25], "val_acc": [0.5, 0.7, 0.9]}}, path=f"{{out}}/history.{{ext}}")
    plot_gradient_flow(model, path=f"{{out}}/flow.{{ext}}")
    plot_decision_boundary(model, X, y, resolution=10, path=f"{{out}}/boundary.{{ext}}")
"""


def test_plots_are_byte_identical_across_processes(tmp_path: Path) -> None:
    # matplotlib salts SVG ids (clip paths) with a random uuid per process unless told otherwise.
    script = _REPRO_SCRIPT.format(tests=str(ROOT / "tests"))
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        out.mkdir()
        subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, check=True, capture_output=True, timeout=120)
        runs.append(out)
    files = sorted(p.name for p in runs[0].iterdir())
    assert len(files) == 6 and files == sorted(p.name for p in runs[1].iterdir())
    for name in files:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    svg = (runs[0] / "flow.svg").read_text()
    assert "clip-path" in svg  # the ids that used to differ are there


def test_plot_figures_display_as_png_in_notebooks_without_pyplot() -> None:
    from viz.plots import plot_history

    fig = plot_history({"loss": [1.0, 0.5, 0.25]})
    png = fig._repr_png_()  # what IPython asks an object for when it displays it
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_plot_decision_boundary_labels_axes_and_tells_training_from_validation(
    trained: tuple[TinyMLP, np.ndarray, np.ndarray],
) -> None:
    model, X, y = trained
    Xv, yv = moons(20, 0.1, seed=9)
    fig = plot_decision_boundary(model, X, y, X_val=Xv, y_val=yv, resolution=20, title="moons, MLP(2, [8, 1])")
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")
    assert ax.get_title() == "moons, MLP(2, [8, 1])"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "decision boundary",
        "class 0 (training)",
        "class 1 (training)",
        "class 0 (validation)",
        "class 1 (validation)",
    ]
    counts = {c.get_label(): len(c.get_offsets()) for c in ax.collections if c.get_label().startswith("class")}
    assert counts["class 0 (validation)"] + counts["class 1 (validation)"] == len(Xv)
    assert counts["class 0 (training)"] + counts["class 1 (training)"] == len(X)
    with pytest.raises(ValueError, match="together"):
        plot_decision_boundary(model, X, y, X_val=Xv)


def test_plots_draw_into_given_axes(trained: tuple[TinyMLP, np.ndarray, np.ndarray]) -> None:
    from matplotlib.figure import Figure as Fig

    model, X, y = trained
    fig = Fig()
    left, mid, right = fig.subplots(1, 3)
    assert plot_decision_boundary(model, X, y, resolution=10, ax=left) is fig
    hist = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}
    assert plot_history(hist, ax=mid, title="moons") is fig
    assert [line.get_label() for line in mid.lines] == ["training loss", "validation loss"]
    assert fig.get_suptitle() == "moons"
    assert len(left.collections) >= 3 and len(fig.axes) == 3
    grads = Value(1.0)
    grads.grad = 0.5

    class One:
        def named_parameters(self) -> list[tuple[str, Value]]:
            return [("layers.0.w", grads)]

    assert plot_gradient_flow(One(), ax=right, title="flow") is fig
    assert right.get_title() == "flow"
    with pytest.raises(TypeError, match="2 matplotlib Axes"):
        plot_history({"train_loss": [1.0], "train_accuracy": [0.5]}, ax=mid)
    with pytest.raises(TypeError, match="one matplotlib Axes"):
        plot_decision_boundary(model, X, y, ax="not an axes")


def test_readable_names_history_keys() -> None:
    from viz.plots import readable

    assert readable("val_accuracy") == "validation accuracy"
    assert readable("train_loss") == "training loss"
    assert readable("train_acc") == "training accuracy"
    assert readable("lr") == "learning rate"
