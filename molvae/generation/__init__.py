"""Sampling from the prior and working in latent space, every output validated by RDKit."""

from molvae.generation.encoding import encode
from molvae.generation.latent import interpolate, neighbours, reconstruct
from molvae.generation.sampler import decode, sample

__all__ = ["decode", "encode", "interpolate", "neighbours", "reconstruct", "sample"]
