"""Entry point of the ``molvae`` command: parses the subcommand and turns user errors into one line."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from molvae import __version__, progress
from molvae.errors import MolvaeError

OUT_OF_MEMORY = ("out of memory", "can't allocate memory")  # torch's CUDA and CPU allocators
SUBCOMMANDS = ("train", "sample", "encode", "decode", "reconstruct", "interpolate", "evaluate", "benchmark", "optimize",
               "fit-prior")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``molvae`` parser. With ``command``, only that subcommand's module is imported and given its
    options (the others are known by name only), so a command does not load what the others need."""
    parser = argparse.ArgumentParser(prog="molvae", description="Variational autoencoders for molecular design.")
    parser.add_argument("--version", action="version", version=f"molvae {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        if command is not None and name != command:
            commands.add_parser(name)
            continue
        module = importlib.import_module(f"molvae.cli.{name.replace('-', '_')}")
        sub = commands.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(sub)
        if not any("--no-progress" in action.option_strings for action in sub._actions):
            sub.add_argument("--no-progress", action="store_true", help="no progress bars")
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    words = [word for word in argv if not word.startswith("-")]  # the first is the subcommand
    parser = build_parser(words[0] if words and words[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    if os.environ.get("RANK", "0") not in ("", "0"):
        level = logging.WARNING  # under torchrun only rank 0 reports progress
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    if args.no_progress:
        progress.disable()
    try:
        if getattr(args, "out", None):
            from molvae.cli.common import refuse_output_over_input  # noqa: PLC0415 (only commands that write)

            refuse_output_over_input(args)
        args.run(args)
    except MolvaeError as err:
        print(f"molvae {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the environment: a full disk, a missing or read-only folder, no permission
        where = f"{err.filename}: " if err.filename else ""
        print(f"molvae {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as err:  # torch reports an allocation that failed as a RuntimeError
        if not isinstance(err, MemoryError) and not any(s in str(err) for s in OUT_OF_MEMORY):
            raise
        print(f"molvae {args.command}: error: out of memory; try fewer molecules at a time (a smaller "
              "--batch-size or -n)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"molvae {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
