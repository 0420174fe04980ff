"""Train a VAE on a molecule file or the shipped MOSES training split.

Writes a run folder with last.pt and best.pt checkpoints, config.json, metrics.csv, kl_per_dim.csv
and rejects.csv (molecules skipped, with line and reason).
"""

from __future__ import annotations

import argparse
import signal

from molvae.core.priors import TRAINING_PRIORS
from molvae.core.schedules import KINDS
from molvae.errors import MolvaeError
from molvae.models.property_head import PropertyHeadVAE
from molvae.models.registry import MODELS
from molvae.models.sequence import SequenceVAE
from molvae.training import distributed
from molvae.training.run import RunConfig, train
from molvae.training.trainer import LR_SCHEDULES, TrainConfig

TRAIN = TrainConfig()  # the defaults every option below shows
STRING_REPRESENTATIONS = ("selfies", "smiles")

HELP = "train a model (writes a run folder)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="molecule file (.csv, .csv.gz, .smi, .txt) or 'moses' for the MOSES train split")
    p.add_argument("--smiles-column", help="CSV column holding SMILES (default: smiles/SMILES)")
    p.add_argument("-o", "--out", required=True, help="run folder to write (or to resume with --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--init-from", metavar="CHECKPOINT",
                   help="fine-tune: start from this model's weights, size, vocabulary and conditions "
                        "('bundled', 'selfies' or 'property-head' for a shipped model); --word-dropout and "
                        "--prior may differ from the start model's")
    p.add_argument("--limit", type=int, help="use only the first N molecules of the file")
    p.add_argument("--model", choices=[m for m in MODELS if m != PropertyHeadVAE.model_name],
                   help=f"model type (default: {RunConfig.model})")
    p.add_argument("--representation", choices=STRING_REPRESENTATIONS,
                   help=f"string representation of a sequence model "
                        f"(default: {SequenceVAE.default_config()['representation']})")
    p.add_argument("--condition", nargs="+", default=[], metavar="NAME",
                   help="continuous conditions: a numeric column or a property (logP QED SA MW)")
    p.add_argument("--label", nargs="+", default=[], metavar="COLUMN", help="categorical condition columns")
    p.add_argument("--property-head", nargs="+", default=[], metavar="NAME",
                   help="train a property predictor on z jointly with the VAE: properties (logP QED SA MW) "
                        "or numeric columns")
    p.add_argument("--property-weight", type=float, default=RunConfig.property_weight,
                   help="weight of the property head's loss")
    g = p.add_argument_group("model size (default: the model's own defaults)")
    g.add_argument("--latent-dim", type=int)
    g.add_argument("--embed-dim", type=int)
    g.add_argument("--encoder-hidden", type=int)
    g.add_argument("--decoder-hidden", type=int)
    g.add_argument("--decoder-layers", type=int)
    g.add_argument("--max-length", type=int, help="longest token sequence, begin/end included")
    g.add_argument("--action-encoder", action="store_true", default=None,
                   help="graph model: the encoder also reads the molecule's actions in the decoder's order "
                        "(may be switched on when fine-tuning)")
    g.add_argument("--max-ring-size", type=int, metavar="ATOMS",
                   help="graph model: no bond may close a ring of more atoms (0: no limit, the default); e.g. 7 "
                        "for MOSES, whose molecules have no larger ring. May change when resuming or fine-tuning")
    g.add_argument("--sampling-temperature", type=float, metavar="T",
                   help="softmax temperature molvae sample uses for this model unless given --temperature "
                        "(default 1.0; stored with the weights). May change when resuming or fine-tuning")
    g = p.add_argument_group("bounds (whichever comes first)")
    g.add_argument("--epochs", type=int, help=f"(default {TRAIN.epochs})")
    g.add_argument("--max-steps", type=int)
    g.add_argument("--max-minutes", type=float)
    g.add_argument("--epoch-size", type=int, help="molecules per epoch (default: the whole training set)")
    g.add_argument("--checkpoint-minutes", type=float,
                   help="also save last.pt this often inside an epoch (default: only at epoch ends)")
    g = p.add_argument_group("optimisation")
    g.add_argument("--batch-size", type=int, help=f"(default {TRAIN.batch_size})")
    g.add_argument("--lr", type=float, help=f"peak learning rate (default {TRAIN.lr:g})")
    g.add_argument("--lr-schedule", choices=LR_SCHEDULES, help=f"(default {TRAIN.lr_schedule})")
    g.add_argument("--grad-clip", type=float, help=f"(default {TRAIN.grad_clip:g})")
    g.add_argument("--patience", type=int,
                   help=f"early-stopping patience in epochs (0 = off; default {TRAIN.patience})")
    g.add_argument("--val-fraction", type=float, default=RunConfig.val_fraction)
    g.add_argument("--seed", type=int, help=f"(default {TRAIN.seed})")
    g.add_argument("--device", help="auto (CUDA if present, else CPU; the default), cpu, cuda, mps")
    g.add_argument("--no-amp", action="store_true",
                   help="no bf16 mixed precision (used on CUDA and on CPUs with native bf16)")
    g.add_argument("--workers", type=int, default=1, help="processes for data preparation")
    g = p.add_argument_group("collapse guards")
    g.add_argument("--beta", type=float, help=f"final KL weight β (default {TRAIN.beta:g})")
    g.add_argument("--beta-schedule", choices=KINDS, help=f"(default {TRAIN.beta_schedule})")
    g.add_argument("--beta-warmup-steps", type=int,
                   help=f"ramp length (cycle length when cyclical; default {TRAIN.beta_warmup_steps})")
    g.add_argument("--free-bits", type=float, help=f"per-dimension KL floor in nats (default {TRAIN.free_bits:g})")
    g.add_argument("--word-dropout", type=float, help="share of decoder inputs replaced by <unk>")
    g.add_argument("--prior", choices=TRAINING_PRIORS,
                   help="p(z) of the objective: standard (N(0, I), the default) or vamp (a VampPrior: a mixture "
                        "of the encoder's posteriors at learned pseudo-inputs, which follows where the data lie)")
    g.add_argument("--prior-components", type=int, help="pseudo-inputs of a VampPrior (default 64)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# options of a run that --resume may change; the others would break the schedule or the data order
CHANGEABLE_ON_RESUME = ("epochs", "max_steps", "max_minutes", "checkpoint_minutes", "patience", "device", "amp",
                        "show_progress")
FIXED_ON_RESUME = ("data", "model", "init_from", "condition", "label", "property_head", "limit", "smiles_column",
                   "representation", "latent_dim", "embed_dim", "encoder_hidden", "decoder_hidden", "decoder_layers",
                   "max_length", "word_dropout", "prior", "prior_components", "action_encoder")


def given_settings(args: argparse.Namespace) -> dict:
    """The TrainConfig fields the user gave on the command line (the rest keep their defaults, or the
    run's own values when resuming)."""
    values = {"epochs": args.epochs, "max_steps": args.max_steps, "max_minutes": args.max_minutes,
              "epoch_size": args.epoch_size, "batch_size": args.batch_size, "lr": args.lr,
              "lr_schedule": args.lr_schedule, "grad_clip": args.grad_clip, "beta": args.beta,
              "beta_schedule": args.beta_schedule, "beta_warmup_steps": args.beta_warmup_steps,
              "free_bits": args.free_bits, "seed": args.seed, "device": args.device,
              "checkpoint_minutes": args.checkpoint_minutes,
              "patience": None if args.patience is None else args.patience or None,  # 0: off
              "amp": False if args.no_amp else None, "show_progress": False if args.no_progress else None}
    given = {k: v for k, v in values.items() if v is not None or (k == "patience" and args.patience is not None)}
    return given


def _resume_changes(args: argparse.Namespace, given: dict) -> dict:
    """The settings a resumed run changes; a setting that cannot change is a one-line error."""
    fixed = [k for k in FIXED_ON_RESUME if getattr(args, k) not in (None, [], False)]
    fixed += [k for k in given if k not in CHANGEABLE_ON_RESUME]
    if fixed:
        options = ", ".join("--" + k.replace("_", "-") for k in fixed)
        raise MolvaeError(f"{options} cannot change when resuming: the run keeps its data, model and schedule "
                          "(start a new run, e.g. with --init-from, to change them)")
    return {"device": "auto", "show_progress": True, **given}  # where to run and what to show: this invocation's


def run(args: argparse.Namespace) -> None:
    if not args.resume and not args.data:
        raise MolvaeError("--data is required (a molecule file or 'moses') unless --resume is given")
    given = given_settings(args)
    changes = _resume_changes(args, given) if args.resume else None
    config = None if args.resume else TrainConfig(**given)
    model_config = {"representation": args.representation, "latent_dim": args.latent_dim,
                    "embed_dim": args.embed_dim, "encoder_hidden": args.encoder_hidden,
                    "decoder_hidden": args.decoder_hidden, "decoder_layers": args.decoder_layers,
                    "word_dropout": args.word_dropout, "max_length": args.max_length, "prior": args.prior,
                    "prior_components": args.prior_components, "action_encoder": args.action_encoder,
                    "max_ring_size": args.max_ring_size, "sampling_temperature": args.sampling_temperature}
    model_config = {k: v for k, v in model_config.items() if v is not None}  # unset: the model's defaults
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped job saves its last step, as Ctrl-C does
    try:
        summary = train(args.data, args.out, args.model or RunConfig.model, model_config, config, args.condition,
                        args.label, args.smiles_column, args.limit, args.val_fraction, workers=args.workers,
                        resume=args.resume, init_from=args.init_from, property_head=args.property_head,
                        property_weight=args.property_weight, changes=changes)
    except BaseException:
        distributed.shutdown(wait=False)
        raise
    main_process = distributed.is_main_process()
    distributed.shutdown()
    if not main_process:
        return
    print(f"stopped after epoch {summary['epoch']}, step {summary['step']} ({summary['stop_reason']}); "
          f"best validation -ELBO {summary['best']:.2f} nats/molecule; run folder: {summary['run_dir']}")
    if "property_r2" in summary:
        print("property head, held-out R²: " + ", ".join(f"{k} {v:.3f}" for k, v in summary["property_r2"].items()))
