"""pyabc's per-particle pieces, made cheap for a cheap model: the same values and the same random draws.

A library particle costs about 50 ms of model time; pyabc's own work around it
(drawing a proposal, its prior density twice, its importance weight) cost about
6 ms more, most of it in scipy's generic `pdf`/`pmf` (about 0.2 ms a call) and in
pandas arithmetic on one row. These replacements compute the same numbers
without that machinery (`Flat` and `OneModel` also draw exactly as the pieces
they replace do; `tests/test_calibrate.py` checks them against pyabc's own):

* `Flat`: the uniform prior (`pyabc.RV("uniform", loc, scale)`), also used for
  loguniform priors, which pyabc samples as uniform on the log10 scale;
* `OneModel`: the model prior of a calibration with one model (pyabc's default
  is `RV("randint", 0, 1)`, whose draw consumes no random number);
* `Kernel`: pyabc's `MultivariateNormalTransition` (the default perturbation
  kernel) with its single draw done on the particle array instead of a pandas row.
"""

from __future__ import annotations

import numpy as np
import pyabc
from pyabc.transition import MultivariateNormalTransition

__all__ = ["Flat", "Kernel", "OneModel", "twice_the_covariance"]


class Flat(pyabc.RVBase):
    """Uniform on [loc, loc + scale], as scipy.stats.uniform(loc, scale) computes it, without scipy.

    Attributes:
        loc: the lowest value.
        scale: the width.
    """

    def __init__(self, loc: float, scale: float):
        self.loc = float(loc)
        self.scale = float(scale)

    def copy(self) -> Flat:
        """A copy (pyabc copies priors)."""
        return Flat(self.loc, self.scale)

    def rvs(self, *args, **kwargs) -> float:
        """One draw: loc + scale x numpy's global uniform, as scipy draws it."""
        if args or kwargs:
            return pyabc.RV("uniform", self.loc, self.scale).rvs(*args, **kwargs)
        return self.loc + self.scale * np.random.uniform(0.0, 1.0)

    def pdf(self, x, *args, **kwargs) -> float:
        """1 / scale inside the closed interval, 0 outside (scipy's convention)."""
        u = (x - self.loc) / self.scale
        return 1.0 / self.scale if 0.0 <= u <= 1.0 else 0.0

    def pmf(self, x, *args, **kwargs) -> float:
        """A continuous variable has no mass (pyabc asks `pdf` first)."""
        raise AttributeError("a continuous prior has no pmf")

    def cdf(self, x, *args, **kwargs) -> float:
        """The share of the interval below x."""
        return min(1.0, max(0.0, (x - self.loc) / self.scale))

    def __repr__(self) -> str:
        return f"<Flat loc={self.loc:g}, scale={self.scale:g}>"


class OneModel(pyabc.RVBase):
    """The model prior of a calibration with one model: always model 0."""

    def copy(self) -> OneModel:
        """A copy (pyabc copies priors)."""
        return OneModel()

    def rvs(self, *args, **kwargs) -> int:
        """Model 0 (pyabc's randint(0, 1) draws no random number either)."""
        return 0

    def pmf(self, x, *args, **kwargs) -> float:
        """1 for model 0, else 0."""
        return 1.0 if x == 0 else 0.0

    def pdf(self, x, *args, **kwargs) -> float:
        """The same as `pmf` (pyabc asks for either)."""
        return self.pmf(x)

    def cdf(self, x, *args, **kwargs) -> float:
        """0 below model 0, 1 from it on."""
        return 1.0 if x >= 0 else 0.0


def twice_the_covariance(effective_sample_size: float, dimensions: int) -> float:
    """Bandwidth factor whose square is 2: the kernel's covariance is twice the population's.

    Beaumont, Cornuet, Marin and Robert (2009), "Adaptive approximate Bayesian computation", Biometrika
    96(4): ABC population Monte Carlo perturbs with twice the weighted covariance of the previous
    population. pyabc's default (Silverman's rule of thumb, a density estimator's bandwidth) gives 0.4
    of it for ten parameters and 200 particles: proposals then cluster at the particles, the proposal
    density is near zero between them, and the importance weights of the few particles drawn there took
    over the population (ESS 2-9 of 200 in a library calibration; 131-164 with this kernel;
    docs/calibration.md).
    """
    return 2.0**0.5


class Kernel(MultivariateNormalTransition):
    """pyabc's multivariate normal kernel, twice the population's covariance, drawn inside the priors' box.

    A wide kernel in ten dimensions proposes mostly outside the priors' bounds (97-98% of proposals for
    the library), which pyabc rejects one by one, recomputing the prior density each time. Given the
    box (`bounds`), a single draw here makes `batch` proposals at once, each from a parent drawn by
    weight and perturbed, and returns the first inside the box: the same distribution as pyabc's loop,
    which also draws parent and perturbation anew at each try (so the proposal density pyabc uses in the
    importance weight is right up to one constant).

    Attributes:
        bounds: lowest and highest value of each parameter on pyabc's scale, by name (None: no box).
        batch: proposals made at once.
    """

    def __init__(
        self,
        bounds: dict[str, tuple[float, float]] | None = None,
        batch: int = 256,
        bandwidth_selector=twice_the_covariance,
    ):
        super().__init__(bandwidth_selector=bandwidth_selector)
        self.bounds = bounds
        self.batch = batch
        self._root: np.ndarray | None = None

    def fit(self, X, w) -> None:
        """Fit as pyabc does, then a square root of the covariance for batched draws."""
        super().fit(X, w)
        u, singular, _ = np.linalg.svd(self.cov)
        self._root = u * np.sqrt(singular)
        columns = list(self.X.columns)
        box = self.bounds or {}
        self._low = np.array([box.get(c, (-np.inf, np.inf))[0] for c in columns])
        self._high = np.array([box.get(c, (-np.inf, np.inf))[1] for c in columns])

    def rvs_single(self) -> pyabc.Parameter:
        """One proposal inside the box: parents drawn by weight, perturbed, the first inside kept."""
        columns = self.X.columns
        while True:
            parents = np.random.choice(self._range, size=self.batch, p=self.w, replace=True)
            noise = np.random.standard_normal((self.batch, len(columns))) @ self._root.T
            proposals = self._X_arr[parents] + noise
            inside = np.flatnonzero(((proposals >= self._low) & (proposals <= self._high)).all(axis=1))
            if len(inside):
                return pyabc.Parameter(dict(zip(columns, proposals[inside[0]], strict=True)))
