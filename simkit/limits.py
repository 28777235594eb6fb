"""Checks of the options that size a job, made before anything runs: seeds, run counts and total work.

The work of a job is counted in household-days: runs x horizon days x
simulated households (households per group x resident groups). A Waer run is
610 days x 200 households ≈ 1.2 x 10^5 household-days in about 8 ms on one core
(README, `make bench`), i.e. ~1.6 x 10^7 household-days per core-second. The
limit, `MAX_WORK` = 10^12 household-days, is ~17 core-hours at that speed
(8 million Waer runs): far above any ensemble, sweep or calibration the
project runs, and far below what a typo (`--runs 1000000000`, `replicates:
1e9`) asks for, which would otherwise run for weeks or exhaust memory before
the first result. `--allow-large` lifts it deliberately.
"""

from __future__ import annotations

from simkit.scenario import Scenario
from simkit.yamlio import InputError

MAX_WORK = 10**12
"""Most household-days (runs x horizon days x households) a job may ask for without --allow-large."""

MAX_SEED = 2**63 - 1
"""Seeds are non-negative 64-bit integers (numpy's SeedSequence takes no negative entropy)."""


def check_seed(seed: int, option: str = "--seed") -> int:
    """A master seed: a non-negative integer below 2^63.

    Raises:
        InputError: a negative or too large seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"{option} must be a whole number from 0 to 2^63-1, found {seed}")
    return seed


def check_count(value: int, option: str, least: int = 1) -> int:
    """A count option (runs, workers, budget) of at least `least`.

    Raises:
        InputError: a smaller value.
    """
    if value < least:
        raise InputError(f"{option} must be at least {least}, found {value}")
    return value


def households(scenario: Scenario) -> int:
    """Households simulated in one run: households per group x resident groups."""
    return int(scenario.behaviour.households_per_group.value) * len(scenario.residents)


def run_work(scenario: Scenario) -> int:
    """Household-days of one run of the scenario."""
    return int(scenario.horizon_days.value) * households(scenario)


def check_work(runs: int, scenario: Scenario, what: str, allow_large: bool = False) -> None:
    """Refuse a job over `MAX_WORK` household-days unless `allow_large`.

    Args:
        runs: runs (or simulations) the job asks for.
        scenario: the scenario (its horizon and households size each run).
        what: the options that set `runs`, for the message, e.g. "--runs 10000000".
        allow_large: the user asked to go past the limit deliberately.

    Raises:
        InputError: one line with the work asked for, the limit and how to lift it.
    """
    per_run = run_work(scenario)
    work = runs * per_run
    if work > MAX_WORK and not allow_large:
        raise InputError(
            f"{what} asks for {runs:,} runs x {scenario.horizon_days.value:,} days x "
            f"{households(scenario):,} households = {work:.2e} household-days, over simkit's limit of "
            f"{MAX_WORK:.0e} (~17 core-hours); lower it, or add --allow-large to run it deliberately"
        )
