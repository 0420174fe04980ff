"""An optimisation run's record on disk, so an interrupted run can be resumed without paying again.

``molvae optimize -o OUT.csv`` writes every oracle call to ``OUT.csv`` after each batch (atomically)
and the run's settings to ``OUT.run.json`` beside it. ``--resume OUT.csv`` runs the same seeded
search again from the start, answering every molecule the file already holds from the file instead
of the oracle: the search takes exactly the steps it took before (it is deterministic for a seed)
and goes on past them with new calls, within the same budget.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from molvae.datasets.cache import file_sha256
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.training.checkpoint import checkpoint_path

FORMAT = 1
COLUMNS = ("call", "smiles", "score", "status", "source")
# settings that decide which molecules the search proposes: a resumed run must use the same
SEARCH_SETTINGS = ("objective", "method", "budget", "start", "min_similarity", "seed", "conditions", "batch_size",
                   "initial", "acquisition", "surrogate", "predictor", "max_heavy_atoms", "max_radius", "scaffold")


def settings_path(out: str | Path) -> Path:
    """``OUT.run.json`` for ``OUT.csv``: the settings of the run that writes ``OUT.csv``."""
    return Path(out).with_suffix(".run.json")


def model_fingerprint(models: list[Any]) -> dict[str, Any]:
    """The model arguments as given and the SHA-256 of their checkpoint files (None for a model
    object); one model is recorded as a plain name, several as lists."""
    names: list[str | None] = []
    hashes: list[str | None] = []
    for model in models:
        if model is not None and not isinstance(model, str | Path):
            names.append(None)
            hashes.append(None)
            continue
        path = checkpoint_path(model)
        names.append(str(model) if model is not None else "bundled")
        hashes.append(file_sha256(path) if path.is_file() else None)
    if len(models) == 1:
        return {"model": names[0], "model_sha256": hashes[0]}
    return {"model": names, "model_sha256": hashes}


def write_settings(out: str | Path, settings: dict[str, Any]) -> None:
    text = json.dumps({"format": FORMAT, **settings}, indent=1, default=str) + "\n"
    replace_atomically(settings_path(out), lambda p: p.write_text(text))


def read_run(out: str | Path) -> tuple[dict[str, Any], dict[str, float]]:
    """The settings of the run recorded in ``out`` and its answers (canonical SMILES → score, NaN for
    an oracle error); one-line errors when ``out`` is not the output of an optimisation run."""
    out = Path(out)
    where = settings_path(out)
    if not out.is_file():
        raise MolvaeError(f"cannot resume: {out} not found")
    if not where.is_file():
        raise MolvaeError(f"cannot resume: {out} has no {where.name} beside it; it is not the output of "
                          "molvae optimize (or was written before runs could be resumed)")
    try:
        settings = json.loads(where.read_text())
        calls = pd.read_csv(out, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise MolvaeError(f"cannot resume from {out}: {err}") from None
    if settings.get("format") != FORMAT or not set(COLUMNS) <= set(calls.columns):
        raise MolvaeError(f"cannot resume: {out} is not the output of molvae optimize "
                          f"(columns {', '.join(COLUMNS)} and a {where.name} of format {FORMAT} expected)")
    answers = {str(s): (float(v) if status == "evaluated" else math.nan)
               for s, v, status in zip(calls["smiles"], calls["score"], calls["status"], strict=True)}
    if len(calls) >= int(settings["budget"]):
        raise MolvaeError(f"nothing to resume: {out} already holds all {settings['budget']} oracle calls of its "
                          "budget")
    return settings, answers


def check_same_run(settings: dict[str, Any], given: dict[str, Any], models: list[Any]) -> None:
    """A one-line error when a search setting or model differs from the recorded run's (or a model
    file changed)."""
    for name in SEARCH_SETTINGS:
        if _same(given.get(name)) != _same(settings.get(name)):
            raise MolvaeError(f"cannot resume: the run used {name.replace('_', ' ')} {settings.get(name)!r}, "
                              f"not {given.get(name)!r}")
    now = model_fingerprint(models)
    if isinstance(now["model"], list) != isinstance(settings.get("model"), list) or (
            isinstance(now["model"], list) and now["model"] != settings["model"]):
        raise MolvaeError(f"cannot resume: the run used the model {settings.get('model')}, not {now['model']}")
    recorded = settings.get("model_sha256")
    if recorded and now["model_sha256"] and recorded != now["model_sha256"]:
        raise MolvaeError(f"cannot resume: the model file {settings['model']} changed since the run started")


def _same(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
