"""Training and sampling throughput (molecules per second) on the current device; prints one JSON line.

Training: optimisation steps of a freshly initialised model on real MOSES molecules (tokenised
beforehand, so the figure is the model's, not RDKit's), with the trainer's length-bucketed batches
and, by default, its mixed precision. Sampling: prior samples decoded, turned into SMILES and
RDKit-validated, from --model (default: the bundled model) or, with --untrained, from the fresh model.

    python benchmarks/throughput.py                          # default configuration, bundled model
    python benchmarks/throughput.py --precision bf16         # bf16 training and sampling
    python benchmarks/throughput.py --reference-config       # the MOSES VAE's size, untrained

``--reference-config`` matches the MOSES VAE (SMILES, GRU encoder 256, 3-layer GRU decoder 512,
latent 128, batch 512, 100-token sampling): an untrained model never writes the end token, so every
sample runs the full 100 steps, as the MOSES sampler always does.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time

import torch

from molvae.chem.molecules import validate
from molvae.datasets import moses_path, read_smiles
from molvae.devices import bf16_autocast_helps, resolve_device
from molvae.generation.sampler import decoding_precision
from molvae.models.sequence import DEFAULTS, SequenceVAE
from molvae.representations import Vocabulary, get_representation
from molvae.training.checkpoint import load_model
from molvae.training.dataset import Dataset
from molvae.training.trainer import training_step

REFERENCE = {"representation": "smiles", "embed_dim": 32, "encoder_hidden": 256, "decoder_hidden": 512,
             "decoder_layers": 3, "latent_dim": 128, "max_length": 100}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="checkpoint to sample from (default: bundled model)")
    p.add_argument("--untrained", action="store_true", help="sample from the freshly initialised model")
    p.add_argument("--reference-config", action="store_true",
                   help="the MOSES VAE's configuration (implies --untrained)")
    for key, value in DEFAULTS.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=None, help=f"default {value}")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--sample-batch", type=int, default=1000)
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="auto: as the trainer and sampler do by default (bf16 where the hardware runs it natively)")
    p.add_argument("--device", default="auto")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    device = resolve_device(args.device)
    base = {**DEFAULTS, **(REFERENCE if args.reference_config else {})}
    config = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in base.items()}
    batch_size = args.batch_size or (512 if args.reference_config else 256)
    train_bf16 = args.precision == "bf16" or (args.precision == "auto" and bf16_autocast_helps(device))
    sample_precision = "bf16" if train_bf16 else "fp32"
    smiles = [validate(s).smiles for s in read_smiles(moses_path("test"), limit=batch_size * 20)]
    rep = get_representation(config["representation"])
    tokens = [rep.tokenize(s) for s in smiles]
    model = SequenceVAE(config, Vocabulary.build(tokens)).to(device)
    data = Dataset([model.featurizer.featurize_tokens(t) for t in tokens], None, smiles)
    train_rate = measure_training(model, data, batch_size, args.train_steps, device, train_bf16)
    untrained = args.untrained or args.reference_config
    sampler = model.eval() if untrained else load_model(args.model, device)
    sample_rate, validity = measure_sampling(sampler, args.samples, args.sample_batch, device, sample_precision)
    print(json.dumps({
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "threads": torch.get_num_threads(), "torch": str(torch.__version__), "config": config,
        "reference_config": args.reference_config, "parameters": sum(p.numel() for p in model.parameters()),
        "batch_size": batch_size, "train_precision": "bf16" if train_bf16 else "fp32",
        "sample_precision": sample_precision, "train_molecules_per_s": round(train_rate, 1),
        "sample_molecules_per_s": round(sample_rate, 1), "sample_validity": round(validity, 4),
        "sampled_from": "untrained" if untrained else (args.model or "bundled"),
    }))


def measure_training(model, data: Dataset, batch_size: int, steps: int, device: torch.device, bf16: bool) -> float:
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batches = list(data.batches(model.featurizer, batch_size, rng=random.Random(0)))
    molecules, start = 0, time.perf_counter()
    for i in range(steps + 2):
        if i == 2:  # two warm-up steps
            sync(device)
            start, molecules = time.perf_counter(), 0
        batch = model.batch_to_device(batches[i % len(batches)])
        training_step(model, batch, optimizer, beta=0.5,
                      autocast=torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16))
        molecules += len(batch["tokens"])
    sync(device)
    return molecules / (time.perf_counter() - start)


@torch.no_grad()
def measure_sampling(model, n: int, batch: int, device: torch.device, precision: str) -> tuple[float, float]:
    torch.manual_seed(0)
    with decoding_precision(device, precision):
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
