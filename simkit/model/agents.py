"""The actors of a siege: regime, mediator, committees, armed factions and resident groups.

Each agent's `step` is one day. The model activates them in a fixed order of
phases written out in `SiegeModel.step` (regime, factions, resident groups,
mediator, committees), so that residents feel today's shelling, whoever caused
it, and committees weigh today's events.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np
from scipy.special import expit

from simkit.model.events import EventType
from simkit.model.negotiation import (
    GroupStatus,
    OffensiveCause,
    PackageKind,
    Phase,
    Posture,
    RedLineStand,
    TabledTerms,
    Terms,
    TruceEnd,
    assault_threat,
    committee_accepts_surrender,
    committee_accepts_truce,
)
from simkit.scenario import schema

if TYPE_CHECKING:
    from simkit.model.model import SiegeModel

HECTARES_PER_KM2 = 100
"""Ground is taken in hectares (a city block): the grain of the binomial draw in `lose_ground`."""


class Regime(mesa.Agent):
    """Besieges, bombards, issues ultimatums, launches offensives, signs, and implements or reneges."""

    model: SiegeModel

    def __init__(self, model: SiegeModel, spec: schema.Regime) -> None:
        super().__init__(model)
        self.spec = spec
        self.force = spec.force_here.value
        self.offensive_force = spec.force_for_offensive.value
        self.escalation = spec.baseline_escalation.value
        self.ultimatum_due: dict[Committee, int] = {}  # committee -> deadline day
        self.standing_terms: dict[Committee, TabledTerms] = {}  # committee -> surrender terms on the table
        self._tablings = 0  # surrender terms tabled so far in the run (numbers each `TabledTerms`)
        self.offensive_until: dict[Committee, int] = {}  # committee -> last day of the offensive
        # Whether this run's regime refuses an amnesty while a group outside every deal is inside: a
        # policy held for the whole run, drawn once here from the model's RNG (docs/model.md, "Terms").
        self.bars_amnesty = model.random.random() < spec.outside_group_bars_amnesty.value
        # The scenario's values its daily `step` reads, looked up once per run (they do not change in a run).
        self._baseline = spec.baseline_escalation.value
        self._decay = spec.escalation_decay.value
        self._ground_rate = spec.ground_rate.value
        self._takeover_rate = spec.takeover_rate.value
        self._violation_rate = spec.violation_rate.value

    @property
    def wants_surrender(self) -> bool:
        """Troops freed from other fronts make the regime demand surrender rather than a quiet truce."""
        return self.force >= self.offensive_force

    def posture(self, committee: Committee) -> Posture:
        """Its stance toward a committee's area today: none, an ultimatum pending, or an offensive."""
        if committee in self.offensive_until:
            return Posture.OFFENSIVE
        return Posture.ULTIMATUM if committee in self.ultimatum_due else Posture.NONE

    def threat(self, committee: Committee) -> float:
        """Believed chance an assault succeeds, felt only under an ultimatum or an offensive (else 0)."""
        if committee not in self.offensive_until and committee not in self.ultimatum_due:
            return 0.0
        return assault_threat(self.force, self.offensive_force)

    def escalate(self, day: int, amount: float, cause: str) -> None:
        """Raise the bombardment level (at most 1) and log why; it relaxes back at `escalation_decay`."""
        self.escalation = min(1.0, self.escalation + amount)
        self.model.log(day, EventType.ESCALATION, "regime", round(100 * self.escalation), cause)

    def implementation_probability(self) -> float:
        """A present mediator presses the regime to deliver, in proportion to its leverage."""
        base = self.spec.implementation.value
        return base + (1.0 - base) * self.model.mediator.effective_leverage

    def choose_package(self, committee: Committee) -> PackageKind:
        """Surrender terms once its force here reaches the offensive level, a truce otherwise (seed 004)."""
        return PackageKind.SURRENDER if self.wants_surrender else PackageKind.TRUCE

    def choose_terms(self) -> Terms:
        """Settle in place where fighters are few among the people still inside; otherwise the buses.

        The regime's aim is control: where armed men are a small share of the population an amnesty
        with weapons handed over secures it (Moadamiya, 2016); where they are many it wants them out.
        An amnesty rarely covers a group outside every deal (designated terrorist, excluded from the
        cessation of hostilities by UN Security Council resolution 2268, Feb 2016): in a share
        `outside_group_bars_amnesty` of runs (`bars_amnesty`, drawn once per run), the terms are an
        evacuation while one still has fighters inside.
        """
        model = self.model
        free = model.movement.free_fighters_by_faction()  # not on a surrender's buses
        if self.bars_amnesty and any(f.outside and n > 0 for f, n in free.items()):
            return Terms.EVACUATION
        inside = sum(g.population for g in model.groups if g.status is GroupStatus.HOLDING)
        fighters = sum(free.values())
        share = fighters / inside if inside else 1.0
        return Terms.SETTLEMENT if share <= self.spec.settlement_max_fighter_share.value else Terms.EVACUATION

    def issue_ultimatum(self, committee: Committee) -> None:
        """Surrender terms with a deadline (`ultimatum_days`); refused, they bring an offensive.

        Only the regime's stance changes here: the committee weighs the standing terms in its own phase
        (`Committee.consider_surrender`), on each day's state, until the deadline.
        """
        day = self.model.day
        self.ultimatum_due[committee] = day + self.spec.ultimatum_days.value
        self.model.log(day, EventType.ULTIMATUM, "regime", self.spec.ultimatum_days.value, committee.name)
        self._table_terms(committee)

    def _table_terms(self, committee: Committee) -> None:
        """Put surrender terms (`choose_terms`) on the table for a committee; they stand until withdrawn.

        Each tabling is a new `TabledTerms` (numbered in the run): the committee and the factions take
        their stand on it afresh (`Committee.stand_on_red_line`, `Faction.vetoes`).
        """
        self._tablings += 1
        tabled = TabledTerms(self._tablings, self.choose_terms())
        self.standing_terms[committee] = tabled
        # named: terms tabled during a campaign have no `ultimatum` row to say whose they are
        detail = f"surrender: {tabled.terms.value} ({committee.name})"
        self.model.log(self.model.day, EventType.PACKAGE_OFFERED, "regime", 0, detail)

    def launch_offensive(self, committee: Committee, cause: OffensiveCause, level: float = 1.0) -> None:
        """An assault on a committee's area: bombardment rises to `level`, any truce ends, ground is taken.

        Its length is geometric with mean `offensive_days` (a daily chance 1/offensive_days that the
        regime pauses); while it lasts the regime storms the area with daily hazard
        `takeover_rate x surplus force x escalation`, and households feel the threat of the assault. The
        terms of a standing ultimatum stay on the table while it fights (its deadline is gone, the
        assault is what it threatened); an offensive begun with none gets terms at `ultimatum_rate`
        (`_decide_coercion`); they are withdrawn when the offensive ends. A ceasefire declared
        for the talks on a refused ultimatum lapses at the deadline: it was never a deal, so it is
        neither a collapse nor a broken promise. The level is raised before the truce ends, so the
        collapse's escalation step is logged from the offensive's level.
        """
        model, day = self.model, self.model.day
        self.ultimatum_due.pop(committee, None)
        length = int(model.rng.geometric(1.0 / self.spec.offensive_days.value))
        self.offensive_until[committee] = day + length - 1  # its last day
        self.escalation = max(self.escalation, level)
        model.log(day, EventType.OFFENSIVE, "regime", round(100 * level), f"{committee.name}: {cause}")
        if committee.phase is Phase.TRUCE:
            talks_pause = committee.agreement.kind is PackageKind.CEASEFIRE
            if talks_pause and cause is OffensiveCause.ULTIMATUM_REFUSED:
                model.lapse(committee, TruceEnd.ULTIMATUM_DEADLINE)
            else:
                model.collapse(committee, TruceEnd.REGIME_OFFENSIVE)

    def end_offensive(self, committee: Committee) -> None:
        """The regime pauses its offensive on a committee's area: the terms it fought for are withdrawn.

        Called on the day after the offensive's last (`_decide_coercion`), and when a truce is signed for
        the area while it runs (`SiegeModel._sign_truce`: the regime agreed to stop). A demand after the
        pause is a new ultimatum (`issue_ultimatum`, at `ultimatum_rate`), with a new
        deadline: terms left standing without a threat behind them would reach the committee outside
        the regime's decision to issue them.
        """
        self._forget(committee)
        self.model.log(self.model.day, EventType.OFFENSIVE_ENDED, "regime", 0, committee.name)

    def _forget(self, committee: Committee) -> None:
        """Drop the regime's stance toward a committee: its ultimatum, its standing terms, its offensive.

        At an offensive's end (`end_offensive`, where no ultimatum is pending: the offensive replaced it)
        and once the committee no longer holds out (signed, taken over), when nothing is logged: the area
        has settled, so there is no pause to tell (docs/events.md, `offensive_ended`).
        """
        self.ultimatum_due.pop(committee, None)
        self.standing_terms.pop(committee, None)
        self.offensive_until.pop(committee, None)

    def _decide_coercion(self, committee: Committee, day: int) -> None:
        """Offensives run their course; with force to spare, an ultimatum; a refused one, an offensive.

        The ultimatum comes at daily hazard `ultimatum_rate`, not on the first day force allows. An
        offensive keeps the terms that stood when it began; one launched with none on the table (a
        scheduled campaign) gets terms at the same hazard, without a deadline (the assault is under way).
        When an offensive ends its terms are withdrawn: a new demand is a new ultimatum.
        """
        if not (self.offensive_until or self.ultimatum_due or self.wants_surrender):
            return  # no offensive, no ultimatum, no force to demand surrender: nothing to decide
        until = self.offensive_until.get(committee)
        if until is not None and day > until:
            self.end_offensive(committee)
        due = self.ultimatum_due.get(committee)
        if due is not None and day >= due:
            self.launch_offensive(committee, OffensiveCause.ULTIMATUM_REFUSED)
        elif (
            due is None
            and self.wants_surrender
            and committee not in self.standing_terms
            and self.model.random.random() < self.spec.ultimatum_rate.value
        ):
            if committee in self.offensive_until:
                self._table_terms(committee)
            else:
                self.issue_ultimatum(committee)

    def step(self) -> None:
        """One day: coerce, bombard or storm the besieged; under a truce, breach or implement."""
        model = self.model
        day = model.day
        for committee in model.committees:
            if committee.holds_out:
                self._decide_coercion(committee, day)
            else:
                self._forget(committee)
        target = 1.0 if self.offensive_until else self._baseline
        self.escalation += self._decay * (target - self.escalation)
        surplus = self.force - self.offensive_force
        for committee in model.committees:
            phase = committee.phase
            if phase is Phase.SIEGE:
                committee.bombardment = self.escalation
                if committee in self.offensive_until:
                    strength = min(1.0, self.force / self.offensive_force)
                    for group in committee.holding_groups:
                        group.lose_ground(self._ground_rate * self.escalation * strength)
                if (
                    surplus > 0
                    and committee in self.offensive_until
                    and model.random.random() < self._takeover_rate * surplus * self.escalation
                ):
                    model.take_over(committee)
            elif phase is Phase.TRUCE:
                committee.bombardment = 0.0
                hazard = self._violation_rate * (1.0 - model.mediator.effective_guarantor)
                if model.random.random() < hazard:
                    model.violation(committee, "regime")
                model.implement_due_terms(committee)
            else:
                committee.bombardment = 0.0


class Mediator(mesa.Agent):
    """Whoever mediates today: convenes talks, tables packages; its leverage and monitors shape what is kept.

    The identity is data: the scenario's principal `mediator` and its `other_mediators` name who may
    mediate; each one's leverage, bias, guarantor and talks rate are the `mediators:` table's values
    for its identity; a `mediator_entry` event brings one in, replacing any other.
    """

    model: SiegeModel

    def __init__(
        self,
        model: SiegeModel,
        spec: schema.Mediator,
        others: list[schema.OtherMediator],
        table: schema.Mediators,
    ) -> None:
        super().__init__(model)
        self.spec = spec  # the principal mediator (its direct_talks_rate applies while none is present)
        # each named mediator's values, by its identity (identity `none` is never present)
        self.profiles: dict[str, schema.MediatorValues | None] = {
            m.name: getattr(table, m.identity.value, None) for m in [spec, *others]
        }
        # Present at the start: the principal if it is, else the first other mediator that is.
        first = next((m for m in [spec, *others] if m.present_at_start), None)
        self.current_name: str | None = None if first is None else first.name

    @property
    def current(self) -> schema.MediatorValues | None:
        """The values of whoever mediates today (`profiles[current_name]`); None while none is present."""
        return None if self.current_name is None else self.profiles[self.current_name]

    @property
    def present(self) -> bool:
        """Whether any mediator is present today."""
        return self.current is not None

    @property
    def name(self) -> str:
        """The present mediator's name (`direct` while none is present)."""
        return self.current_name if self.current is not None else "direct"

    @property
    def effective_leverage(self) -> float:
        """The leverage that counts today: the present mediator's, none without one."""
        return self.current.leverage.value if self.current is not None else 0.0

    @property
    def effective_guarantor(self) -> float:
        """Share of violations its monitors prevent today: the present mediator's, none without one."""
        return self.current.guarantor.value if self.current is not None else 0.0

    @property
    def bias(self) -> float:
        """How often the present mediator tables the regime's preferred package."""
        return self.current.bias.value if self.current is not None else 1.0

    def enter(self, name: str = "") -> str:
        """A mediator (`name`, or the principal) starts mediating, replacing any other; returns the name."""
        self.current_name = name or self.spec.name
        return self.current_name

    def step(self) -> None:
        """One day: a round of talks, at the current talks rate, with each committee open to talks."""
        current, model = self.current, self.model
        rate = current.talks_rate.value if current is not None else self.spec.direct_talks_rate.value
        for committee in model.committees:
            if committee.open_to_talks and model.random.random() < rate:
                model.hold_talks(committee)


class ResidentGroup(mesa.Agent):
    """The people of one locality; households are vectorized super-individuals inside the group.

    Food, casualties and population are group stocks updated daily with scalar
    arithmetic; households differ in private reserves, ties to detainees and
    disposition, and their views are evaluated (vectorized) when a decision needs them.
    """

    model: SiegeModel

    def __init__(self, model: SiegeModel, spec: schema.ResidentGroup, behaviour: schema.Behaviour) -> None:
        super().__init__(model)
        self.spec = spec
        self.behaviour = behaviour
        self.locality = spec.locality
        self.initial_population = spec.population.value
        self.population = self.initial_population
        self.food = spec.food_days.value * self.population
        self.killed = 0
        self.evacuated = 0
        self.fled = 0
        self.starved = 0
        self.detained = 0
        self.loss = 0.0  # remembered killed, decaying
        self.status = GroupStatus.HOLDING
        self.settlement: str | None = None
        self.terms: Terms | None = None  # the terms of the surrender it adopted
        self.to_leave = 0
        self.faction_leavers: dict[Faction, int] = {}  # registered fighters still to board, by faction
        self.deal_fighters = 0  # fighters among its people when it signed a surrender
        self.deal_fighters_leaving = 0  # of those, how many registered to leave (the rest settled)
        self.settlement_leavers = 0
        self.committee: Committee | None = None
        n = max(1, behaviour.households_per_group.value)
        rng = model.rng
        self.reserve = np.exp(rng.normal(0.0, behaviour.reserve_spread.value, n))
        self.reserve /= self.reserve.mean()
        self.tie = (rng.random(n) < spec.detainee_tie_share.value).astype(float)
        self.disposition = rng.normal(0.0, 1.0, n)
        self.share = np.full(n, 1.0 / n)  # each household's share of the people; flight reweighs it
        self._hardship_cache: dict[int, float] = {}
        self._memory = math.exp(-1.0 / behaviour.loss_memory_days.value)
        self.ground = 1.0  # share of its area still held; an offensive takes ground (`lose_ground`)
        self._base_density = self.initial_population / spec.area_km2.value / 10_000.0
        self._density_factor = math.sqrt(self._base_density)
        # The scenario's values its daily `step` reads, looked up once per run (they do not change in a run).
        self._ration_days = behaviour.ration_days.value
        self._production = spec.local_production.value
        self._storage_days = behaviour.storage_days.value
        self._starvation_rate = behaviour.starvation_rate.value
        self._lethality = model.regime.spec.lethality.value
        self._tie_weight = behaviour.weight_detainee_tie.value * self.tie
        self._pressure_memo: tuple[tuple[float, int, float, float], np.ndarray, float] | None = None

    @property
    def fighters_to_leave(self) -> int:
        """Registered fighters still to board: the sum over factions of `faction_leavers`."""
        return sum(self.faction_leavers.values())

    def _household_hardship(self, days_left: np.ndarray | float) -> np.ndarray:
        b = self.behaviour
        # expit((midpoint - days_left x reserve) / scale), computed in place in one new array (same values)
        hardship = np.asarray(days_left) * self.reserve
        np.subtract(b.hardship_midpoint_days.value, hardship, out=hardship)
        hardship /= b.hardship_scale_days.value
        return expit(hardship, out=hardship)

    @property
    def days_of_food(self) -> float:
        """Food stock per resident, in days of normal consumption (0 once nobody is left)."""
        return self.food / self.population if self.population else 0.0

    @property
    def loss_per_thousand(self) -> float:
        """Remembered casualties per 1,000 residents: the loss term of households' wish for a way out."""
        return 1000.0 * self.loss / self.population if self.population else 0.0

    def _threat(self) -> float:
        return self.model.regime.threat(self.committee) if self.committee is not None else 0.0

    def wish_to_concede(self, threat: float | None = None) -> np.ndarray:
        """Each household's probability of backing a way out (hardship and loss against the detainees).

        The logit is weight_hardship x hardship + weight_loss x loss + weight_threat x threat
        - weight_detainee_tie x tie - concede_threshold + disposition, summed in that order (in place,
        in the array `_household_hardship` returns); `threat` is today's (`Regime.threat`) unless given.
        """
        b = self.behaviour
        if threat is None:
            threat = self._threat()
        logit = self._household_hardship(self.days_of_food)
        logit *= b.weight_hardship.value
        logit += b.weight_loss.value * self.loss_per_thousand
        logit += b.weight_threat.value * threat
        logit -= self._tie_weight
        logit -= b.concede_threshold.value
        logit += self.disposition
        return expit(logit, out=logit)

    def pressure(self) -> float:
        """Share of people whose households want a way out: the committee's cost of holding out.

        Remembered for the state it was computed on (food, people, remembered loss, threat, and the
        households' shares, which only flight replaces): talks ask for it again on an unchanged state.
        """
        if not self.population:
            return 0.0
        threat = self._threat()
        state = (self.food, self.population, self.loss, threat)
        memo = self._pressure_memo
        if memo is not None and memo[0] == state and memo[1] is self.share:
            return memo[2]
        value = float(self.wish_to_concede(threat) @ self.share)
        self._pressure_memo = (state, self.share, value)
        return value

    def leaving_share(self, standing: float) -> float:
        """Share of civilians who register for the buses rather than stay under an amnesty they distrust.

        Household i registers with probability
        expit(weight_amnesty_distrust x (1 - standing) + weight_detainee_tie x tie_i - leave_threshold + u_i),
        `standing` being how far staying under the amnesty is safe under the signed terms
        (`negotiation.amnesty_standing`: its credibility, discounted where the terms order the armed
        groups out and those who stay face the regime alone).
        """
        b = self.behaviour
        logit = (
            b.weight_amnesty_distrust.value * (1.0 - standing)
            + b.weight_detainee_tie.value * self.tie
            - b.leave_threshold.value
            + self.disposition
        )
        # a share-weighted mean of values in [0, 1]; min() drops the last bit of rounding in the weights
        return min(1.0, float(expit(logit) @ self.share))

    def flee(self, detained_share: float, passage: float = 1.0) -> None:
        """The lines are open today: households that want a way out leave, the least hard-line first.

        Household i leaves with probability `flight_rate x passage x c_i`, so the people who stay are
        ever more those who back the hard line; `passage` is the chance a crossing is let through and
        believed safe (factions holding people back, trust in the corridor's guarantor:
        `population.Movement.step`); `detained_share` of those who leave are held at screening.
        """
        if not self.population:
            return
        model = self.model
        leaving = self.behaviour.flight_rate.value * passage * self.wish_to_concede()
        rate = float(leaving @ self.share)
        if rate <= 0.0:
            return
        civilians = self.population - model.movement.fighters_among(self)  # fighters do not flee
        people = int(model.rng.binomial(max(0, civilians), min(1.0, rate)))
        self.share = self.share * (1.0 - leaving)
        self.share /= self.share.sum() or 1.0
        self._hardship_cache.clear()
        if not people:
            return
        detained = int(model.rng.binomial(people, detained_share)) if detained_share > 0 else 0
        self.population -= people
        self.fled += people - detained
        self.detained += detained
        model.log(model.day, EventType.FLIGHT, self.locality, people, f"detained={detained}")

    def step(self) -> None:
        """One day: food flows in and is eaten (rationed when low), bombardment kills, hardship is updated."""
        status = self.status
        pop = self.population
        if status is GroupStatus.SETTLED or pop == 0:
            return
        # Per-day hot path (issue 10): the same arithmetic in the same order as written plainly, with the
        # scenario's values cached in __init__ and min/max written as comparisons (same results).
        evacuating = status is GroupStatus.EVACUATING
        committee = self.committee
        tightness = 0.0 if evacuating else committee.siege_tightness
        food = self.food
        days_left = food / pop
        ration = days_left / self._ration_days
        if not ration < 1.0:
            ration = 1.0  # min(1.0, ration)
        available = food + pop * ((1.0 - tightness) + self._production * self.ground)
        eaten = pop * ration
        floor = 0.0 if available < 0.0 else available  # max(available, 0.0)
        if floor < eaten:
            eaten = floor
        food = available - eaten
        storage = self._storage_days * pop
        if storage < food:
            food = storage
        self.food = 0.0 if food < 0.0 else food
        unmet = 1.0 - eaten / pop
        if unmet > 0.0 and self._starvation_rate > 0.0:
            model = self.model
            starved = min(int(model.rng.poisson(self._starvation_rate * pop / 10_000.0 * unmet**2)), pop)
            if starved:
                self.population -= starved
                self.starved += starved
                pop = self.population
        bombardment = 0.0 if evacuating else committee.bombardment
        self.loss *= self._memory
        if bombardment > 0.0:
            expected = self._lethality * bombardment * pop / 10_000.0 * self._density_factor
            killed = min(int(self.model.rng.poisson(expected)), pop)
            if killed:
                self.population -= killed
                self.killed += killed
                self.loss += killed

    @property
    def hardship(self) -> float:
        """Households' mean hardship today (what the daily series records)."""
        return self.mean_hardship()

    def mean_hardship(self) -> float:
        """Households' mean hardship at today's stock, evaluated on half-days of food and cached.

        Only the stock level changes day to day, and a run visits few distinct
        levels, so the vectorized evaluation runs once per level, not once per day.
        """
        key = round(2.0 * self.days_of_food)
        value = self._hardship_cache.get(key)
        if value is None:
            # a share-weighted mean of values in [0, 1]; min() drops the last bit of rounding in the weights
            mean = float(self._household_hardship(key / 2.0) @ self.share)
            value = self._hardship_cache[key] = min(1.0, mean)
        return value

    def lose_ground(self, share: float) -> None:
        """An offensive takes on average `share` of the area still held: people crowd into the rest.

        Ground is taken hectare by hectare: of the hectares still held each falls today with probability
        `share` (a binomial draw), so two offensives of the same strength take different ground.
        Casualties scale with the square root of density (`_density_factor`) and local production with
        the ground held; each tenth of the original area lost is logged (`ground_taken`).
        """
        held = round(self.ground * self.spec.area_km2.value * HECTARES_PER_KM2)
        if share <= 0.0 or held <= 0:
            return
        # the last hectare is never taken by attrition: taking the whole area is a takeover (`take_over`)
        lost = min(int(self.model.rng.binomial(held, min(1.0, share))), held - 1)
        if not lost:
            return
        before = self.ground
        self.ground *= 1.0 - lost / held
        self._density_factor = math.sqrt(self._base_density / max(self.ground, 1e-9))
        if math.ceil(10.0 * self.ground) < math.ceil(10.0 * before):
            model = self.model
            model.log(model.day, EventType.GROUND_TAKEN, self.locality, round(100 * self.ground), "offensive")

    def receive_food(self, days: float) -> None:
        """Add `days` of food for everyone (an aid convoy), up to what the group can store."""
        self.food = min(
            self.food + days * self.population, self.behaviour.storage_days.value * self.population
        )

    def remove(self, people: int, evacuated: bool = True) -> int:
        """Take people out of the group (evacuation); returns how many actually left."""
        people = min(people, self.population)
        self.population -= people
        if evacuated:
            self.evacuated += people
        return people


class Faction(mesa.Agent):
    """An armed group: retaliates for violations, may veto surrender; some attack regardless of deals."""

    model: SiegeModel

    def __init__(self, model: SiegeModel, spec: schema.Faction) -> None:
        super().__init__(model)
        self.spec = spec
        self.name = spec.name
        self.fighters = spec.fighters.value
        self.outside = spec.outside_every_deal is not None
        # committee -> (the tabling it resists, its latent resistance u to it): drawn once per tabling
        self._resistance: dict[Committee, tuple[TabledTerms, float]] = {}

    def vetoes(self, committee: Committee, tabled: TabledTerms, pressure: float) -> bool:
        """Whether it blocks the surrender terms `tabled` for `committee` today, at residents' `pressure`.

        Its refusal is a position on these terms, not a daily coin: the first time it is asked about them
        it draws a latent resistance u ~ U(0, 1), kept for as long as they stand, and it vetoes on any day
        when u < veto x (1 - pressure), so rising pressure can still override it (docs/model.md,
        "Surrender"). New terms, a new draw. A faction outside every deal, or without fighters, never vetoes.
        """
        if self.outside or self.fighters <= 0:
            return False
        held = self._resistance.get(committee)
        if held is None or held[0] != tabled:
            held = self._resistance[committee] = (tabled, self.model.random.random())
        return held[1] < self.spec.veto.value * (1.0 - pressure)

    def retaliates(self) -> bool:
        """Whether it answers a regime violation today (never outside every deal, nor without fighters)."""
        return (
            not self.outside
            and self.fighters > 0
            and self.model.random.random() < self.spec.retaliation.value
        )

    def step(self) -> None:
        """One day: a faction that `attacks` may attack: a truce is violated, a siege escalated."""
        if (
            not self.spec.attacks
            or self.fighters == 0
            or self.model.random.random() >= self.spec.attack_rate.value
        ):
            return
        for committee in self.model.committees:
            if committee.phase is Phase.TRUCE:
                self.model.violation(committee, self.name)
            elif committee.phase is Phase.SIEGE:
                regime = self.model.regime
                regime.escalate(self.model.day, regime.spec.escalation_jump.value, f"attack by {self.name}")
                committee.bombardment = regime.escalation  # the shelling reaches residents today


class Committee(mesa.Agent):
    """A local negotiating committee: red line, resolve, legitimacy, a learned belief in the regime's word."""

    model: SiegeModel

    def __init__(self, model: SiegeModel, spec: schema.Committee, groups: list[ResidentGroup]) -> None:
        super().__init__(model)
        self.spec = spec
        self.name = spec.name
        self.groups = groups
        for group in groups:
            group.committee = self
        prior, weight = spec.trust_prior.value, spec.trust_prior_weight.value
        self.trust_a = prior * weight
        self.trust_b = (1.0 - prior) * weight
        self.phase = Phase.SIEGE
        self.agreement = None
        self.strain = 0.0
        self.bombardment = 0.0
        self.ceasefire_days = 0
        self.last_aid_day = -(10**9)
        self._red_line: tuple[TabledTerms, RedLineStand] | None = None  # its stand on the terms weighed
        # the tabling whose vetoes were logged, and the factions already logged blocking it
        self._vetoes_logged: tuple[TabledTerms, set[str]] | None = None
        self._strain_memory = math.exp(-1.0 / spec.strain_memory_days.value)

    @property
    def trust(self) -> float:
        """Mean of the Beta belief that the regime implements what it signs."""
        return self.trust_a / (self.trust_a + self.trust_b)

    def learn(self, delivered_share: float) -> None:
        """Beta update from one term: delivered share counts as successes, the rest as failures."""
        weight = self.model.spec.detainees.learning_weight.value
        self.trust_a += weight * delivered_share
        self.trust_b += weight * (1.0 - delivered_share)

    @property
    def holding_groups(self) -> list[ResidentGroup]:
        """Its groups still holding out (neither evacuating nor settled): those it negotiates for."""
        return [group for group in self.groups if group.status is GroupStatus.HOLDING]

    @property
    def holds_out(self) -> bool:
        """Whether any of its groups still holds out (`holding_groups` is not empty), without the list."""
        for group in self.groups:  # noqa: SIM110 (a loop: a quarter of any() over a generator, per day)
            if group.status is GroupStatus.HOLDING:
                return True
        return False

    @property
    def open_to_talks(self) -> bool:
        """Whether a round of talks can be held with it today.

        Under siege, while any of its towns holds out; under a truce, only when the regime
        wants surrender, the deal is defunct, or it is a ceasefire declared for talks.
        """
        if self.phase is Phase.SIEGE:
            return self.holds_out
        if self.phase is Phase.TRUCE:
            agreement = self.agreement
            return self.model.regime.wants_surrender or agreement.defunct or agreement.kind == "ceasefire"
        return False

    @property
    def siege_tightness(self) -> float:
        """Share of food supply blocked today: the truce's, the regime's siege, or none after surrender."""
        if self.phase is Phase.TRUCE:
            return self.agreement.siege_tightness
        if self.phase is Phase.SIEGE:
            return self.model.regime.spec.siege_tightness.value
        return 0.0

    def pressure(self) -> float:
        """Population-weighted pressure of the groups still holding out."""
        groups = self.holding_groups
        total = sum(group.population for group in groups)
        if not total:
            return 0.0
        return sum(group.pressure() * group.population for group in groups) / total

    def stand_on_red_line(self, tabled: TabledTerms, pressure: float) -> RedLineStand:
        """Whether it would drop its unmet red line for the terms `tabled`: decided once per tabling.

        The first time it weighs these terms with the red line unmet it holds it with probability
        `red_line_firmness` x (1 - pressure) x (1 - T): firmness scaled by the same value of holding out
        as the daily hazard, residents' `pressure` that day and T the threat behind the terms
        (`Regime.threat`: the believed chance an assault takes the area anyway); else it drops it. The
        stand is kept for as long as the terms stand (docs/model.md, "Surrender"). New terms, a new stand.
        """
        if self._red_line is None or self._red_line[0] != tabled:
            value = (1.0 - pressure) * (1.0 - self.model.regime.threat(self))
            holds = self.spec.red_line_firmness.value * value
            drops = self.model.random.random() >= holds
            self._red_line = (tabled, RedLineStand.DROP if drops else RedLineStand.HOLD)
        return self._red_line[1]

    def consider_surrender(self, tabled: TabledTerms) -> bool:
        """Weigh standing surrender terms on today's state; if accepted and no faction vetoes, sign them.

        With its red line unmet, it signs only terms it has decided to drop it for (`stand_on_red_line`);
        then acceptance is the war-of-attrition hazard `committee_accepts_surrender`, and each faction may
        veto (`Faction.vetoes`) (docs/model.md, "Surrender"). A faction's resistance is a position on the
        terms, so its veto is logged once per tabling (`_log_veto`), however many days the committee's
        acceptance draw meets it. Returns whether the committee accepted (a faction may still have vetoed
        the deal).
        """
        model, spec = self.model, self.spec
        red_line_met = model.listed == 0 or model.released / model.listed >= spec.red_line_release_share.value
        pressure = self.pressure()
        if not red_line_met and self.stand_on_red_line(tabled, pressure) is RedLineStand.HOLD:
            return False
        p_accept = committee_accepts_surrender(
            pressure, spec.resolve.value, spec.concession_rate.value, model.regime.threat(self)
        )
        if model.random.random() >= p_accept:
            return False
        vetoes = [faction.name for faction in model.factions if faction.vetoes(self, tabled, pressure)]
        if vetoes:
            self._log_veto(tabled, vetoes[0])
        else:
            model.sign_surrender(self, pressure, red_line_met, tabled.terms)
        return True

    def _log_veto(self, tabled: TabledTerms, faction: str) -> None:
        """Log `faction`'s veto of the terms `tabled`, unless it was logged blocking this tabling before."""
        if self._vetoes_logged is None or self._vetoes_logged[0] != tabled:
            self._vetoes_logged = (tabled, set())
        logged = self._vetoes_logged[1]
        if faction not in logged:
            logged.add(faction)
            self.model.log(self.model.day, EventType.PACKAGE_REJECTED, faction, 0, "surrender vetoed")

    def consider_truce(self, offer: int) -> bool:
        """Weigh a truce package offering the release of `offer` detainees; returns whether it is accepted.

        Acceptance is the random-utility `committee_accepts_truce` on today's pressure, trust in the
        regime's word and the offer against the committee's red line (docs/model.md, "Rounds of talks
        and packages"); one draw. Signing is the model's, once both sides have accepted.
        """
        model, spec = self.model, self.spec
        p_accept = committee_accepts_truce(
            self.pressure(), self.trust, offer, model.listed, spec.red_line_release_share.value,
            spec.truce_threshold.value, spec.truce_sensitivity.value,
        )  # fmt: skip
        return model.random.random() < p_accept

    def step(self) -> None:
        """One day: the regime's standing surrender terms are weighed; strain fades; a truce may end."""
        model = self.model
        standing = model.regime.standing_terms
        tabled = standing.get(self) if standing else None
        if tabled is not None and self.holds_out:
            self.consider_surrender(tabled)  # refusing today is silent: the terms stand until withdrawn
        self.strain *= self._strain_memory
        if self.phase is not Phase.TRUCE:
            return
        self.ceasefire_days += 1
        agreement = self.agreement
        if (
            agreement.kind == "outside"
            and not agreement.defunct
            and model.random.random() < self.spec.review_rate.value * (1.0 - agreement.legitimacy)
        ):
            agreement.defunct = True
            model.log(
                model.day, EventType.AGREEMENT_DEFUNCT, self.name, 0, "signatories do not represent the area"
            )
        if self.strain > self.spec.collapse_tolerance.value * agreement.legitimacy:
            model.collapse(self, TruceEnd.VIOLATIONS)
