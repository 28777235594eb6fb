"""Endings: every run ends in exactly one outcome class, with its attributes."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from simkit.model.negotiation import GroupStatus, Phase, Terms

if TYPE_CHECKING:
    from simkit.model.agents import ResidentGroup
    from simkit.model.model import SiegeModel


class Outcome(StrEnum):
    """The outcome classes: every run ends in exactly one (docs/model.md, "Evacuation and endings")."""

    SURRENDER_EVACUATION = "surrender_evacuation"
    RECONCILIATION = "reconciliation"
    MILITARY_TAKEOVER = "military_takeover"
    DURABLE_CEASEFIRE = "durable_ceasefire"
    STALEMATE = "stalemate"


OUTCOMES: tuple[str, ...] = tuple(o.value for o in Outcome)
"""Outcome classes in a fixed order (tables, plots)."""

ATTRIBUTES: tuple[str, ...] = (
    "outcome_day",
    "released",
    "released_share",
    "evacuated",
    "evacuated_fighters",
    "killed",
    "fled",
    "starved",
    "detained",
    "agreements_signed",
    "agreements_collapsed",
    "ceasefire_days",
)
"""Numeric attributes of a run, summarized by quantiles over an ensemble."""


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended: outcome class, partial-release flag and attributes (its row in runs.parquet).

    Three days per run: `outcome_day` is the run's last day (an ending or the
    horizon); `deal_day` the day the ending was decided, the signing of the
    surrender deal or the takeover (None for `durable_ceasefire` and
    `stalemate`); `control_day` the day the regime took control, the last
    convoy gone or the takeover (None if that was not reached by the run's
    end, e.g. buses still running at the horizon). Where both exist,
    deal_day <= control_day == outcome_day.
    """

    outcome: str
    partial_release: bool
    outcome_day: int
    outcome_date: dt.date
    deal_day: int | None
    deal_date: dt.date | None
    control_day: int | None
    control_date: dt.date | None
    released: int
    listed: int
    released_share: float
    evacuated: int
    evacuated_fighters: int
    surrender_fighters: int
    surrender_evacuated: int
    evacuated_civilians: int
    killed: int
    fled: int
    starved: int
    detained: int
    population: int
    agreements_signed: int
    agreements_collapsed: int
    ceasefire_days: int

    def as_row(self) -> dict:
        """The run as a flat dict in field order; `simulate` adds `run` and `seed` for runs.parquet."""
        return asdict(self)


def settlement_class(group: ResidentGroup) -> str:
    """The outcome class of a town that signed a surrender: the signed terms and who left decide it.

    `reconciliation` when most of its fighters stayed under the amnesty (the armed groups settled in
    place), `surrender_evacuation` when most of them registered to leave (they left as a body); the
    terms enter through who leaves (`negotiation.amnesty_standing`). A town with no fighters among its
    people takes the class of its terms. Registered leavers all board before the regime takes control,
    so at control this is who actually left; at the horizon with buses still running, who registered.
    The one place the class of a signed surrender is decided (docs/model.md, "Evacuation and endings").
    """
    if group.deal_fighters:
        settled_in_place = 2 * group.deal_fighters_leaving < group.deal_fighters
    else:
        settled_in_place = group.terms is Terms.SETTLEMENT
    return Outcome.RECONCILIATION.value if settled_in_place else Outcome.SURRENDER_EVACUATION.value


def classify(model: SiegeModel, day: int) -> RunOutcome:
    """Decide the run's one outcome class on `day` (its last) and collect its attributes.

    The class of the largest settled population once towns holding `settled_share_for_outcome` of it
    have settled; a town that signed a surrender is classed by who left (`settlement_class`: most of its
    fighters stayed under the amnesty -> reconciliation, most left -> surrender_evacuation); otherwise
    durable_ceasefire or stalemate at the horizon.
    """
    scenario = model.spec
    settled: dict[str, int] = {}
    for group in model.groups:
        how = group.settlement
        if group.status is GroupStatus.EVACUATING:  # surrender signed, buses still running at the horizon
            how = settlement_class(group)
        if how is not None:
            settled[how] = settled.get(how, 0) + group.initial_population
    if (
        settled
        and sum(settled.values())
        >= scenario.outcomes.settled_share_for_outcome.value * model.initial_population
    ):
        outcome = max(settled, key=settled.get)
    elif _durable_ceasefire(model, day):
        outcome = Outcome.DURABLE_CEASEFIRE.value
    else:
        outcome = Outcome.STALEMATE.value
    deal_day = _deal_day(model) if outcome in settled else None
    control_day = model.control_day
    listed = max(model.listed, 1)
    evacuated = sum(group.evacuated for group in model.groups)
    fighters = model.evacuated_fighters
    return RunOutcome(
        outcome=outcome,
        partial_release=model.released > 0 and model.release_shortfall,
        outcome_day=day,
        outcome_date=model.date(day),
        deal_day=deal_day,
        deal_date=None if deal_day is None else model.date(deal_day),
        control_day=control_day,
        control_date=None if control_day is None else model.date(control_day),
        released=model.released,
        listed=model.listed,
        released_share=model.released / listed,
        evacuated=evacuated,
        evacuated_fighters=fighters,
        surrender_fighters=model.surrender_fighters,
        surrender_evacuated=model.surrender_evacuated,
        evacuated_civilians=evacuated - fighters,
        killed=sum(group.killed for group in model.groups),
        fled=sum(group.fled for group in model.groups),
        starved=sum(group.starved for group in model.groups),
        detained=sum(group.detained for group in model.groups),
        population=sum(group.population for group in model.groups),
        agreements_signed=model.agreements_signed,
        agreements_collapsed=model.agreements_collapsed,
        ceasefire_days=max((c.ceasefire_days for c in model.committees), default=0),
    )


def _deal_day(model: SiegeModel) -> int:
    """The day the ending was decided: signed deals and takeovers first covered the settled share.

    Towns are taken in the order of their deal (surrender signed, or taken over);
    the deal day is the one on which the towns so far first hold
    `settled_share_for_outcome` of the initial population. With one town it is
    simply the day its surrender was signed or it was taken.
    """
    needed = model.spec.outcomes.settled_share_for_outcome.value * model.initial_population
    covered = 0
    days = model.deal_days
    by_day = sorted((days[g.locality], g.initial_population) for g in model.groups if g.locality in days)
    for day, people in by_day:
        covered += people
        if covered >= needed:
            return day
    return by_day[-1][0]  # not reached: unreachable when an outcome class is a settled one


def _durable_ceasefire(model: SiegeModel, day: int) -> bool:
    """Most of those still holding out live under a ceasefire that has held long enough with aid flowing."""
    scenario = model.spec
    needed = scenario.outcomes.durable_ceasefire_days.value
    aid_window = 2 * scenario.aid.convoy_interval_days.value
    covered = holding = 0
    for committee in model.committees:
        people = sum(g.population for g in committee.holding_groups)
        holding += people
        agreement = committee.agreement
        if committee.phase is Phase.TRUCE and day - agreement.signed_day >= needed:
            aid_flowing = day - committee.last_aid_day <= aid_window or agreement.siege_tightness <= 0.5
            if aid_flowing:
                covered += people
    return holding > 0 and covered * 2 > holding
