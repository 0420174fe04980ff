"""The hand-stepped GRUs (decoder, and the sequence encoder at inference) and the categorical draw that both
decoders sample with."""

import torch
from torch import nn

from molvae.models.base import draw
from molvae.models.recurrent import DecoderGRU, bidirectional_final_states, combined_index


def test_hand_stepped_gru_over_summed_embeddings_equals_nn_gru():
    torch.manual_seed(0)
    embeddings = (nn.Embedding(4, 8), nn.Embedding(7, 8), nn.Embedding(3, 8))
    gru = nn.GRU(8 + 5, 16, num_layers=2, batch_first=True)
    latent, steps = torch.randn(6, 5), 9
    indices = torch.stack([torch.randint(e.num_embeddings, (6, steps)) for e in embeddings])  # (3, B, S)
    inputs = sum(e(i) for e, i in zip(embeddings, indices, strict=True))
    h0 = torch.randn(2, 6, 16)
    with torch.no_grad():
        expected, _ = gru(torch.cat([inputs, latent.unsqueeze(1).expand(-1, steps, -1)], -1), h0)
        stepper = DecoderGRU(gru, latent, embed_dim=8)
        table, hidden = stepper.input_table(*embeddings), stepper.initial(h0)
        got = torch.stack([stepper(table[combined_index(embeddings, indices[:, :, s])], hidden)
                           for s in range(steps)], 1)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_hand_stepped_encoder_gives_the_final_states_of_the_packed_bidirectional_gru():
    torch.manual_seed(0)
    embedding, gru = nn.Embedding(12, 8, padding_idx=0), nn.GRU(8, 16, batch_first=True, bidirectional=True)
    lengths = torch.tensor([5, 1, 9, 9, 3, 7])  # unsorted, with ties and a single-token molecule
    tokens = torch.randint(1, 12, (6, 9)).masked_fill(torch.arange(9) >= lengths.unsqueeze(1), 0)
    with torch.no_grad():
        packed = nn.utils.rnn.pack_padded_sequence(embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        _, h = gru(packed)
        got = bidirectional_final_states(gru, embedding, tokens, lengths)
    torch.testing.assert_close(got, torch.cat([h[-2], h[-1]], -1), rtol=1e-5, atol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # in bf16 (the sampling precision) close to it
        low = bidirectional_final_states(gru, embedding, tokens, lengths)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), got, rtol=0, atol=0.05)


def test_draw_never_picks_a_masked_entry_and_follows_the_probabilities():
    probabilities = torch.tensor([[0.0, 0.2, 0.0, 0.5, 0.3, 0.0]]).expand(100_000, -1).contiguous()
    picks = draw(probabilities, torch.Generator().manual_seed(0))
    counts = torch.bincount(picks, minlength=6).double() / len(picks)
    assert counts[[0, 2, 5]].sum() == 0
    torch.testing.assert_close(counts, probabilities[0].double(), atol=0.006, rtol=0)
    one_hot = torch.zeros(50, 6)
    one_hot[torch.arange(50), torch.arange(50) % 6] = 1.0  # a single allowed action is always the one drawn
    assert torch.equal(draw(one_hot), torch.arange(50) % 6)
