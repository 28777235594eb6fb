"""Packages, agreements and the choice rules of a round of talks.

The functional forms and their reasons are in docs/model.md ("Negotiation").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class PackageKind(StrEnum):
    """The kind of a package or agreement; the comments say what each holds and whether it is reversible."""

    TRUCE = "truce"  # ceasefire, aid, a release stage, fighters out in waves: reversible
    SURRENDER = "surrender"  # Russia's "three options": amnesty or the buses, release dropped: irreversible
    CEASEFIRE = "ceasefire"  # declared by the mediator while surrender terms are discussed
    OUTSIDE = "outside"  # signed for the area by people who do not represent it (Cairo, 2017)


class Terms(StrEnum):
    """The terms of a surrender: whether the armed groups may settle in place or are ordered out.

    They set who registers for the buses (`amnesty_standing`), and through who leaves, the class.
    """

    EVACUATION = "evacuation"  # fighters, their families and whoever will not stay leave on the buses
    SETTLEMENT = "settlement in place"  # amnesty, weapons handed over, most stay; refusers are bussed out


@dataclass(frozen=True)
class TabledTerms:
    """One tabling of surrender terms: what the regime tabled and its number in the run.

    The committee's stand on its red line and each faction's resistance are taken once per tabling
    (`Committee.stand_on_red_line`, `Faction.vetoes`), so a tabling must be told apart from the next
    even when the terms are the same and tabled the same day (an offensive ends and a new ultimatum
    comes that day): `number` counts the run's tablings from 1. The day is the `package_offered` row's.
    """

    number: int
    terms: Terms


class RedLineStand(StrEnum):
    """A committee's position on its unmet red line (detainee release), for one tabling of surrender terms."""

    DROP = "drop"  # it would sign these terms without the release
    HOLD = "hold"  # it signs these terms only once the red line is met


class Posture(StrEnum):
    """The regime's military stance toward one committee's area."""

    NONE = "none"  # siege (or truce) without a demand
    ULTIMATUM = "ultimatum"  # surrender terms with a deadline
    OFFENSIVE = "offensive"  # an assault under way: truces end, bombardment at full intensity, ground taken


class GroupStatus(StrEnum):
    """Where a resident group stands."""

    HOLDING = "holding"  # under siege or truce, negotiated for by its committee
    EVACUATING = "evacuating"  # surrender signed, registered leavers waiting for the buses
    SETTLED = "settled"  # under regime control


class Phase(StrEnum):
    """Where a committee stands: it sets the siege tightness, bombardment and whether talks can be held."""

    SIEGE = "siege"
    TRUCE = "truce"  # any ceasefire agreement in force
    EVACUATION = "evacuation"  # surrender signed, convoys running
    SETTLED = "settled"


@dataclass(frozen=True)
class Package:
    """A package tabled in a round of talks, with the number of detainees the regime offers to free."""

    kind: PackageKind
    release_offered: int


@dataclass
class Agreement:
    """An agreement in force between the regime and one committee."""

    kind: PackageKind
    signed_day: int
    legitimacy: float
    siege_tightness: float
    aid: bool
    release_promised: int = 0
    release_stages: list[tuple[int, int]] = field(default_factory=list)  # (due day, names), in day order
    fighters_to_go: int = 0
    wave_size: int = 0
    wave_interval: int = 1
    next_wave_day: int = 0
    defunct: bool = False


class OffensiveCause(StrEnum):
    """Why the regime launches an offensive (the value is what the event log says)."""

    SCHEDULED = "scheduled offensive"
    ULTIMATUM_REFUSED = "ultimatum refused"


class TruceEnd(StrEnum):
    """Why a truce ends (the value is what the event log says).

    The first three are collapses (`SiegeModel.collapse`, `ceasefire_collapsed`): only `REGIME_OFFENSIVE`
    teaches the committee that the regime's word failed (a reneged term has already been learnt from when
    it was reneged, and violations are strain, not a broken promise). The last two are lapses
    (`SiegeModel.lapse`, `ceasefire_lapsed`): nobody broke the truce, nothing is counted or learnt.
    """

    REGIME_OFFENSIVE = "regime offensive"
    RENEGED = "reneged"
    VIOLATIONS = "violations beyond what the committee can sell"
    ULTIMATUM_DEADLINE = "ultimatum deadline"  # a ceasefire for the talks, as the offensive begins
    SUPERSEDED_BY_SURRENDER = "superseded by surrender"  # the committee signed a surrender under it


def sigmoid(x: float) -> float:
    """The logistic function 1 / (1 + exp(-x)), computed without overflow for large negative x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def truce_release_offer(listed: int, released: int, max_share: float, leverage: float) -> int:
    """Names the regime offers to free: its own reservation, raised in proportion by mediator leverage.

    Anchored on what the regime concedes unpressed (`max_share` of the list: 137 of 7,360 in Waer,
    seed 000), never on the committee's demand: full leverage doubles the regime's own offer.
    """
    share = min(1.0, max_share * (1.0 + leverage))
    return max(0, min(listed - released, round(share * listed)))


def credibility(trust: float, guarantor: float) -> float:
    """How far a promise of safe passage or amnesty is believed: trust + (1 - trust) x guarantor.

    The regime's word is believed as far as the committee trusts it; where the word fails, a guarantor
    on the ground (a mediator's `guarantor` capacity) stands in for it.
    """
    return trust + (1.0 - trust) * guarantor


def amnesty_standing(believed: float, terms: Terms, amnesty_when_ordered_out: float) -> float:
    """How far staying under the amnesty is safe, for a fighter or a civilian of a town that signed `terms`.

    Under a settlement in place the armed locals stay, settle and stand for the town: the amnesty holds
    as far as it is believed, `believed` (the one `credibility`). Under an evacuation the armed groups are
    ordered out and whoever stays faces the regime with no armed locals left: the amnesty holds only for a
    share `amnesty_when_ordered_out` of that belief, believed x amnesty_when_ordered_out. One discount for
    fighters and civilians alike (docs/model.md, "Evacuation and endings"): a fighter of a faction some
    deal covers refuses the amnesty, and leaves on the buses, with probability 1 - this
    (`SiegeModel.sign_surrender`); civilians register by it (`ResidentGroup.leaving_share`).
    """
    if terms is Terms.SETTLEMENT:
        return believed
    return believed * amnesty_when_ordered_out


def assault_threat(force: float, force_for_offensive: float) -> float:
    """Believed chance an assault succeeds: 1 - exp(-surplus / offensive level), 0 without a surplus.

    Force up to the offensive level holds the siege line; only what is beyond it can storm the area
    (the same surplus drives the takeover hazard).
    """
    return 1.0 - math.exp(-max(0.0, force - force_for_offensive) / force_for_offensive)


def regime_accepts_truce(force: float, force_for_offensive: float, appetite: float, leverage: float) -> float:
    """Attrition hazard: its cost is force tied here that other fronts need, plus the mediator's leverage.

    `leverage` includes what the deal carries for the regime's side elsewhere (`linked_stakes`), when
    a mediator is present to link the places.
    """
    opportunity_cost = max(0.0, 1.0 - force / force_for_offensive)
    return 1.0 - math.exp(-appetite * (opportunity_cost + leverage))


def committee_accepts_truce(
    pressure: float,
    trust: float,
    release_offered: int,
    listed: int,
    red_line: float,
    threshold: float,
    sensitivity: float,
) -> float:
    """Random-utility acceptance of a package that is all promises: relief and release count only as believed.

    Trust multiplies the whole value, so a committee the regime has cheated asks for far more hardship
    before it signs again (the Mar-Aug 2016 gap in Waer), not just a little less release.
    """
    wanted = max(1.0, red_line * listed)
    return sigmoid(sensitivity * (trust * (pressure + min(1.0, release_offered / wanted)) - threshold))


def committee_walks_out(shortfall: float, pressure: float, sensitivity: float) -> float:
    """Random-utility exit over a core term: the share withheld against residents' need for the deal.

    On the scale of signing (`sensitivity`): a fed, hard-line district leaves a deal that paid half
    (Waer, Mar 2016: 137 offered of 270 promised), a starving one swallows it. Nothing withheld, no exit.
    """
    if shortfall <= 0.0:
        return 0.0
    return sigmoid(sensitivity * (shortfall - pressure))


def committee_accepts_surrender(
    pressure: float,
    resolve: float,
    concession_rate: float,
    threat: float = 0.0,
) -> float:
    """War of attrition: concede at hazard c/V, c = residents' pressure, V = resolve x hard-line support.

    A credible assault (`threat`, the believed chance it succeeds, 0 without an ultimatum or offensive)
    takes that share off the value of holding out: V = resolve x (1 - pressure) x (1 - threat).
    The daily hazard of a committee whose red line is met, or that has dropped it for the terms on the
    table (a stand taken once per tabling: `Committee.stand_on_red_line`, docs/model.md, "Surrender").
    """
    value = resolve * (1.0 - pressure) * (1.0 - threat) + 0.01
    return 1.0 - math.exp(-concession_rate * pressure / value)
