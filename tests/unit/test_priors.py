"""Sampling priors: the standard normal, the fitted Gaussian mixture, and their plain-data form."""

import math

import pytest
import torch

from molvae.core.priors import GaussianMixturePrior, StandardNormal, prior_from_dict
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
    assert prior_from_dict(None, 4).kind == "standard" and prior_from_dict({"kind": "standard"}, 4).latent_dim == 4


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


def test_a_prior_of_another_size_is_refused():
    with pytest.raises(MolvaeError, match="2 dimensions; the model has 16"):
        prior_from_dict(two_component_prior().to_dict(), 16)
