"""Batched sampling from the model's prior (N(0, I), or a prior fitted after training), optionally
conditioned, and decoding of given z."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pandas as pd
import torch

from molvae.core.priors import FITTED_PRIORS, PRIOR_KINDS, StandardNormal
from molvae.devices import bf16_autocast_helps, torch_threads
from molvae.errors import MolvaeError
from molvae.generation.common import resolve_model, seeded_generator
from molvae.generation.novelty import require_training_molecules, training_molecules
from molvae.generation.prior_fit import exemplar_batches
from molvae.generation.rows import RowBuilder
from molvae.models.base import MoleculeVAE
from molvae.progress import progress

log = logging.getLogger(__name__)
Latents = tuple[torch.Tensor, torch.Tensor | None]  # a batch of latent points z and their condition vectors c


def sample(model: MoleculeVAE | str | Path | None = None, n: int = 100,
           conditions: Mapping[str, float | str] | None = None, temperature: float | None = None,
           greedy: bool = False, seed: int | None = None, batch_size: int = 1000,
           max_length: int | None = None, properties: bool | Sequence[str] = True, device: str | None = None,
           precision: str = "auto", prior: str = "auto", redraw_invalid: bool = True,
           scaffold: str | None = None, novel_only: bool = False, train: str | Path | None = None,
           unique: bool | None = None) -> pd.DataFrame:
    """Draw ``n`` molecules from the prior, validated and canonicalised by RDKit.

    With ``redraw_invalid`` (the default) a string that is not a valid molecule (common for SMILES
    models, rare for SELFIES and graphs) is replaced by a fresh draw, up to ``MAX_DRAWS`` × ``n``
    draws in all; rows still invalid after that stay, flagged ``valid = False``. ``frame.attrs``
    records ``drawn`` (strings decoded), ``raw_validity`` (valid share of all of them, the MOSES
    validity) and ``temperature`` (the one decoded at); ``redraw_invalid=False`` returns the
    first ``n`` draws as they are.

    ``prior``: ``auto`` (the model's own: the prior fitted by ``molvae fit-prior`` when the model
    has one, else the prior it was trained against), ``standard`` (N(0, I)), ``vamp`` (the VampPrior
    it was trained with), ``mixture`` or ``exemplar`` (the fitted one); asking for one the model lacks
    is an error.

    ``conditions`` fixes condition values (e.g. ``{"logP": 2.5}``) for a conditional model; those
    left out are drawn from the training data's conditions stored with the model (from the prior's
    own molecules, for an exemplar prior). ``precision``:
    ``fp32``, ``bf16`` (about twice as fast), or ``auto``: bf16 on GPUs and on CPUs with native bf16
    instructions, else fp32.
    Returns one row per sample: ``smiles`` (empty when invalid), ``raw``, ``valid``, and the
    ``properties`` asked for: True (logP, QED, SA, MW), False (none) or a list of those names; from an
    exemplar prior also ``exemplar``, the training molecule the sample started from (canonical
    SMILES; a row whose ``smiles`` equals it gave that molecule back).

    ``scaffold`` (graph models): a SMILES that every molecule must contain. The decoder builds it
    first and then decorates it; ``[*]`` atoms mark the attachment points where new atoms may bond
    (without them any scaffold atom with free valence may grow). A decoded molecule that does not
    contain the scaffold as a substructure (rare: a new ring can change its aromaticity) counts as
    invalid and is re-drawn.

    For a model that records its training molecules (the shipped ones know the MOSES training
    split), or with ``train`` naming them (a file or ``moses``), the column ``novel`` says whether
    each molecule is new; ``novel_only`` re-draws training molecules as it re-draws invalid ones
    (bounded the same way; rows still not new after that stay, flagged ``novel = False``).

    ``temperature`` scales the decoder's softmax (below 1: likelier choices; 0 is greedy); None
    takes the model's own (:attr:`MoleculeVAE.sampling_temperature`, 1.0 unless it stores another).

    ``unique`` re-draws a molecule already in the table the same way, so that the rows are distinct
    molecules; duplicates still left when the draws run out stay. The default (None) is True with a
    ``scaffold`` (a chemist decorating a scaffold wants that many different decorations) and False
    otherwise: independent draws, as distribution benchmarks need.
    """
    model = resolve_model(model, device)
    if n <= 0:
        raise MolvaeError(f"number of samples must be positive, got {n}")
    temperature = model.sampling_temperature if temperature is None else temperature
    if temperature < 0:
        raise MolvaeError(f"temperature must be ≥ 0, got {temperature}")
    conditions = dict(conditions or {})
    conditions = model.conditions.check_names(conditions)
    constraint = model.scaffold_constraint(scaffold) if scaffold is not None else None
    unique = constraint is not None if unique is None else unique
    known = require_training_molecules(model, train) if novel_only else training_molecules(model, train)
    generator, decoding_generator = seeded_generator(seed), seeded_generator(seed, model.device)
    source = sampling_prior(model, prior)

    def batches(count: int) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, list[str] | None]]:
        """``count`` draws of (z, c, the exemplars they start from), batch by batch; an exemplar
        prior's molecules are encoded only when their batch is asked for."""
        if source.kind == "exemplar":
            yield from exemplar_batches(model, source, count, conditions, generator, batch_size)
            return
        z = source.sample(count, generator)
        c = model.conditions.encode(conditions, count, generator) if model.conditions else None
        for zb, cb in _batches(z, c, batch_size):
            yield zb, cb, None

    def draw(count: int) -> pd.DataFrame:
        """``count`` decoded draws as result rows."""
        exemplars: list[str] = []

        def latents() -> Iterator[Latents]:
            for z, c, sources in batches(count):
                exemplars.extend(sources or [])
                yield z, c

        frame = _decode_batches(model, latents(), rows, count, temperature, greedy, max_length, decoding_generator,
                                precision, constraint)
        if source.kind == "exemplar":
            frame["exemplar"] = exemplars
        if known is not None:
            frame.insert(frame.columns.get_loc("valid") + 1, "novel", known.novel(frame["smiles"]))
        return frame

    def usable(frame: pd.DataFrame, taken: set[str] | frozenset[str] = frozenset()) -> pd.Series:
        """Rows to keep: valid ones (all, with ``redraw_invalid=False``); with ``novel_only`` no valid
        training molecule; with ``unique`` no valid molecule seen in an earlier row or in ``taken``."""
        keep = frame["valid"] if redraw_invalid else pd.Series(True, index=frame.index)
        if novel_only:
            keep = keep & (frame["novel"] | ~frame["valid"])
        if unique:
            seen = frame["smiles"].duplicated() | frame["smiles"].isin(taken)
            keep = keep & ~(seen & frame["valid"])
        return keep

    with RowBuilder(model.raw_format, properties, expected=n) as rows:  # one set of RDKit workers for all draws
        frame = draw(n)
        if redraw_invalid or novel_only or unique:
            frame = _replace_unusable(frame, draw, usable)
        else:
            frame = _record_draws(frame, n, int(frame["valid"].sum()))
    for name, value in conditions.items():
        frame[f"target_{name}"] = value
    frame.attrs["temperature"] = temperature
    return frame


MAX_DRAWS = 10  # redrawing stops after this many draws per requested molecule


def _record_draws(frame: pd.DataFrame, drawn: int, valid: int) -> pd.DataFrame:
    frame.attrs.update(drawn=drawn, raw_validity=valid / drawn)
    return frame


def _replace_unusable(frame: pd.DataFrame, draw, usable) -> pd.DataFrame:
    """Fill the rows of ``frame`` that are not ``usable`` (invalid; not new with ``novel_only``; seen
    before with ``unique``) with usable molecules from further ``draw(count)`` calls.

    Each round draws enough for the missing rows at the usable share seen so far, so a model that is
    valid 80 % of the time needs one or two rounds; all draws are counted in ``frame.attrs``."""
    n = len(frame)
    drawn, valid, kept = n, int(frame["valid"].sum()), int(usable(frame).sum())
    while not usable(frame).all() and drawn < MAX_DRAWS * n:
        missing = frame.index[~usable(frame).to_numpy()]
        rate = max(kept / drawn, 0.05)
        extra = draw(min(int(len(missing) / rate * 1.1) + 1, MAX_DRAWS * n - drawn))
        good_rows = usable(extra, taken=set(frame.loc[usable(frame), "smiles"]))
        drawn, valid, kept = drawn + len(extra), valid + int(extra["valid"].sum()), kept + int(good_rows.sum())
        good = extra[good_rows].head(len(missing))
        for column in frame.columns:
            frame.loc[missing[:len(good)], column] = good[column].to_numpy()
    still = int((~usable(frame)).sum())
    if still:
        log.warning("%d of %d samples are still invalid (or not new, or repeated) after %d draws; they are returned",
                    still, n, drawn)
    return _record_draws(frame, drawn, valid)


def decode(model: MoleculeVAE | str | Path | None, z: torch.Tensor, c: torch.Tensor | None = None,
           temperature: float | None = None, greedy: bool = True, batch_size: int = 1000,
           max_length: int | None = None, properties: bool | Sequence[str] = True,
           generator: torch.Generator | None = None, precision: str = "auto",
           scaffold=None) -> pd.DataFrame:
    """Decode latent points (N, latent_dim) into validated molecules, in batches on the model's device.

    Greedy by default (the most likely molecule at each point); with ``greedy=False`` tokens are drawn
    at ``temperature`` (None: the model's own), reproducibly when a ``generator`` on the model's device
    is given. ``scaffold`` (a graph model's ``scaffold_constraint``) is built first; molecules without
    it are marked invalid."""
    model = resolve_model(model)
    temperature = model.sampling_temperature if temperature is None else temperature
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise MolvaeError(f"latent points must have shape (N, {model.latent_dim}), got {tuple(z.shape)}")
    if model.conditions and c is None:
        c = model.conditions.encode({}, len(z))
    with RowBuilder(model.raw_format, properties, expected=len(z)) as rows:
        return _decode_batches(model, _batches(z, c, batch_size), rows, len(z), temperature, greedy, max_length,
                               generator, precision, scaffold)


def _batches(z: torch.Tensor, c: torch.Tensor | None, batch_size: int) -> Iterator[Latents]:
    for start in range(0, len(z), batch_size):
        yield z[start:start + batch_size], c[start:start + batch_size] if c is not None else None


@torch.no_grad()
def _decode_batches(model: MoleculeVAE, batches: Iterable[Latents],
                    rows: RowBuilder, total: int, temperature: float = 1.0, greedy: bool = True,
                    max_length: int | None = None, generator: torch.Generator | None = None,
                    precision: str = "auto", scaffold=None) -> pd.DataFrame:
    """Decode ``total`` latent points coming in batches (z, c), handing each batch's strings to ``rows``
    at once, so that the RDKit workers check one batch while the model decodes the next (and, when
    the batches are produced lazily, while it encodes the next: exemplar priors)."""
    model.eval()
    # While RDKit workers use the cores, one decoding thread is faster than several (see torch_threads).
    threads = 1 if rows.pool is not None and model.device.type == "cpu" else torch.get_num_threads()
    options = {"scaffold": scaffold} if scaffold is not None else {}
    with decoding_precision(model.device, precision), torch_threads(threads), \
            progress(total=total, desc="decoding") as bar:
        for z, c in batches:
            zb, cb = z.to(model.device), c.to(model.device) if c is not None else None
            rows.add(model.generate(zb, cb, temperature=temperature, greedy=greedy, max_length=max_length,
                                    generator=generator, **options))
            bar.update(len(zb))
    frame = rows.frame()
    if scaffold is not None:
        outside = frame["valid"] & ~frame["smiles"].map(scaffold.contained_in)
        frame.loc[outside, "valid"] = False
        frame.loc[outside, "smiles"] = ""
        frame.loc[outside, [c for c in frame.columns if c not in ("smiles", "raw", "valid")]] = float("nan")
    return frame


SAMPLING_PRIORS = ("auto", *PRIOR_KINDS)


def sampling_prior(model: MoleculeVAE, name: str = "auto"):
    """The prior called ``name`` for this model: ``auto`` (its fitted prior, else the one it was trained
    against), ``standard`` (N(0, I)), ``vamp`` (its learned VampPrior), ``mixture`` or ``exemplar`` (its
    fitted one)."""
    if name not in SAMPLING_PRIORS:
        raise MolvaeError(f"unknown prior {name!r}; choose one of: {', '.join(SAMPLING_PRIORS)}")
    if name == "standard":
        return StandardNormal(model.latent_dim)
    if name == "vamp" and model.training_prior.kind != "vamp":
        raise MolvaeError("this model was not trained with a VampPrior (molvae train --prior vamp); "
                          "use --prior standard or auto")
    if name in FITTED_PRIORS and model.prior.kind != name:
        raise MolvaeError(f"this model has no fitted {name} prior; fit one with 'molvae fit-prior --kind {name}' "
                          "or use --prior standard")
    chosen = model.training_prior if name == "vamp" else model.prior
    log.debug("sampling z from the %s", describe_prior(chosen))
    return chosen


def describe_prior(prior) -> str:
    """A few words for logs and reports: 'standard normal prior', 'learned 64-component VampPrior',
    'fitted 32-component mixture prior' or 'exemplar prior (1584663 molecules of moses, spread 1.2)'."""
    if prior.kind == "exemplar":
        return f"exemplar prior ({prior.components} molecules of {prior.data}, spread {prior.spread:g})"
    names = {"standard": "standard normal prior", "vamp": "learned {}-component VampPrior",
             "mixture": "fitted {}-component mixture prior"}
    return names[prior.kind].format(getattr(prior, "components", ""))


PRECISIONS = ("auto", "fp32", "bf16")


def decoding_precision(device: torch.device, precision: str = "auto"):
    """A context in which decoding runs in ``precision``: ``fp32``, ``bf16`` autocast, or ``auto``
    (bf16 where the hardware runs it natively: CUDA, and CPUs with AVX512-BF16 or AMX)."""
    if precision not in PRECISIONS:
        raise MolvaeError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    bf16 = precision == "bf16" or (precision == "auto" and bf16_autocast_helps(device))
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
