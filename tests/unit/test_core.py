"""The VAE core: KL, reparameterisation, objective, schedules, free bits, diagnostics, conditions."""

import math

import pytest
import torch

from molvae.core import (
    BetaSchedule,
    ConditionEncoder,
    active_units,
    dims_at_free_bits_floor,
    gaussian_kl,
    iwae_bound,
    reparameterize,
    vae_loss,
)
from molvae.core.gaussian import gaussian_log_prob, standard_normal_log_prob
from molvae.errors import MolvaeError


def test_kl_closed_form_matches_monte_carlo():
    mu = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[0.0, -1.5, 0.7]])
    analytic = gaussian_kl(mu, logvar).sum()
    z = mu + torch.exp(0.5 * logvar) * torch.randn(200_000, 3)
    monte_carlo = (gaussian_log_prob(z, mu, logvar) - standard_normal_log_prob(z)).mean()
    assert analytic.item() == pytest.approx(monte_carlo.item(), rel=0.02)


def test_kl_is_zero_at_the_prior():
    assert gaussian_kl(torch.zeros(4, 8), torch.zeros(4, 8)).abs().max().item() == 0.0


def test_reparameterisation_passes_gradients_to_mu_and_logvar():
    mu = torch.zeros(5, 3, requires_grad=True)
    logvar = torch.zeros(5, 3, requires_grad=True)
    reparameterize(mu, logvar).pow(2).sum().backward()
    assert mu.grad is not None and mu.grad.abs().sum() > 0
    assert logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_loss_combines_recon_and_beta_weighted_kl():
    recon = torch.tensor([10.0, 20.0])
    kl = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    terms = vae_loss(recon, kl, beta=0.5)
    assert terms.recon.item() == 15.0
    assert terms.kl.item() == 5.0
    assert terms.loss.item() == 15.0 + 0.5 * 5.0
    assert terms.neg_elbo.item() == 20.0


def test_free_bits_floor_each_dimension_in_the_loss_only():
    recon = torch.tensor([1.0])
    kl = torch.tensor([[0.05, 0.5, 2.0]])
    terms = vae_loss(recon, kl, beta=1.0, free_bits=1.0)
    assert terms.loss.item() == pytest.approx(1.0 + 1.0 + 1.0 + 2.0)
    assert terms.kl.item() == pytest.approx(2.55)


def test_free_bits_give_no_gradient_below_the_floor():
    kl = torch.tensor([[0.05, 3.0]], requires_grad=True)
    vae_loss(torch.zeros(1), kl, beta=1.0, free_bits=0.5).loss.backward()
    assert kl.grad[0, 0].item() == 0.0 and kl.grad[0, 1].item() == 1.0


def test_iwae_bound_is_tighter_than_the_elbo():
    log_w = torch.randn(10, 100)
    bound = iwae_bound(log_w)
    assert torch.all(bound >= log_w.mean(-1))
    same = torch.full((1, 7), -3.0)
    assert iwae_bound(same).item() == pytest.approx(-3.0)


@pytest.mark.parametrize("step,expected", [(0, 0.0), (50, 0.25), (100, 0.5), (500, 0.5)])
def test_linear_schedule(step, expected):
    assert BetaSchedule("linear", beta=0.5, warmup_steps=100)(step) == pytest.approx(expected)


def test_constant_schedule():
    schedule = BetaSchedule("constant", beta=0.3)
    assert schedule(0) == schedule(10_000) == 0.3


def test_sigmoid_schedule_is_half_way_at_the_midpoint_and_monotone():
    schedule = BetaSchedule("sigmoid", beta=1.0, warmup_steps=100)
    values = [schedule(s) for s in range(0, 101, 10)]
    assert schedule(50) == pytest.approx(0.5)
    assert values == sorted(values) and values[0] < 0.01 and values[-1] > 0.99


def test_cyclical_schedule_ramps_then_holds_each_cycle():
    schedule = BetaSchedule("cyclical", beta=1.0, warmup_steps=100, cycles=3, ratio=0.5)
    assert schedule(0) == 0.0
    assert schedule(25) == pytest.approx(0.5)
    assert schedule(60) == 1.0
    assert schedule(100) == 0.0          # a new cycle starts
    assert schedule(125) == pytest.approx(0.5)
    assert schedule(10_000) == 1.0       # after the last cycle


def test_unknown_schedule_is_a_clear_error():
    with pytest.raises(MolvaeError, match="unknown β schedule"):
        BetaSchedule("exponential")


def test_active_units_count_dimensions_that_vary_across_data():
    means = torch.zeros(1000, 4)
    means[:, 0] = torch.randn(1000)          # variance ≈ 1: active
    means[:, 1] = 0.05 * torch.randn(1000)   # variance ≈ 0.0025: inactive
    count, variance = active_units(means)
    assert count == 1
    assert variance[0] > 0.5 and variance[1] < 0.01


def test_dimensions_held_at_the_free_bits_floor_are_counted_though_they_are_active():
    kl = [0.099, 0.104, 0.12, 0.6, 2.5]  # the graph campaign's collapse: every dimension near 0.1 nats
    assert dims_at_free_bits_floor(kl, free_bits=0.1) == 3
    assert dims_at_free_bits_floor(kl, free_bits=0.0) == 0  # no floor, nothing held at it
    means = torch.randn(1000, 1) * 0.4  # a dimension carrying about 0.1 nats still passes the active-unit test
    assert active_units(means)[0] == 1


def test_condition_encoder_standardises_and_saves_statistics():
    enc = ConditionEncoder.fit({"logP": [1.0, 2.0, 3.0]}, {"series": ["a", "b", "a"]})
    c = enc.encode_columns({"logP": [2.0]}, {"series": ["b"]})
    assert c.tolist() == [[0.0, 0.0, 1.0]]
    again = ConditionEncoder.from_dict(enc.to_dict())
    assert again.continuous == enc.continuous and again.categorical == enc.categorical
    fixed = again.encode({"logP": 3.0, "series": "a"}, n=4)
    assert fixed[:, 0].tolist() == pytest.approx([1.0 / math.sqrt(2 / 3)] * 4)
    assert fixed[:, 1:].tolist() == [[1.0, 0.0]] * 4


@pytest.mark.parametrize("values,message", [({"logP": "nan"}, "finite"), ({"logP": "abc"}, "not a number"),
                                            ({"MW": 1}, "unknown condition"), ({"series": "z"}, "unknown label")])
def test_condition_encoder_rejects_bad_values(values, message):
    enc = ConditionEncoder.fit({"logP": [1.0, 2.0]}, {"series": ["a", "b"]})
    with pytest.raises(MolvaeError, match=message):
        enc.encode(values, n=2)


def test_conditions_with_missing_training_values_are_an_error():
    with pytest.raises(MolvaeError, match="missing"):
        ConditionEncoder.fit({"logP": [1.0, float("nan")]})


def test_condition_names_ignore_case_and_unknown_ones_get_a_suggestion():
    enc = ConditionEncoder.fit({"logP": [1.0, 2.0], "QED": [0.5, 0.7]})
    assert torch.equal(enc.encode({"logp": 1.5, "qed": 0.6}, n=1), enc.encode({"logP": 1.5, "QED": 0.6}, n=1))
    with pytest.raises(MolvaeError, match="unknown condition 'logPP'; did you mean 'logP'"):
        enc.encode({"logPP": 1.0}, n=1)


def test_condition_vectors_can_start_from_given_rows_with_the_fixed_values_put_in():
    encoder = ConditionEncoder({"logP": (2.0, 1.0), "QED": (0.5, 0.25)})
    base = torch.tensor([[0.3, -1.0], [1.5, 2.0]])
    out = encoder.encode({"logP": 4.0}, 2, base=base)
    assert torch.equal(out[:, 1], base[:, 1]) and torch.equal(out[:, 0], torch.tensor([2.0, 2.0]))
    assert torch.equal(base, torch.tensor([[0.3, -1.0], [1.5, 2.0]]))  # the given rows are left alone
