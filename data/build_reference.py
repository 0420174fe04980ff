"""Write the MOSES reference statistics that ship with molvae (``data/moses/reference``).

Run from the repository root after the split files or the installed RDKit release change:

    python data/build_reference.py [--workers 2]

Statistics already in the user cache are reused; the canonical forms of the training split are
computed afresh (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from molvae.evaluation.references import write_shipped_statistics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = Path(__file__).resolve().parent / "moses" / "reference"
    for name, sha in write_shipped_statistics(folder, args.workers).items():
        print(f"{(folder / name).stat().st_size / 1e6:6.2f} MB  {sha}  {name}")


if __name__ == "__main__":
    main()
