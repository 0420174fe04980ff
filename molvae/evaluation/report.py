"""One self-contained HTML report of an evaluation: opens offline, no scripts, no external files.

Sections: the metric table beside the published MOSES and GuacaMol rows; property distributions of
generated vs reference molecules (inline SVG); a grid of sampled molecules drawn by RDKit (PNG
embedded as base64); and, when a model is given, a 2-D PCA map of latent means coloured by a property.
"""

from __future__ import annotations

import base64
import html
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molvae.chem.draw import draw_grid
from molvae.chem.properties import property_table
from molvae.errors import MolvaeError
from molvae.evaluation.baselines import (
    GUACAMOL_BASELINES,
    GUACAMOL_COLUMNS,
    GUACAMOL_SOURCE,
    MOSES_BASELINES,
    MOSES_SOURCE,
)
from molvae.evaluation.metrics import MOSES_KEYS
from molvae.files import replace_atomically
from molvae.generation import encode

log = logging.getLogger(__name__)

_GEN, _REF = "#d95f02", "#1b9e77"
_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:13px;margin-bottom:.5em}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:right}th{background:#f3f3f3}tr.ours td{font-weight:bold;background:#fff4e6}.figs{display:flex;
flex-wrap:wrap;gap:12px}.note{color:#666;font-size:12px}img{max-width:100%}"""


def _fmt(value) -> str:
    return "–" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.4f}"


def metric_table(metrics: dict, columns: Sequence[str], baselines: dict, label: str = "this run") -> str:
    """An HTML table: our row first, then the published rows."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = [f"<tr class='ours'><td>{html.escape(label)}</td>" + "".join(f"<td>{_fmt(metrics.get(c))}</td>"
                                                                        for c in columns) + "</tr>"]
    for name, row in baselines.items():
        rows.append(f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_fmt(row.get(c))}</td>" for c in columns)
                    + "</tr>")
    return f"<table><tr><th>model</th>{head}</tr>{''.join(rows)}</table>"


def histogram_svg(generated: np.ndarray, reference: np.ndarray, title: str, bins: int = 40,
                  width: int = 330, height: int = 210) -> str:
    """Two overlaid density histograms (generated vs reference) as an inline SVG string."""
    generated, reference = np.asarray(generated, float), np.asarray(reference, float)
    both = np.concatenate([generated, reference])
    lo, hi = np.percentile(both, [0.5, 99.5]) if len(both) else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    densities = [np.histogram(np.clip(v, lo, hi), edges, density=True)[0] if len(v) else np.zeros(bins)
                 for v in (reference, generated)]
    top = max(float(d.max()) for d in densities) or 1.0
    left, bottom, plot_w, plot_h = 40, 30, width - 50, height - 60
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>",
             f"<text x='{width / 2}' y='16' text-anchor='middle' font-size='13'>{html.escape(title)}</text>"]
    for density, colour in zip(densities, (_REF, _GEN)):
        points = []
        for i, d in enumerate(density):
            x0 = left + plot_w * i / bins
            x1 = left + plot_w * (i + 1) / bins
            y = bottom + plot_h * (1 - d / top)
            points += [f"{x0:.1f},{y:.1f}", f"{x1:.1f},{y:.1f}"]
        base = bottom + plot_h
        parts.append(f"<polygon points='{left},{base} {' '.join(points)} {left + plot_w},{base}' "
                     f"fill='{colour}' fill-opacity='0.35' stroke='{colour}'/>")
    base = bottom + plot_h
    parts.append(f"<line x1='{left}' y1='{base}' x2='{left + plot_w}' y2='{base}' stroke='#333'/>")
    for frac in (0, 0.5, 1):
        x = left + plot_w * frac
        parts.append(f"<text x='{x:.1f}' y='{base + 14}' text-anchor='middle' font-size='10'>"
                     f"{lo + (hi - lo) * frac:.3g}</text>")
    parts.append(f"<rect x='{left + 5}' y='{bottom - 8}' width='10' height='8' fill='{_REF}'/>"
                 f"<text x='{left + 18}' y='{bottom}' font-size='10'>reference</text>"
                 f"<rect x='{left + 80}' y='{bottom - 8}' width='10' height='8' fill='{_GEN}'/>"
                 f"<text x='{left + 93}' y='{bottom}' font-size='10'>generated</text></svg>")
    return "".join(parts)


def _colour(t: float) -> str:
    """A blue-to-yellow ramp for t in [0, 1]."""
    stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    f = t - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(stops[i], stops[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"


def scatter_svg(xy: np.ndarray, values: np.ndarray, title: str, label: str, size: int = 420) -> str:
    """A scatter plot of 2-D points coloured by ``values``, with a colour bar, as inline SVG."""
    xy = np.asarray(xy, float)
    values = np.asarray(values, float)
    lo, hi = np.nanpercentile(values, [2, 98]) if len(values) else (0.0, 1.0)
    span = (hi - lo) or 1.0
    pad = 30
    mins, maxs = xy.min(0), xy.max(0)
    scale = (size - 2 * pad) / np.maximum(maxs - mins, 1e-9)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{size + 70}' height='{size}' role='img'>",
             f"<text x='{size / 2}' y='16' text-anchor='middle' font-size='13'>{html.escape(title)}</text>",
             f"<rect x='{pad}' y='{pad}' width='{size - 2 * pad}' height='{size - 2 * pad}' "
             "fill='none' stroke='#999'/>"]
    for (x, y), v in zip(xy, values):
        cx = pad + (x - mins[0]) * scale[0]
        cy = size - pad - (y - mins[1]) * scale[1]
        fill = "#bbb" if not np.isfinite(v) else _colour((v - lo) / span)
        parts.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='2.2' fill='{fill}' fill-opacity='0.8'/>")
    for k in range(20):
        parts.append(f"<rect x='{size + 10}' y='{size - pad - (k + 1) * (size - 2 * pad) / 20:.1f}' width='14' "
                     f"height='{(size - 2 * pad) / 20 + 0.5:.1f}' fill='{_colour((k + 0.5) / 20)}'/>")
    parts.append(f"<text x='{size + 28}' y='{size - pad}' font-size='10'>{lo:.3g}</text>"
                 f"<text x='{size + 28}' y='{pad + 8}' font-size='10'>{hi:.3g}</text>"
                 f"<text x='{size + 8}' y='{pad - 8}' font-size='11'>{html.escape(label)}</text>"
                 f"<text x='{size / 2}' y='{size - 8}' text-anchor='middle' font-size='11'>PC 1</text></svg>")
    return "".join(parts)


def grid_png_base64(smiles: Sequence[str], max_molecules: int = 24) -> str:
    """A grid of molecules drawn by RDKit, as base64 PNG."""
    with tempfile.TemporaryDirectory() as folder:
        path = draw_grid(list(smiles), Path(folder) / "grid.png", per_row=6, size=200, max_molecules=max_molecules)
        return base64.b64encode(path.read_bytes()).decode("ascii")


def latent_map(model, smiles: Sequence[str], prop: str = "QED", limit: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """2-D PCA coordinates of the posterior means of up to ``limit`` molecules, and their ``prop`` values."""
    from sklearn.decomposition import PCA  # noqa: PLC0415  (scikit-learn takes 0.5 s to import)


    quiet = logging.getLogger("molvae.generation.latent")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # molecules outside the model's vocabulary are left out of the map quietly
    try:
        mu, _, kept = encode(model, list(smiles)[:limit], skip_invalid=True)
    finally:
        quiet.setLevel(level)
    if len(kept) < 3:
        raise MolvaeError("need at least 3 encodable molecules for the latent map")
    coords = PCA(n_components=2, random_state=0).fit_transform(mu.cpu().numpy())
    values = property_table([list(smiles)[i] for i in kept], [prop])[prop].to_numpy()
    return coords, values


def build_report(metrics: dict, generated: dict[str, np.ndarray], reference: dict[str, np.ndarray],
                 smiles: Sequence[str], latent: tuple[np.ndarray, np.ndarray, str] | None = None,
                 title: str = "molvae evaluation", notes: Sequence[str] = ()) -> str:
    """The report as an HTML string.

    ``generated``/``reference`` map property names (logP, SA, QED, weight) to value arrays;
    ``latent`` is (2-D coordinates, colour values, property name) or None to leave the map out.
    """
    moses_cols = [c for c in MOSES_KEYS if c in metrics]
    guaca_cols = [c for c in GUACAMOL_COLUMNS if c in metrics]
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    parts.append("<h2>MOSES metrics</h2>" + metric_table(metrics, moses_cols, MOSES_BASELINES))
    parts.append(f"<p class='note'>Published rows: {html.escape(MOSES_SOURCE)}. "
                 "FCD, logP, SA, QED and weight: lower is better.</p>")
    if guaca_cols:
        parts.append("<h2>GuacaMol distribution learning</h2>" + metric_table(metrics, guaca_cols, GUACAMOL_BASELINES))
        parts.append(f"<p class='note'>Published rows: {html.escape(GUACAMOL_SOURCE)}.</p>")
    parts.append("<h2>Property distributions</h2><div class='figs'>")
    for name, label in (("logP", "logP"), ("SA", "SA score"), ("QED", "QED"), ("weight", "molecular weight")):
        if name in generated and name in reference:
            parts.append(histogram_svg(generated[name], reference[name], label))
    parts.append("</div>")
    valid = [s for s in smiles if s]
    if valid:
        parts.append("<h2>Sampled molecules</h2>"
                     f"<img alt='grid of sampled molecules' src='data:image/png;base64,{grid_png_base64(valid)}'/>")
    if latent is not None:
        coords, values, prop = latent
        title = f"PCA of latent means ({len(coords)} molecules)"
        parts.append("<h2>Latent space</h2>" + scatter_svg(coords, values, title, prop))
    parts.append("</body></html>")
    return "".join(parts)


def write_report(path: str | Path, text: str) -> Path:
    """Write the report; a path that cannot be written is a one-line error."""
    return replace_atomically(path, lambda p: p.write_text(text, encoding="utf-8"))


def report_from_details(path: str | Path, metrics: dict, details: dict, model=None, prop: str = "QED",
                        title: str = "molvae evaluation", notes: Sequence[str] = ()) -> Path:
    """Write the report of an :func:`~molvae.evaluation.metrics.evaluate` run (``return_details=True``).

    With a ``model`` the latent map encodes up to 1,000 of the valid generated molecules.
    """
    rows = details["rows"]
    names = ("logP", "SA", "QED", "weight")
    generated = {n: np.array([r[n] for r in rows]) for n in names}
    reference = {n: details["references"][0].properties[n] for n in names}
    smiles = [r["smiles"] for r in rows]
    latent = None
    if model is not None:
        coords, values = latent_map(model, smiles, prop)
        latent = (coords, values, prop)
    return write_report(path, build_report(metrics, generated, reference, smiles, latent, title, notes))
