"""Published numbers to print beside ours (values as published; nothing here is measured by molvae)."""

from __future__ import annotations

MOSES_SOURCE = ("MOSES benchmark, Polykovskiy et al. 2020, Front. Pharmacol. 11:565644; "
                "table in the molecularsets/moses README (mean of 3 seeds, 30,000 samples)")
MOSES_COLUMNS = ("valid", "unique@10000", "FCD/Test", "FCD/TestSF", "SNN/Test", "Frag/Test", "Scaf/Test",
                 "Scaf/TestSF", "IntDiv", "IntDiv2", "Filters", "Novelty")
MOSES_BASELINES: dict[str, dict[str, float | None]] = {
    name: dict(zip(MOSES_COLUMNS, values)) for name, values in {
        "Train": (1.0, 1.0, 0.008, 0.4755, 0.6419, 1.0, 0.9907, 0.0, 0.8567, 0.8508, 1.0, None),
        "CharRNN": (0.9748, 0.9994, 0.0732, 0.5204, 0.6015, 0.9998, 0.9242, 0.1101, 0.8562, 0.8503, 0.9943, 0.8419),
        "AAE": (0.9368, 0.9973, 0.5555, 1.0572, 0.6081, 0.9910, 0.9022, 0.0789, 0.8557, 0.8499, 0.9960, 0.7931),
        "VAE": (0.9767, 0.9984, 0.0990, 0.5670, 0.6257, 0.9994, 0.9386, 0.0588, 0.8558, 0.8498, 0.9970, 0.6949),
        "JTN-VAE": (1.0, 0.9996, 0.3954, 0.9382, 0.5477, 0.9965, 0.8964, 0.1009, 0.8551, 0.8493, 0.9760, 0.9143),
        "LatentGAN": (0.8966, 0.9968, 0.2968, 0.8281, 0.5371, 0.9986, 0.8867, 0.1072, 0.8565, 0.8505, 0.9735, 0.9498),
    }.items()
}

GUACAMOL_SOURCE = ("GuacaMol, Brown et al. 2019, J. Chem. Inf. Model. 59:1096, distribution-learning results "
                   "(10,000 samples)")
GUACAMOL_COLUMNS = ("GuacaMol/validity", "GuacaMol/uniqueness", "GuacaMol/novelty", "GuacaMol/KL", "GuacaMol/FCD")
GUACAMOL_BASELINES: dict[str, dict[str, float]] = {
    name: dict(zip(GUACAMOL_COLUMNS, values)) for name, values in {
        "random sampler": (1.000, 0.997, 0.000, 0.998, 0.929),
        "SMILES LSTM": (0.959, 1.000, 0.912, 0.991, 0.913),
        "Graph MCTS": (1.000, 1.000, 0.994, 0.522, 0.015),
        "AAE": (0.822, 1.000, 0.998, 0.886, 0.529),
        "ORGAN": (0.379, 0.841, 0.687, 0.267, 0.000),
        "VAE": (0.870, 0.999, 0.974, 0.982, 0.863),
    }.items()
}


def _cell(value) -> str:
    return "–" if value is None else f"{value:.4f}"


def markdown_table(ours: dict, label: str = "molvae", columns=MOSES_COLUMNS,
                   baselines=MOSES_BASELINES, source: str = MOSES_SOURCE) -> str:
    """Our row beside the published rows, as a markdown table with its source underneath."""
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines.append(f"| **{label}** | " + " | ".join(_cell(ours.get(c)) for c in columns) + " |")
    for name, row in baselines.items():
        lines.append(f"| {name} | " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    lines.append("")
    lines.append(f"Published rows: {source}.")
    return "\n".join(lines)
