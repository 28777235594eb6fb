"""How people leave a besieged area: flight through corridors, truce waves of fighters, surrender convoys.

`Movement` holds what is scheduled (the corridors open today, the next convoy day of each committee)
and moves people in its phase of `SiegeModel.step` (docs/model.md, "Flight and corridors",
"Evacuation convoys"). Which deals are signed, and when, is the model's and negotiation's business;
this module only carries out what was agreed or opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from simkit.model.events import EventType
from simkit.model.negotiation import Agreement, GroupStatus, PackageKind, Phase, credibility
from simkit.model.outcomes import settlement_class

if TYPE_CHECKING:
    from simkit.model.agents import Committee, Faction, ResidentGroup
    from simkit.model.model import SiegeModel


def apportion(count: int, weights: list[float]) -> list[int]:
    """Share `count` out in proportion to `weights` by the largest-remainder method.

    The parts sum to `count` exactly (a per-part rounding can make them sum to more or less); ties
    in the remainders go to the earlier weight. All-zero weights get nothing.

    Args:
        count: How many to share out (at least 0).
        weights: One non-negative weight per part.

    Returns:
        One whole number per weight.
    """
    total = sum(weights)
    if not total or count <= 0:
        return [0] * len(weights)
    shares = [count * w / total for w in weights]
    parts = [int(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - parts[i], reverse=True)
    for i in by_remainder[: count - sum(parts)]:
        parts[i] += 1
    return parts


def convoy_detail(kind: PackageKind, fighters: int) -> str:
    """An `evacuation_convoy` row's detail: the kind of agreement the buses serve, then the fighters.

    `truce; fighters=120` (a truce's wave of fighters) or `surrender; fighters=300` (a bus of a signed
    surrender): the first word says which agreement a convoy belongs to (`summary_stats.detail_word`),
    the number after `=` how many fighters were on it (docs/events.md).
    """
    return f"{kind.value}; fighters={fighters}"


@dataclass(frozen=True, order=True)
class OpenCorridor:
    """A scheduled corridor: its last open day, share held at screening, and who stands behind it."""

    until: int
    detained_share: float
    guarantor: str  # `regime` or a mediator's name


class Movement:
    """Flight, truce waves and evacuation convoys of one run.

    Args:
        model: the run whose people move.
    """

    def __init__(self, model: SiegeModel) -> None:
        self.model = model
        self.corridors: list[OpenCorridor] = []  # scheduled corridors, each with its own dates and terms
        self._next_convoy: dict[str, int] = {}  # committee name -> day of its next surrender convoy

    def open_corridor(self, corridor: OpenCorridor) -> None:
        """A `corridor` event (a corridor or a humanitarian evacuation): the lines open until `until`."""
        self.corridors.append(corridor)

    def schedule_convoy(self, committee: Committee, day: int) -> None:
        """The next bus of `committee`'s signed surrender leaves on `day`."""
        self._next_convoy[committee.name] = day

    def step(self, day: int) -> None:
        """Flight where the lines are open, truce waves, and the buses of signed surrenders."""
        model = self.model
        self.corridors = [c for c in self.corridors if day <= c.until]
        if self.corridors:
            held_back = 1.0
            for faction in model.factions:
                if faction.fighters > 0:
                    held_back *= 1.0 - faction.spec.holds_back.value
        for committee in model.committees:
            if self.corridors:
                # Who holds the lines (factions stopping crossings) and belief in safe passage scale flight;
                # with several corridors open, people take the one they believe safest.
                passage, corridor = max(
                    (credibility(committee.trust, self.corridor_guarantor(c)), c) for c in self.corridors
                )
                for group in committee.holding_groups:
                    group.flee(corridor.detained_share, held_back * passage)
            agreement = committee.agreement
            if committee.phase is Phase.TRUCE and agreement.fighters_to_go and day >= agreement.next_wave_day:
                self._truce_wave(day, committee, agreement)
            evacuating = [g for g in committee.groups if g.status is GroupStatus.EVACUATING]
            if evacuating and day >= self._next_convoy[committee.name]:
                self._evacuation_convoy(day, committee, evacuating)

    def corridor_guarantor(self, corridor: OpenCorridor) -> float:
        """Guarantor capacity behind a corridor today: its named mediator's while present, else none."""
        mediator = self.model.mediator
        if corridor.guarantor == "regime" or corridor.guarantor != mediator.current_name:
            return 0.0  # the regime's word alone
        return mediator.effective_guarantor

    def free_fighters_by_faction(self) -> dict[Faction, int]:
        """Each faction's fighters in the towns still holding out: not registered on a surrender's buses.

        One pass over the towns being evacuated, for every faction at once: callers ask once, for one
        faction, several or their total.
        """
        registered: dict[Faction, int] = {}
        for group in self.model.groups:
            if group.status is GroupStatus.EVACUATING:
                for faction, count in group.faction_leavers.items():
                    registered[faction] = registered.get(faction, 0) + count
        return {f: max(0, f.fighters - registered.get(f, 0)) for f in self.model.factions}

    def fighters_among(self, group: ResidentGroup) -> int:
        """Fighters living among `group`'s people (the one rule for where fighters are).

        A town being evacuated holds the fighters it registered, until they board; the factions' other
        fighters are spread over the towns still holding out in proportion to population; a settled town
        holds none (its leavers are gone, its settlers are residents).
        """
        if group.status is GroupStatus.EVACUATING:
            return min(group.population, group.fighters_to_leave)
        if group.status is not GroupStatus.HOLDING:
            return 0
        holding = sum(g.population for g in self.model.groups if g.status is GroupStatus.HOLDING)
        if not holding:
            return 0
        fighters = sum(self.free_fighters_by_faction().values())
        return min(group.population, round(fighters * group.population / holding))

    def _truce_wave(self, day: int, committee: Committee, agreement: Agreement) -> None:
        model = self.model
        free = self.free_fighters_by_faction()  # boarding below takes no one off the buses' registers
        available = sum(n for f, n in free.items() if not f.outside)
        wave = min(agreement.wave_size, agreement.fighters_to_go, available)
        agreement.next_wave_day = day + agreement.wave_interval
        if agreement.release_stages:  # reciprocity: after the first wave, the rest wait for the releases
            agreement.next_wave_day = max(agreement.next_wave_day, agreement.release_stages[-1][0] + 1)
        agreement.fighters_to_go -= wave if wave else agreement.fighters_to_go
        if not wave:
            return
        people = round(wave * (1.0 + model.spec.behaviour.family_per_fighter.value))
        left = self._remove_from(committee.holding_groups, people)
        fighters = min(wave, left)  # fighters board first; families fill the rest
        self._remove_fighters(fighters, free)
        model.evacuated_fighters += fighters
        detail = convoy_detail(agreement.kind, fighters)
        model.log(day, EventType.EVACUATION_CONVOY, committee.name, left, detail)
        model.log(day, EventType.TERM_IMPLEMENTED, committee.name, fighters, "fighters out")

    def _evacuation_convoy(self, day: int, committee: Committee, groups: list[ResidentGroup]) -> None:
        model = self.model
        capacity = model.spec.packages.surrender.convoy_capacity.value
        self._next_convoy[committee.name] = day + model.spec.packages.surrender.convoy_interval_days.value
        people = fighters = 0
        for group in groups:
            take = min(capacity - people, group.to_leave, group.population)
            if take > 0:
                # fighters board in step with the rest of the town's leavers: their share of this bus
                group_fighters = self._board(
                    group, round(take * group.fighters_to_leave / group.to_leave) if group.to_leave else 0
                )
                group.remove(take)
                group.to_leave -= take
                group.settlement_leavers += take
                people += take
                fighters += group_fighters
            if group.to_leave <= 0 or group.population == 0:
                self._unregister(group)
                model.settle(group, settlement_class(group))
        if people:
            model.evacuated_fighters += fighters
            model.surrender_fighters += fighters
            model.surrender_evacuated += people
            detail = convoy_detail(PackageKind.SURRENDER, fighters)
            model.log(day, EventType.EVACUATION_CONVOY, committee.name, people, detail)
        if all(g.status is GroupStatus.SETTLED for g in committee.groups):
            committee.phase = Phase.SETTLED

    @staticmethod
    def _remove_from(groups: list[ResidentGroup], people: int) -> int:
        """Take `people` out of `groups` in proportion to their population (largest remainder)."""
        total = sum(g.population for g in groups)
        if not total or people <= 0:
            return 0
        takes = apportion(min(people, total), [g.population for g in groups])
        return sum(g.remove(take) for g, take in zip(groups, takes, strict=True))

    @staticmethod
    def _unregister(group: ResidentGroup) -> None:
        """A town's registered fighters still there when it settles are no longer anyone's armed men.

        They did not board: they died among the town's people (hunger, shelling) while it waited for
        the buses, or stay when the last leaver has gone. Either way they leave their factions, as the
        fighters who settle under the amnesty do at the signing, and the register is emptied.
        """
        for faction, count in group.faction_leavers.items():
            faction.fighters -= count
            group.faction_leavers[faction] = 0

    @staticmethod
    def _board(group: ResidentGroup, count: int) -> int:
        """`count` of a town's registered fighters board: taken off their own factions; returns how many.

        The bus takes each faction's registered leavers in proportion to their number (largest remainder,
        `apportion`), so no faction's men wait for another's; the town's `fighters_to_leave` is the sum of
        what each faction still has registered, so the two cannot disagree.
        """
        registered = group.faction_leavers
        parts = apportion(min(count, sum(registered.values())), list(registered.values()))
        for faction, part in zip(list(registered), parts, strict=True):
            faction.fighters -= part
            registered[faction] -= part
        return sum(parts)

    @staticmethod
    def _remove_fighters(count: int, free: dict[Faction, int]) -> None:
        """Take `count` of the `free` fighters off the factions in order (no outsider leaves in a wave)."""
        for faction, available in free.items():
            if count <= 0:
                break
            if faction.outside:
                continue
            gone = min(count, available)
            faction.fighters -= gone
            count -= gone
