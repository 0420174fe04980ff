"""Training and sampling throughput (molecules per second) on the current device; prints one JSON line.

Training: optimisation steps of a freshly initialised model with the given configuration on real
MOSES molecules (tokenised beforehand, so the figure is the model's, not RDKit's). Sampling: prior
samples decoded and RDKit-validated, from --model (default: the bundled model) or, with --untrained,
from the fresh model.

    python benchmarks/throughput.py                       # default configuration, bundled model
    python benchmarks/throughput.py --decoder-hidden 512 --untrained
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from molvae.chem.molecules import validate
from molvae.core.objective import vae_loss
from molvae.datasets import moses_path, read_smiles
from molvae.models.sequence import DEFAULTS, SequenceVAE
from molvae.representations import Vocabulary, get_representation
from molvae.training.checkpoint import load_model
from molvae.training.devices import resolve_device
from molvae.training.trainer import Dataset


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint to sample from (default: bundled model)")
    p.add_argument("--untrained", action="store_true", help="sample from the freshly initialised model")
    for key, value in DEFAULTS.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--sample-batch", type=int, default=1000)
    p.add_argument("--device", default="auto")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    device = resolve_device(args.device)
    config = {k: getattr(args, k) for k in DEFAULTS}
    smiles = [validate(s).smiles for s in read_smiles(moses_path("test"), limit=args.batch_size * 20)]
    rep = get_representation(config["representation"])
    tokens = [rep.tokenize(s) for s in smiles]
    model = SequenceVAE(config, Vocabulary.build(tokens)).to(device)
    data = Dataset([model.featurize_tokens(t) for t in tokens], None, smiles)
    train_rate = measure_training(model, data, args.batch_size, args.train_steps, device)
    sampler = model.eval() if args.untrained else load_model(args.model, device)
    sample_rate, validity = measure_sampling(sampler, args.samples, args.sample_batch, device)
    print(json.dumps({
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "threads": torch.get_num_threads(), "torch": str(torch.__version__), "config": config,
        "parameters": sum(p.numel() for p in model.parameters()), "batch_size": args.batch_size,
        "train_molecules_per_s": round(train_rate, 1), "sample_molecules_per_s": round(sample_rate, 1),
        "sample_validity": round(validity, 4), "sampled_from": "untrained" if args.untrained else (args.model or "bundled"),
    }))


def measure_training(model, data: Dataset, batch_size: int, steps: int, device: torch.device) -> float:
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = list(data.batches(model, batch_size, rng=__import__("random").Random(0)))
    molecules, start = 0, None
    for i in range(steps + 2):
        if i == 2:  # two warm-up steps
            sync(device)
            start, molecules = time.perf_counter(), 0
        batch = model.batch_to_device(batches[i % len(batches)])
        out = model(batch)
        loss = vae_loss(out["recon_nll"], out["kl_per_dim"], 0.5).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        molecules += len(batch["tokens"])
    sync(device)
    return molecules / (time.perf_counter() - start)


@torch.no_grad()
def measure_sampling(model, n: int, batch: int, device: torch.device) -> tuple[float, float]:
    torch.manual_seed(0)
    model.generate(torch.randn(16, model.latent_dim, device=device), _conditions(model, 16, device))
    sync(device)
    start, valid = time.perf_counter(), 0
    for first in range(0, n, batch):
        size = min(batch, n - first)
        raws = model.generate(torch.randn(size, model.latent_dim, device=device), _conditions(model, size, device))
        valid += sum(validate(model.to_smiles(r)).valid for r in raws)
    sync(device)
    return n / (time.perf_counter() - start), valid / n


def _conditions(model, n: int, device: torch.device):
    return model.conditions.encode({}, n).to(device) if model.conditions else None


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
