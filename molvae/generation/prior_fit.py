"""Fit a model's sampling prior after training, to where its encoder puts real molecules (the
aggregate posterior), so that decoding avoids the regions of N(0, I) the decoder never saw:

- ``mixture``: a full-covariance Gaussian mixture over one z ~ q(z|x) per molecule (an estimate of
  the aggregate posterior; scikit-learn fits it, imported here only, so ``import molvae`` stays free
  of it), a :class:`molvae.core.priors.GaussianMixturePrior` of plain tensors;
- ``exemplar``: the aggregate posterior itself. Each draw encodes a random training molecule and
  decodes z ~ N(μ(x), (s σ(x))²) with that molecule's own conditions (logP, QED, SA), so z and the
  conditions fit each other; the prior stores only a reference to the molecules and the spread s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from molvae.core.priors import ExemplarPrior, GaussianMixturePrior
from molvae.datasets import read_molecules, resolve_data_path
from molvae.datasets.cache import cache_dir, file_sha256
from molvae.datasets.canonical import rdkit_release, shipped_canonical_forms
from molvae.datasets.moses import shipped_conditions
from molvae.errors import MolvaeError
from molvae.files import replace_atomically
from molvae.generation.common import resolve_model, seeded_generator
from molvae.generation.encoding import Encoded, encode, encode_with_conditions
from molvae.models.base import MoleculeVAE

log = logging.getLogger(__name__)


def fit_prior(model: MoleculeVAE | str | Path | None, smiles: Sequence[str], components: int = 32,
              seed: int = 0, max_iterations: int = 200) -> GaussianMixturePrior:
    """A Gaussian mixture with ``components`` full-covariance components fitted to z ~ q(z|x) of
    ``smiles`` (molecules the model cannot read are skipped and counted). Deterministic for a seed."""
    from sklearn.mixture import GaussianMixture  # noqa: PLC0415  (scikit-learn takes 0.5 s to import; only fitting needs it)

    model = resolve_model(model)
    if components < 1:
        raise MolvaeError(f"the prior needs at least one component, got {components}")
    try:
        mu, logvar, kept = encode(model, smiles, skip_invalid=True)
    except MolvaeError as err:
        raise MolvaeError(f"cannot fit a prior: {err} (of {len(smiles)} molecules)") from None
    if len(kept) < 2 * components:
        raise MolvaeError(f"cannot fit a {components}-component prior to {len(kept)} usable molecules "
                          f"(need at least {2 * components})")
    generator = seeded_generator(seed)
    z = (mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)).double().numpy()
    mixture = GaussianMixture(components, covariance_type="full", reg_covar=1e-5, max_iter=max_iterations,
                              random_state=seed).fit(z)
    if not mixture.converged_:
        log.warning("the mixture did not converge in %d iterations; it is used as it is", max_iterations)
    info = {"molecules": len(kept), "skipped": len(smiles) - len(kept), "components": components, "seed": seed,
            "average_log_likelihood": float(mixture.score(z))}
    log.info("fitted a %d-component prior to %d molecules (%d skipped)", components, len(kept), info["skipped"])
    scale_tril = np.linalg.cholesky(mixture.covariances_)
    return GaussianMixturePrior(torch.from_numpy(mixture.weights_ / mixture.weights_.sum()),
                                torch.from_numpy(mixture.means_), torch.from_numpy(scale_tril), info)


def fit_exemplar_prior(model: MoleculeVAE | str | Path | None, data: str, spread: float = 1.0,
                       smiles_column: str | None = None, limit: int | None = None,
                       check: int = 1000) -> ExemplarPrior:
    """An exemplar prior over the molecules of ``data`` (``moses`` for the shipped training split, or a
    molecule file, stored as an absolute path). The first ``check`` molecules are encoded to make sure
    the model reads the file; the molecules themselves are encoded only when samples are drawn."""
    model = resolve_model(model)
    reference = data if str(data).startswith("moses") else str(resolve_data_path(data).resolve())
    if not spread > 0:
        raise MolvaeError(f"the spread must be positive, got {spread}")
    molecules = exemplar_molecules(reference, smiles_column, limit)
    try:
        _, _, kept = encode(model, _picked(molecules, range(min(check, len(molecules)))), skip_invalid=True)
    except MolvaeError as err:
        raise MolvaeError(f"cannot fit an exemplar prior: {err} (of the first {min(check, len(molecules))} "
                          f"molecules of {data})") from None
    info = {"molecules": len(molecules), "readable_of_first": [len(kept), min(check, len(molecules))]}
    return ExemplarPrior(reference, spread, smiles_column, limit, info)


@lru_cache(maxsize=2)
def exemplar_molecules(data: str, smiles_column: str | None = None, limit: int | None = None) -> np.ndarray:
    """The SMILES an exemplar prior draws from, as an array of UTF-8 byte strings: canonical forms
    already (no RDKit needed when they are drawn) for the shipped MOSES split, as written in the file
    otherwise. Read once per process; the array is cached under the file's SHA-256 (reading the 1.58 M
    molecules of MOSES from their CSV takes about a second, the cached array is mapped in milliseconds,
    and worker processes forked later share its pages)."""
    path = resolve_data_path(data)
    try:
        cached = cache_dir() / f"exemplars-v1-{file_sha256(path)}-{smiles_column}-{limit}-rdkit{rdkit_release()}.npy"
    except OSError:
        cached = None  # reading the file below says what is wrong with it
    if cached is not None and cached.exists():
        try:
            return np.load(cached, mmap_mode="r")
        except (OSError, ValueError) as err:
            log.warning("removed the damaged cache %s (%s); reading the molecules again", cached, err)
            cached.unlink(missing_ok=True)
    smiles = read_molecules(path, smiles_column, limit)["smiles"].tolist()
    if not smiles:
        raise MolvaeError(f"the exemplar prior's molecule file {data} holds no molecules")
    molecules = np.array([s.encode() for s in shipped_canonical_forms(path, smiles) or smiles])
    try:
        if cached is not None:
            replace_atomically(cached, lambda temporary: np.save(temporary, molecules))
    except MolvaeError as err:
        log.warning("could not cache the exemplar prior's molecules: %s", err)
    return molecules


def _picked(molecules: np.ndarray, picks: Sequence[int]) -> list[str]:
    return [m.decode() for m in molecules[np.asarray(picks, dtype=np.int64)]]


@lru_cache(maxsize=2)
def _canonical_exemplars(data: str) -> bool:
    """Whether :func:`exemplar_molecules` of ``data`` are canonical already."""
    path = resolve_data_path(data)
    return shipped_canonical_forms(path, []) is not None


def exemplar_batches(model: MoleculeVAE, prior: ExemplarPrior, n: int, conditions: Mapping[str, float | str],
                     generator: torch.Generator, batch_size: int = 1000,
                     ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, list[str]]]:
    """``n`` draws from an exemplar prior as batches of (z, condition vectors, canonical SMILES of the
    molecules they start from), each encoded when the caller asks for it (so that it can decode one
    batch while RDKit checks the last): random molecules of its data, each encoded with its own
    conditions and drawn from its widened posterior. Conditions the user fixes replace the molecule's
    own (z then keeps the shape of a molecule with other properties)."""
    molecules = exemplar_molecules(prior.data, prior.smiles_column, prior.limit)
    shipped = shipped_conditions(resolve_data_path(prior.data), list(model.conditions.continuous), len(molecules))
    canonical = _canonical_exemplars(prior.data)

    def encoded(picks: list[int]) -> Encoded | None:
        """The picked molecules encoded with their own conditions; None when none could be."""
        known = {name: values[picks].tolist() for name, values in shipped.items()} if shipped else None
        try:
            return encode_with_conditions(model, _picked(molecules, picks), skip_invalid=True, known=known,
                                          already_canonical=canonical, batch_size=len(picks))
        except MolvaeError:
            return None

    for start in range(0, n, batch_size):
        size = min(batch_size, n - start)
        zs: list[torch.Tensor] = []
        cs: list[torch.Tensor] = []
        sources: list[str] = []
        for _ in range(10):  # molecules the model cannot read are replaced by other random ones
            batch = encoded(torch.randint(len(molecules), (size - len(sources),), generator=generator).tolist())
            if batch is not None:
                zs.append(prior.perturb(batch.mu, batch.logvar, generator))
                if batch.conditions is not None:  # the molecule's own, with the values the user fixed put in
                    cs.append(model.conditions.encode(conditions, len(batch.kept), base=batch.conditions))
                sources += batch.canonical
            if len(sources) == size:
                break
        else:
            raise MolvaeError(f"the model cannot read the exemplar prior's molecules ({prior.data}); "
                              "use --prior standard or fit the prior to other molecules")
        yield torch.cat(zs), torch.cat(cs) if cs else None, sources


__all__ = ["exemplar_batches", "fit_exemplar_prior", "fit_prior"]
