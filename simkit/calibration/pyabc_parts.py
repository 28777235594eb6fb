"""pyabc's per-particle pieces, made cheap for a cheap model: the same values and the same random draws.

A library particle costs about 50 ms of model time; pyabc's own work around it
(drawing a proposal, its prior density twice, its importance weight) cost about
6 ms more, most of it in scipy's generic `pdf`/`pmf` (about 0.2 ms a call) and in
pandas arithmetic on one row. These replacements compute the same numbers
without that machinery, and draw from numpy's global generator exactly as the
pieces they replace do, so a one-worker calibration with a given seed gives
the same posterior as before (`tests/test_calibrate.py` checks the values and the
draws against pyabc's own):

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

__all__ = ["Flat", "Kernel", "OneModel"]


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


class Kernel(MultivariateNormalTransition):
    """pyabc's multivariate normal kernel with a cheaper single draw (same draws, same value)."""

    def rvs_single(self) -> pyabc.Parameter:
        """A particle drawn by weight and perturbed, as pyabc does, on the particle array."""
        index = np.random.choice(self._range, p=self.w, replace=True)
        perturbed = self._X_arr[index] + np.random.multivariate_normal(np.zeros(self.cov.shape[0]), self.cov)
        return pyabc.Parameter(dict(zip(self.X.columns, perturbed, strict=True)))
