"""How much each model's decoder gets from z: reconstruction with the molecule's own code and without it.

For the first ``--n`` MOSES test molecules, −log p(x | z) in nats per molecule (the decoder's
teacher-forced likelihood, conditions included) with z set to

- the molecule's posterior mean μ(x),
- a draw from its posterior q(z | x) (what the ELBO's reconstruction term averages),
- the posterior mean of another test molecule (the codes shuffled, seeded): what z is worth is the
  gap between this row and the first,
- zero, the prior's centre,

beside the KL of q(z | x) from N(0, I) and how many dimensions carry more than 0.5 nats. A latent
held at the free-bits floor shows as a small KL; whether the decoder reads those few nats shows in
the gap.

    python benchmarks/latent_use.py graph bundled
"""

from __future__ import annotations

import argparse

import torch

import molvae
from molvae.chem import silence_rdkit
from molvae.core.gaussian import gaussian_kl
from molvae.datasets import moses_path, read_smiles
from molvae.generation.common import condition_matrix, seeded_generator


@torch.no_grad()
def latent_use(model_name: str, n: int, seed: int) -> dict[str, float]:
    model = molvae.load_model(model_name)
    model.eval()
    smiles = read_smiles(moses_path("test"))[:n]
    batch = model.featurizer.collate([model.featurizer.featurize(s) for s in smiles], condition_matrix(model, smiles))
    mu, logvar = model.encode(batch)
    generator = seeded_generator(seed)
    codes = {
        "own mean": mu,
        "own posterior draw": mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator),
        "another molecule's mean": mu[torch.randperm(len(mu), generator=generator)],
        "zero": torch.zeros_like(mu),
    }
    kl = gaussian_kl(mu, logvar)
    row = {name: float(-model.log_likelihood(batch, z).mean()) for name, z in codes.items()}
    row.update(kl=float(kl.sum(1).mean()), dims_over_half_nat=int((kl.mean(0) > 0.5).sum()))
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="shipped model names or checkpoint files")
    p.add_argument("--n", type=int, default=400, help="MOSES test molecules (default 400)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    silence_rdkit()
    torch.set_num_threads(1)
    names = ["own mean", "own posterior draw", "another molecule's mean", "zero"]
    print("| model | KL | dims > 0.5 nat | " + " | ".join(f"−log p(x|z), z = {n}" for n in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for name in args.models:
        row = latent_use(name, args.n, args.seed)
        print(f"| {name} | {row['kl']:.2f} | {row['dims_over_half_nat']} | "
              + " | ".join(f"{row[n]:.2f}" for n in names) + " |")


if __name__ == "__main__":
    main()
