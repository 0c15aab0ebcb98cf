"""Duration distributions for handle times and patience, drawn in blocks.

A `Sampler` turns a validated distribution spec into draws from a numpy `Generator`. Draws
are made a block at a time (vectorised) and handed out one by one through `next()`, which
is what the contact hot path calls. Every sampler knows its mean, so the analytic layer and
the tests can compare the simulation with theory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
from numpy.random import Generator
from numpy.typing import NDArray

from sim.config import schema
from sim.config.files import read_column

BLOCK = 4096
"""Draws made per vectorised call; large enough to amortise numpy's call overhead."""

Draw = Callable[[Generator, int], NDArray[np.float64]]


class Sampler:
    """Draws durations (seconds) of one distribution from one random stream."""

    __slots__ = ("_draw", "mean", "name")

    def __init__(self, name: str, mean: float, draw: Draw) -> None:
        self.name = name
        self.mean = mean
        self._draw = draw

    def sample(self, rng: Generator, size: int) -> NDArray[np.float64]:
        """Draw `size` values at once."""
        return self._draw(rng, size)

    def stream(self, rng: Generator, block: int = BLOCK) -> Iterator[float]:
        """An endless iterator of draws, refilled a block at a time.

        Values belong to the order in which they are asked for, so a caller that draws one
        per arriving contact attaches each value to that contact (common random numbers).
        """
        while True:
            yield from self._draw(rng, block).tolist()

    def __repr__(self) -> str:
        return f"Sampler({self.name}, mean={self.mean:g}s)"


def _lognormal_params(mean: float, cv: float) -> tuple[float, float]:
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


_UNIT = {"s": 1.0, "min": 60.0, "h": 3600.0}


def make_sampler(
    spec: schema.Exponential
    | schema.LogNormal
    | schema.Gamma
    | schema.Deterministic
    | schema.Uniform
    | schema.Empirical,
) -> Sampler:
    """Build the sampler for a validated distribution spec."""
    if isinstance(spec, schema.Exponential):
        m = spec.mean_seconds
        return Sampler("exponential", m, lambda rng, n: rng.exponential(m, n))
    if isinstance(spec, schema.Deterministic):
        m = spec.mean_seconds
        return Sampler("deterministic", m, lambda rng, n: np.full(n, m))
    if isinstance(spec, schema.LogNormal):
        m = spec.mean_seconds
        mu, sigma = _lognormal_params(m, spec.cv)
        return Sampler("lognormal", m, lambda rng, n: rng.lognormal(mu, sigma, n))
    if isinstance(spec, schema.Gamma):
        m = spec.mean_seconds
        shape = 1.0 / (spec.cv * spec.cv)
        scale = m / shape
        return Sampler("gamma", m, lambda rng, n: rng.gamma(shape, scale, n))
    if isinstance(spec, schema.Uniform):
        low, high = spec.bounds_seconds
        return Sampler("uniform", (low + high) / 2, lambda rng, n: rng.uniform(low, high, n))
    if isinstance(spec, schema.Empirical):
        if spec.values is not None:
            values = np.asarray(spec.values, dtype=np.float64)
        else:
            assert spec.file is not None and spec.column is not None
            values = read_column(spec.file, spec.column)
            if (values < 0).any():
                raise ValueError(f"column '{spec.column}' of {spec.file} holds negative durations")
        values = values * _UNIT[spec.unit]
        mean = float(values.mean())
        return Sampler("empirical", mean, lambda rng, n: values[rng.integers(0, len(values), n)])
    raise TypeError(f"unknown distribution spec {spec!r}")
