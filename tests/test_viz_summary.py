"""viz.draw_summary: one node per layer for graphs too large to draw whole."""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path

import pytest

import nn
from autograd_core import Value
from viz import draw_dot, draw_summary, render_svg


def _loss(model: nn.MLP) -> Value:
    (out,) = model([0.5, -1.0])
    loss = (out - 1.0) ** 2
    loss.backward()
    return loss


def test_draw_summary_draws_a_large_mlp_as_one_node_per_layer() -> None:
    model = nn.MLP(2, [16, 16, 1], rng=random.Random(0))
    loss = _loss(model)
    with pytest.raises(ValueError, match="draw_summary"):
        draw_dot(loss)  # too large: the hint names what works
    src = draw_summary(loss, model.named_parameters()).source
    records = re.findall(r'(g\d+) \[label="([^|]+) \|', src)
    assert "mean \\|grad\\|" in src  # a | inside a field is escaped, not a new field
    assert [name.strip() for _, name in records] == ["inputs", "layers.0", "layers.1", "layers.2"]
    # Parameter counts per layer: 2*16+16, 16*16+16, 16+1.
    assert re.findall(r"(\d+) parameters", src) == ["48", "272", "17"]
    # The inputs feed layer 0 only; each layer feeds the next.
    edges = re.findall(r"(g\d+) -> (g\d+)", src)
    assert ("g0", "g1") in edges and ("g1", "g2") in edges and ("g2", "g3") in edges
    assert ("g0", "g2") not in edges
    assert "output value = " in src


def test_draw_summary_is_deterministic_and_renders_quickly(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")  # CI installs it (.ci/setup); conftest fails under CI=true
    models = [nn.MLP(2, [16, 16, 1], rng=random.Random(0)) for _ in range(2)]
    a, b = (draw_summary(_loss(m), m.named_parameters()).source for m in models)
    assert a == b
    model = models[0]
    start = time.perf_counter()
    svg = render_svg(draw_summary(_loss(model), model.named_parameters()), tmp_path / "s.svg")
    assert time.perf_counter() - start < 30
    text = svg.read_text()
    width = float(re.search(r'<svg width="([\d.]+)pt"', text).group(1))  # type: ignore[union-attr]
    assert width < 2000  # a picture a person can read, not 25,000 px


def test_draw_summary_refuses_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="needs a Value"):
        draw_summary(1.0, [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="named_parameters"):
        draw_summary(x * 2, [])
    with pytest.raises(ValueError, match="rankdir"):
        draw_summary(x * 2, [("w", x)], rankdir="up")
