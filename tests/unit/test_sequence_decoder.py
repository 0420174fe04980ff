"""The hand-stepped sampling decoder computes exactly what the trained nn.GRU decoder computes."""

import pytest
import torch

from molvae.generation.sampler import decoding_precision
from molvae.models.sequence import SequenceVAE
from molvae.representations import Vocabulary, get_representation


def small_model(layers: int) -> SequenceVAE:
    tokens = [get_representation("smiles").tokenize(s) for s in ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(Cl)cc1", "C#N"]]
    config = {"representation": "smiles", "embed_dim": 8, "encoder_hidden": 16, "decoder_hidden": 24,
              "decoder_layers": layers, "latent_dim": 6, "max_length": 30}
    return SequenceVAE(config, Vocabulary.build(tokens)).eval()


@pytest.mark.parametrize("layers", [1, 3])
def test_greedy_decoding_matches_teacher_forced_argmax(layers):
    torch.manual_seed(0)
    model = small_model(layers)
    z = torch.randn(64, model.latent_dim)
    ids = model.generate_ids(z, greedy=True)
    inputs = torch.cat([torch.full((64, 1), model.vocab.bos), ids], dim=1)
    logits = model.decoder_logits(inputs, z, None)
    logits[:, :, [model.vocab.pad, model.vocab.bos, model.vocab.unk]] = -float("inf")
    written = ids != model.vocab.pad  # after a molecule's end token its row is padding
    assert torch.equal(logits.argmax(-1)[written], ids[written])
    ended = (ids == model.vocab.eos).any(dim=1)
    lengths = written.sum(dim=1)
    assert torch.all(lengths[~ended] == ids.shape[1])  # unfinished molecules ran to the last step


def test_bf16_decoding_runs_and_is_reproducible():
    model = small_model(2)
    z = torch.randn(32, model.latent_dim, generator=torch.Generator().manual_seed(1))
    with decoding_precision(torch.device("cpu"), "bf16"):
        first = model.generate_ids(z, generator=torch.Generator().manual_seed(2))
        again = model.generate_ids(z, generator=torch.Generator().manual_seed(2))
    assert first.dtype == torch.long and torch.equal(first, again)
