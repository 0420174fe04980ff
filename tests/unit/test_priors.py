"""Sampling priors: the standard normal, the fitted Gaussian mixture, and their plain-data form."""

import math

import pytest
import torch

from molvae.core.priors import ExemplarPrior, GaussianMixturePrior, StandardNormal, prior_from_dict
from molvae.errors import MolvaeError


def two_component_prior() -> GaussianMixturePrior:
    means = torch.tensor([[-3.0, 0.0], [3.0, 1.0]])
    scale_tril = torch.stack([torch.eye(2) * 0.5, torch.tensor([[1.0, 0.0], [0.8, 0.3]])])
    return GaussianMixturePrior(torch.tensor([0.25, 0.75]), means, scale_tril, {"molecules": 10})


def test_mixture_samples_follow_its_weights_means_and_covariances():
    prior = two_component_prior()
    z = prior.sample(40_000, torch.Generator().manual_seed(0))
    right = z[:, 0] > 0
    assert abs(right.float().mean().item() - 0.75) < 0.01
    assert torch.allclose(z[right].mean(0), torch.tensor([3.0, 1.0]), atol=0.03)
    covariance = torch.cov(z[right].T)
    assert torch.allclose(covariance, torch.tensor([[1.0, 0.8], [0.8, 0.73]]), atol=0.03)
    again = prior.sample(5, torch.Generator().manual_seed(1))
    assert torch.equal(again, prior.sample(5, torch.Generator().manual_seed(1)))


def test_one_standard_component_has_the_standard_normal_density():
    mixture = GaussianMixturePrior(torch.ones(1), torch.zeros(1, 3), torch.eye(3).unsqueeze(0))
    z = torch.randn(8, 3)
    assert torch.allclose(mixture.log_prob(z), StandardNormal(3).log_prob(z), atol=1e-5)
    density = two_component_prior().log_prob(torch.tensor([[3.0, 1.0]])).exp().item()
    expected = 0.75 / (2 * math.pi * 0.3) + 0.25 / (2 * math.pi * 0.25) * math.exp(-0.5 * (36 + 1) / 0.25)
    assert density == pytest.approx(expected, rel=1e-4)


def test_prior_round_trips_through_plain_data():
    prior = two_component_prior()
    data = prior.to_dict()
    assert all(isinstance(v, (str, dict, torch.Tensor)) for v in data.values())
    back = prior_from_dict(data, 2)
    assert back.kind == "mixture" and back.info == {"molecules": 10}
    assert torch.allclose(back.means.float(), prior.means.float())
    for stored in (None, {"kind": "standard"}, {"kind": "vamp", "components": 8}):
        assert prior_from_dict(stored, 4) is None  # no fitted prior: the model's training prior is used


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("means"),
    lambda d: d.update(weights=torch.tensor([0.5, 0.6])),
    lambda d: d.update(scale_tril=torch.zeros(2, 2, 2)),
    lambda d: d.update(means=torch.tensor([[float("nan"), 0.0], [1.0, 1.0]])),
    lambda d: d.update(kind="flow"),
])
def test_a_damaged_prior_block_is_a_clear_error(damage):
    data = two_component_prior().to_dict()
    damage(data)
    with pytest.raises(MolvaeError, match="prior"):
        prior_from_dict(data, 2)


def test_exemplar_prior_widens_each_posterior_by_its_spread_and_round_trips():
    prior = ExemplarPrior("moses", spread=2.0, info={"molecules": 3})
    mu, logvar = torch.tensor([[1.0, -1.0]]).expand(20000, 2), torch.log(torch.tensor([[0.25, 1.0]])).expand(20000, 2)
    z = prior.perturb(mu, logvar, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -1.0]), atol=0.05)
    assert torch.allclose(z.std(0), torch.tensor([1.0, 2.0]), atol=0.05)  # 2 × σ = 2 × (0.5, 1)
    back = prior_from_dict(prior.to_dict(), 64)
    assert (back.kind, back.data, back.spread, back.components) == ("exemplar", "moses", 2.0, 3)


@pytest.mark.parametrize("damage", [{"spread": -1.0}, {"spread": float("nan")}, {"data": ""}, {"limit": 0},
                                    {"data": 7}])
def test_a_damaged_exemplar_prior_block_is_a_clear_error(damage):
    data = ExemplarPrior("moses").to_dict() | damage
    with pytest.raises(MolvaeError, match="exemplar prior is corrupt"):
        prior_from_dict(data, 2)


def test_a_prior_of_another_size_is_refused():
    with pytest.raises(MolvaeError, match="2 dimensions; the model has 16"):
        prior_from_dict(two_component_prior().to_dict(), 16)


def vamp_with_components(mu: torch.Tensor, logvar: torch.Tensor):
    """A VampPrior whose head maps the k-th one-hot pseudo-input to (mu[k], logvar[k]) exactly."""
    from molvae.core.gaussian import DiagonalGaussian
    from molvae.core.priors import VampPrior

    k, d = mu.shape
    head = DiagonalGaussian(k, d)
    with torch.no_grad():
        head.mu.weight.copy_(mu.T), head.mu.bias.zero_()
        head.logvar.weight.copy_(logvar.T), head.logvar.bias.zero_()
        prior = VampPrior(head, k, k)
        prior.pseudo_inputs.copy_(torch.eye(k))
    return prior


def test_vamp_prior_is_the_mixture_of_posteriors_at_its_pseudo_inputs():
    mu, logvar = torch.tensor([[-2.0, 0.0, 1.0], [2.0, 1.0, -1.0]]), torch.tensor([[0.0, -1.0, 0.5], [-0.5, 0.0, 0.0]])
    prior = vamp_with_components(mu, logvar)
    z = torch.randn(7, 3)
    parts = [torch.distributions.Normal(mu[k], (0.5 * logvar[k]).exp()) for k in range(2)]
    expected = torch.logsumexp(torch.stack([p.log_prob(z).sum(-1) for p in parts]), 0) - math.log(2)
    assert torch.allclose(prior.log_prob(z), expected, atol=1e-5)
    marginal = torch.logsumexp(torch.stack([p.log_prob(z) for p in parts]), 0) - math.log(2)
    assert torch.allclose(prior.marginal_log_prob(z), marginal, atol=1e-5)
    draws = prior.sample(20_000, torch.Generator().manual_seed(0))
    assert torch.equal(draws, prior.sample(20_000, torch.Generator().manual_seed(0)))
    assert torch.allclose(draws.mean(0), mu.mean(0), atol=0.05)
    assert prior.to_dict() == {"kind": "vamp", "components": 2}


def test_monte_carlo_kl_against_a_vamp_prior_is_unbiased():
    """With one component the VampPrior is a Gaussian, so the exact KL is known."""
    from molvae.core.gaussian import gaussian_log_prob

    prior = vamp_with_components(torch.tensor([[0.5, -1.0]]), torch.tensor([[-0.5, 0.3]]))
    mu, logvar = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 0.0])
    z = mu + (0.5 * logvar).exp() * torch.randn(200_000, 2, generator=torch.Generator().manual_seed(1))
    estimate = (gaussian_log_prob(z, mu, logvar) - prior.log_prob(z)).mean()
    exact = torch.distributions.kl_divergence(torch.distributions.Normal(mu, (0.5 * logvar).exp()),
                                              torch.distributions.Normal(torch.tensor([0.5, -1.0]),
                                                                         torch.tensor([-0.25, 0.15]).exp())).sum()
    assert abs(float(estimate - exact)) < 0.01
