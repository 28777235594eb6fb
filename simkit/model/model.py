"""SiegeModel: one stochastic run of a besieged area, one step per calendar day."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import mesa
import numpy as np

from simkit.model.agents import Committee, Faction, Mediator, Regime, ResidentGroup
from simkit.model.events import EventLog, EventType
from simkit.model.negotiation import (
    Agreement,
    GroupStatus,
    OffensiveCause,
    PackageKind,
    Phase,
    Terms,
    TruceEnd,
    amnesty_standing,
    committee_walks_out,
    credibility,
    regime_accepts_truce,
    truce_release_offer,
)
from simkit.model.outcomes import RunOutcome, classify
from simkit.model.population import Movement, OpenCorridor, apportion
from simkit.scenario import schema

SERIES = (
    "population", "food_days", "hardship", "killed", "evacuated", "fled", "starved", "detained", "released",
    "bombardment",
)  # fmt: skip


class SiegeModel(mesa.Model):
    """The negotiation, siege and escalation cycle of model-brief.md for one scenario and seed.

    Args:
        scenario: a validated scenario.
        rng: seed (or numpy generator) for this run; equal seeds give equal runs.
    """

    def __init__(
        self,
        scenario: schema.Scenario,
        rng: int | np.random.Generator | None = None,
        record_series: bool = True,
    ) -> None:
        super().__init__(rng=rng)
        # The model drives its own days (`run`, `step`), not Mesa's event list, whose per-day event
        # and wrapper machinery cost more than the model itself (issue 10): stop Mesa's default
        # schedule (as Mesa's own DEVSimulator does) and undo its wrapping of `step`.
        self._default_schedule.stop()
        del self.step
        self.record_series = record_series
        self._day = 0
        self.spec = scenario
        self.start = scenario.start
        self.horizon = scenario.horizon_days.value
        self.events = EventLog()
        self.listed = scenario.detainees.listed.value
        self.released = 0
        self.evacuated_fighters = 0  # fighters who left on truce waves and surrender convoys
        self.surrender_fighters = 0  # of those, the fighters who left on a signed surrender's buses
        self.surrender_evacuated = 0  # people (fighters and families) who left on a signed surrender's buses
        self.agreements_signed = 0
        self.agreements_collapsed = 0
        self.aid_open = True
        self.aid_cut_day = -1
        self.release_shortfall = False  # a release stage delivered less than partial_release_max_share
        self.outcome: RunOutcome | None = None
        self.deal_days: dict[str, int] = {}  # locality -> day its surrender was signed or it was taken
        self.control_day: int | None = None  # the day enough towns were settled with no bus still to run

        # Who acts when is written out in `step`, not implied by this creation order.
        self.regime = Regime(self, scenario.regime)
        self.mediator = Mediator(self, scenario.mediator, scenario.other_mediators, scenario.mediators)
        self.groups = [ResidentGroup(self, spec, scenario.behaviour) for spec in scenario.residents]
        self.factions = [Faction(self, spec) for spec in scenario.factions]
        by_locality = {group.locality: group for group in self.groups}
        self.committees = [
            Committee(self, spec, [by_locality[name] for name in spec.localities])
            for spec in scenario.committees
        ]
        self.initial_population = sum(group.population for group in self.groups)
        self.series = {name: np.zeros(self.horizon) for name in SERIES}
        self.movement = Movement(self)  # flight, truce waves and convoys (simkit.model.population)
        self._settlements = 0
        self.dated_events = self._date_events(scenario.events)
        self._aid_interval = scenario.aid.convoy_interval_days.value

    # ------------------------------------------------------------------ time
    @property
    def day(self) -> int:
        """The day being (or last) simulated, in days since the scenario's start (0 on the start date).

        The model's clock: `steps` counts the days stepped; Mesa's `time` is not used (it stays 0).
        """
        return self._day

    def date(self, day: int) -> dt.date:
        """The calendar date of `day` (0 is the scenario's start)."""
        return self.start + dt.timedelta(days=day)

    def log(self, day: int, kind: EventType, actor: str, count: int = 0, detail: str = "") -> None:
        """Record an event in the run's log (`events`), which tables, plots and calibration read."""
        self.events.add(day, kind, actor, count, detail)

    def _date_events(self, events: list[schema.ScheduledEvent]) -> dict[int, list[schema.ScheduledEvent]]:
        """The day each dated scenario event fires: its date, or a day drawn uniformly from its window.

        Drawn once per run, here, in the scenario's order of events (one `random.randint` per window).
        """
        dated: dict[int, list[schema.ScheduledEvent]] = defaultdict(list)
        for event in events:
            first = (event.date - self.start).days
            last = (event.latest - self.start).days if event.latest else first
            dated[self.random.randint(first, last) if last > first else first].append(event)
        return dict(dated)

    def fire_dated_events(self, day: int) -> None:
        """Apply the scenario's events dated `day`, in the scenario's order."""
        for event in self.dated_events.pop(day, ()):
            self._apply(day, event)

    def _apply(self, day: int, event: schema.ScheduledEvent) -> None:
        match event:
            case schema.MediatorEntry(mediator=name):
                entering = self.mediator.enter(name)
                self.log(day, EventType.MEDIATOR_ENTRY, entering, 0, event.note)
            case schema.ForcesChange(delta=delta):
                self.regime.force = max(0.0, self.regime.force + delta.value)
                self.log(day, EventType.FORCES_CHANGE, "regime", round(100 * delta.value), event.note)
            case schema.AidConvoy(food_days=food):
                for group in self.groups:
                    if group.status is GroupStatus.HOLDING:
                        group.receive_food(food.value)
                self.log(day, EventType.AID_CONVOY, "aid", round(food.value), event.note or "scheduled")
            case schema.AidCut():
                self.aid_open, self.aid_cut_day = False, day
                self.log(day, EventType.AID_CUT, "regime", 0, event.note)
                for committee in self.committees:
                    if committee.phase is Phase.TRUCE and committee.agreement.aid:
                        committee.agreement.aid = False
                        committee.agreement.siege_tightness = self.regime.spec.siege_tightness.value
                        self._term_outcome(committee, "aid", 0.0, 0, core=True)
            case schema.Campaign(escalation=level):
                self.log(day, EventType.CAMPAIGN, "regime", round(100 * level.value), event.note)
                self.regime.escalation = max(self.regime.escalation, level.value)
                for committee in self.committees:
                    if committee.holding_groups:
                        self.regime.launch_offensive(committee, OffensiveCause.SCHEDULED, level.value)
            case schema.Corridor(days=days, detained_share=detained, guarantor=guarantor):
                self.movement.open_corridor(OpenCorridor(day + days.value - 1, detained.value, guarantor))
                self.log(day, EventType.CORRIDOR, "regime", days.value, event.note)
            case schema.OutsideAgreement(legitimacy=legitimacy, release_pledged=pledged):
                for committee in self.committees:
                    if committee.phase is Phase.SIEGE and committee.holding_groups:
                        self._sign_truce(committee, PackageKind.OUTSIDE, pledged.value, legitimacy.value)
            case schema.DetaineeList(listed=listed):
                self.listed = max(listed.value, self.released)
                self.log(day, EventType.DETAINEE_LIST, "committee", self.listed, event.note)

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Simulate one day (day d is the model's step d + 1), in these phases, in this order.

        1. `fire_dated_events`: the scenario's events dated today take effect, before anyone acts.
        2. The regime: offensives and ultimatums, bombardment or storming, truce breaches, terms due.
        3. Factions: those that attack do, and the regime shells back, so residents feel it today.
        4. Resident groups: food, hunger deaths, shelling deaths (today's shelling, whoever caused it).
        5. The mediator (or direct talks): rounds of talks, decided on today's state.
        6. Committees: strain fades; outsiders' deals reviewed; too much strain collapses a truce.
        7. `movement.step` (simkit.model.population): flight through open corridors, truce waves of
           fighters, surrender convoys.
        8. `_deliver_aid`: the periodic aid convoys are let in or blocked.
        9. `_record`: the day's series (only with `record_series`).
        10. `_end_of_day`: the run ends if enough towns have settled or the horizon is reached.

        A new phase goes into this sequence, in its place; docs/model.md describes the same order.
        """
        day = self._day = self.steps
        self.steps += 1
        if day in self.dated_events:
            self.fire_dated_events(day)
        self.regime.step()
        for faction in self.factions:
            faction.step()
        for group in self.groups:
            group.step()
        self.mediator.step()
        for committee in self.committees:
            committee.step()
        self.movement.step(day)
        if day and not day % self._aid_interval:
            self._deliver_aid(day)
        if self.record_series:
            self._record(day)
        self._end_of_day(day)

    def run(self) -> RunOutcome:
        """Step day by day until an ending or the horizon; returns the run's outcome."""
        while self.running:
            self.step()
        return self.outcome

    def _end_of_day(self, day: int) -> None:
        if self._settled_enough():
            self.control_day = day
            self._finish(day)
        elif day + 1 >= self.horizon:
            self._finish(day)

    def _record(self, day: int) -> None:
        population = held = killed = evacuated = fled = starved = detained = 0
        food = hardship = 0.0
        for group in self.groups:
            people = group.population
            population += people
            killed += group.killed
            evacuated += group.evacuated
            fled += group.fled
            starved += group.starved
            detained += group.detained
            if group.status is not GroupStatus.SETTLED:
                held += people
                food += group.food
                hardship += group.hardship * people
        s = self.series
        s["population"][day] = population
        s["food_days"][day] = food / held if held else 0.0
        s["hardship"][day] = hardship / held if held else 0.0
        s["killed"][day] = killed
        s["evacuated"][day] = evacuated
        s["fled"][day] = fled
        s["starved"][day] = starved
        s["detained"][day] = detained
        s["released"][day] = self.released
        s["bombardment"][day] = max(c.bombardment for c in self.committees)

    # ------------------------------------------------------------------ talks
    def hold_talks(self, committee: Committee) -> None:
        """One round: the broker tables a package; both sides accept or it fails.

        Surrender terms reach the committee only through the regime's own decision, at `ultimatum_rate`
        (its ultimatum, or terms tabled during an offensive begun without any; they stand until the
        offensive answering them ends: `Regime.end_offensive`): a round that would carry the regime's
        preferred surrender tables nothing of its own; while an ultimatum stands, a present mediator
        declares its ceasefire for the talks. See docs/model.md, "Rounds of talks and packages".
        """
        day, regime, mediator, rand = self.day, self.regime, self.mediator, self.random
        self.log(day, EventType.TALKS_HELD, mediator.name, 0, committee.name)
        preferred = regime.choose_package(committee)
        if preferred is PackageKind.SURRENDER and (not mediator.present or rand.random() < mediator.bias):
            if committee in regime.standing_terms:
                self._ceasefire_for_talks(committee)
        elif (
            committee.phase is Phase.SIEGE
            or committee.agreement.defunct
            or committee.agreement.kind == "ceasefire"
        ):
            self._table_truce(day, committee)

    def _table_truce(self, day: int, committee: Committee) -> None:
        regime, spec = self.regime, committee.spec
        leverage = self.mediator.effective_leverage
        linked = regime.spec.linked_stakes.value if self.mediator.present else 0.0
        offer = truce_release_offer(self.listed, self.released, regime.spec.max_release_share.value, leverage)
        self.log(day, EventType.PACKAGE_OFFERED, "regime", offer, PackageKind.TRUCE.value)
        pressure = committee.pressure()
        p_regime = (
            0.0  # an offensive under way is not paused for a truce
            if committee in regime.offensive_until
            else regime_accepts_truce(
                regime.force, regime.offensive_force, regime.spec.truce_appetite.value, leverage + linked
            )
        )
        regime_ok = self.random.random() < p_regime  # drawn before the committee's own draw
        committee_ok = committee.consider_truce(offer)
        if regime_ok and committee_ok:
            self._sign_truce(committee, PackageKind.TRUCE, offer, spec.legitimacy.value)
            return
        self.log(
            day, EventType.PACKAGE_REJECTED, "regime" if not regime_ok else committee.name, offer, "truce"
        )
        if not committee_ok:
            self._rally(day, committee, pressure)
            if committee.phase is Phase.SIEGE:
                regime.escalate(day, regime.spec.escalation_jump.value, "talks failed")

    def _ceasefire_for_talks(self, committee: Committee) -> None:
        """A present mediator stops the shelling of a besieged area while surrender is discussed."""
        if (
            self.mediator.present
            and committee.phase is Phase.SIEGE
            and committee not in self.regime.offensive_until
        ):
            self._sign_truce(committee, PackageKind.CEASEFIRE, 0, committee.spec.legitimacy.value)

    def _rally(self, day: int, committee: Committee, pressure: float) -> None:
        """Residents who back the hard line take to the streets when their committee holds out."""
        if self.random.random() < (1.0 - pressure) * 0.5:
            self.log(day, EventType.PROTEST, committee.name, 0, "for the detainees")

    # ------------------------------------------------------------------ agreements
    def _sign_truce(self, committee: Committee, kind: PackageKind, release: int, legitimacy: float) -> None:
        """A truce of `kind` comes into force for a committee's area; an offensive on it ends.

        Signing a truce is the regime agreeing to stop: an offensive under way on the area (only an
        outsiders' deal can be signed during one: the regime declines truce packages and no ceasefire for
        talks is declared while it runs) ends the same day (`Regime.end_offensive`, logged after the
        signing), and with it the surrender terms it carried.
        """
        day, terms = self.day, self.spec.packages.truce
        waves = kind is PackageKind.TRUCE
        for_talks = kind is PackageKind.CEASEFIRE  # the guns fall silent; the siege and its hunger stay
        committee.agreement = Agreement(
            kind=kind,
            signed_day=day,
            legitimacy=legitimacy,
            siege_tightness=(
                self.regime.spec.siege_tightness.value if for_talks else terms.siege_tightness.value
            ),
            aid=False if for_talks else terms.aid,
            release_promised=release,
            release_stages=self._release_stages(day, release),
            fighters_to_go=terms.fighters_out.value if waves else 0,
            wave_size=terms.wave_size.value,
            wave_interval=terms.wave_interval_days.value,
            next_wave_day=day + 1,
        )
        committee.phase = Phase.TRUCE
        committee.strain = 0.0
        self.agreements_signed += 1
        event = EventType.CEASEFIRE_DECLARED if kind is PackageKind.CEASEFIRE else EventType.AGREEMENT_SIGNED
        self.log(day, event, committee.name, release, kind.value)
        if kind is PackageKind.OUTSIDE:  # signed elsewhere; its ceasefire takes effect here the same day
            self.log(day, EventType.CEASEFIRE_DECLARED, committee.name, 0, kind.value)
        if committee in self.regime.offensive_until:
            self.regime.end_offensive(committee)

    def _release_stages(self, day: int, release: int) -> list[tuple[int, int]]:
        """A token stage soon after signing, the rest later (Waer: 35 freed Dec 2015, dispute Mar 2016)."""
        if not release:
            return []
        terms = self.spec.packages.truce
        first = round(release * terms.first_release_share.value)
        stages = [
            (day + terms.first_release_days.value, first),
            (day + terms.release_due_days.value, release - first),
        ]
        return [(due, names) for due, names in stages if names > 0]

    def sign_surrender(self, committee: Committee, pressure: float, red_line_met: bool, terms: Terms) -> None:
        """The committee has accepted: the towns that adopt the terms register who leaves on the buses.

        Who registers depends on the terms (docs/model.md, "Evacuation and endings"): every fighter of a
        faction outside every deal (no amnesty covers him); each other fighter who refuses the amnesty
        (1 - `amnesty_standing`, one binomial draw per faction), with his family (`family_per_fighter`); and
        the civilians for whom the amnesty does not stand under these terms (`amnesty_standing`,
        `ResidentGroup.leaving_share`). Each faction's fighters are spread over the towns not yet settled
        in proportion to population (the one rule, `Movement.fighters_among`); a town's leavers are taken
        off their own faction as they board, and the fighters who settle under the amnesty leave their
        faction at the signing (they are residents now: no longer counted by `choose_terms`, spread over
        other towns, or registered again). A truce in force (a ceasefire for the talks, or a truce under
        which the terms were tabled) ends with the signing, logged as its lapse after it.
        """
        day = self.day
        holding = committee.holding_groups
        adopting = [
            g for g in holding if self.random.random() < min(1.0, (g.pressure() / max(pressure, 1e-9)) ** 2)
        ]
        if not adopting:
            self.log(day, EventType.PACKAGE_REJECTED, committee.name, 0, "surrender: no town adopted it")
            return
        if len(adopting) < len(holding):
            self.log(
                day,
                EventType.FRAGMENTATION,
                committee.name,
                len(holding) - len(adopting),
                "towns split over the offer",
            )
        behaviour, movement = self.spec.behaviour, self.movement
        inside = sum(g.population for g in self.groups if g.status is GroupStatus.HOLDING)
        guarantor = self.mediator.effective_guarantor
        believed = credibility(committee.trust, guarantor)
        ordered_out = behaviour.amnesty_when_ordered_out.value
        standing = amnesty_standing(believed, terms, ordered_out)  # what one who stays can count on
        refusing = 1.0 - standing  # a covered fighter's chance to refuse the amnesty and leave
        # Outsiders are covered by no amnesty and leave; every other fighter refuses it at `refusing`.
        draw = self.rng.binomial
        free = movement.free_fighters_by_faction()  # those in the towns holding out
        leaving = {f: n if f.outside else int(draw(n, refusing)) for f, n in free.items()}
        # Every town's fighters first, on the factions as they stand at the signing; then settlers leave them.
        present = {g: movement.fighters_among(g) for g in adopting}
        # Each faction's fighters in the adopting towns (their share of those holding out), and its
        # leavers among them shared over the towns by largest remainder: the towns' parts add up.
        adopted = sum(g.population for g in adopting) / inside if inside else 0.0
        populations = [g.population for g in adopting]
        parts = {f: apportion(round(n * adopted), populations) for f, n in leaving.items()}
        settling = {f: max(0, round(n * adopted) - sum(parts[f])) for f, n in free.items()}
        total = 0
        for i, group in enumerate(adopting):
            group.deal_fighters = present[group]
            leavers = {f: parts[f][i] for f in leaving}
            if sum(leavers.values()) > group.deal_fighters:
                # More than live among its people (the towns' shares are rounded apart): the town registers
                # only those, cut from every faction in proportion to its leavers (no faction's men are
                # placed in particular towns, so none is cut first); the rest live in a town that signed
                # and settle there with its other settlers.
                kept = apportion(group.deal_fighters, list(leavers.values()))
                for faction, registered in zip(leavers, kept, strict=True):
                    settling[faction] += leavers[faction] - registered
                    leavers[faction] = registered
            group.faction_leavers = leavers
            group_fighters = group.deal_fighters_leaving = group.fighters_to_leave
            civilians = group.population - group.deal_fighters  # fighters who settle do not register
            families = min(civilians, round(group_fighters * behaviour.family_per_fighter.value))
            civilians -= families
            registering = int(self.rng.binomial(civilians, group.leaving_share(standing)))
            group.to_leave = group_fighters + families + registering
            group.settlement_leavers = 0
            group.terms = terms
            group.status = GroupStatus.EVACUATING
            self.deal_days[group.locality] = day
            total += group.to_leave
        for faction, settled in settling.items():
            faction.fighters -= min(settled, faction.fighters)
        self.agreements_signed += 1
        dropped = "" if red_line_met else "; detainee release dropped"
        self.log(day, EventType.AGREEMENT_SIGNED, committee.name, total, f"surrender: {terms.value}{dropped}")
        phase = Phase.EVACUATION if len(adopting) == len(holding) else Phase.SIEGE
        if committee.phase is Phase.TRUCE:  # the truce ends for every town (docs/model.md, "Surrender")
            self.lapse(committee, TruceEnd.SUPERSEDED_BY_SURRENDER, phase)  # sets the phase
        else:
            committee.phase = phase
        self.movement.schedule_convoy(committee, day + self.spec.packages.surrender.first_convoy_days.value)

    def collapse(self, committee: Committee, cause: TruceEnd, detail: str = "") -> None:
        """End the truce: siege again and an escalation jump; the regime's offensive lowers trust.

        `detail` is what the log says (the cause's own words unless given).
        """
        day = self.day
        self.log(day, EventType.CEASEFIRE_COLLAPSED, committee.name, 0, detail or cause.value)
        if cause is TruceEnd.REGIME_OFFENSIVE:
            committee.learn(0.0)
        committee.phase = Phase.SIEGE
        committee.agreement = None
        self.agreements_collapsed += 1
        self.regime.escalate(day, self.regime.spec.escalation_jump.value, "ceasefire collapsed")

    def lapse(self, committee: Committee, cause: TruceEnd, phase: Phase = Phase.SIEGE) -> None:
        """A truce ends without either side breaking it: the committee passes to `phase`, trust untouched.

        `cause` is `ULTIMATUM_DEADLINE` (a ceasefire declared for the talks ends as the refused
        ultimatum's offensive begins: it was a pause while terms were weighed; siege again, and the
        offensive sets the shelling) or `SUPERSEDED_BY_SURRENDER` (the committee signed a surrender under
        it, which replaces it: `phase` is the surrender's, evacuation or, where some towns refused, siege).
        No collapse is counted and the committee learns nothing about the regime's word. The phase is set
        before the lapse is logged, so the state noted with it is the one after.
        """
        committee.phase = phase
        committee.agreement = None
        self.log(self.day, EventType.CEASEFIRE_LAPSED, committee.name, 0, cause.value)

    def violation(self, committee: Committee, actor: str) -> None:
        """A breach adds strain; the other side answers (factions retaliate, the regime shells back)."""
        day = self.day
        self.log(day, EventType.VIOLATION, actor, 0, committee.name)
        committee.strain += 1.0
        committee.bombardment = self.regime.spec.baseline_escalation.value
        if actor == "regime":
            for faction in self.factions:
                if faction.retaliates():
                    self.log(day, EventType.RETALIATION, faction.name, 0, committee.name)
                    committee.strain += 1.0
        else:
            self.log(day, EventType.VIOLATION, "regime", 0, f"response to {actor}")
            committee.strain += 1.0

    def implement_due_terms(self, committee: Committee) -> None:
        """A release stage falls due: the regime delivers a Beta-distributed share of that stage's promise.

        Every stage teaches the committee; only the final one can break the deal, because a token stage
        leaves the rest of the promise still to come (Waer: 35 freed in Dec 2015, collapse in Mar 2016).
        """
        agreement, day = committee.agreement, self.day
        stages = agreement.release_stages
        if not stages or stages[0][0] != day:
            return
        _, promised = stages.pop(0)
        p = self.regime.implementation_probability()
        nu = self.spec.detainees.delivery_concentration.value
        delivered = self.random.betavariate(max(p * nu, 1e-6), max((1.0 - p) * nu, 1e-6))
        freed = min(round(delivered * promised), self.listed - self.released)
        if delivered < self.spec.outcomes.partial_release_max_share.value:
            self.release_shortfall = True  # a stage reneged in part: the run's `partial_release` flag
        self.released += freed
        if freed:
            self.log(day, EventType.DETAINEES_RELEASED, "regime", freed, committee.name)
        self._term_outcome(committee, "release", delivered, freed, core=not stages)

    def _term_outcome(
        self, committee: Committee, term: str, delivered: float, count: int, core: bool
    ) -> None:
        """Log a regime term as kept or reneged, update the committee's belief, test a core term for collapse.

        A shortfall on a core term may make the committee walk out (`committee_walks_out`): what it
        cannot sell to its residents (docs/model.md, "Implementation, credibility, and collapse").
        """
        reneged = delivered < self.spec.outcomes.partial_release_max_share.value
        kind = EventType.TERM_RENEGED if reneged else EventType.TERM_IMPLEMENTED
        self.log(self.day, kind, "regime", count, term)
        committee.learn(delivered)
        if core and self.random.random() < committee_walks_out(
            1.0 - delivered, committee.pressure(), committee.spec.truce_sensitivity.value
        ):
            self.collapse(committee, TruceEnd.RENEGED, f"{term} reneged")

    def take_over(self, committee: Committee) -> None:
        """The regime storms the area: every town still holding out is settled as a military takeover."""
        for group in committee.holding_groups:
            self.deal_days[group.locality] = self.day
            self.settle(group, "military_takeover")
        committee.phase = Phase.SETTLED if not committee.groups or all(
            g.status is GroupStatus.SETTLED for g in committee.groups) else committee.phase  # fmt: skip

    def settle(self, group: ResidentGroup, how: str) -> None:
        """`group` comes under the regime's control, `how` being its settlement class."""
        self._settlements += 1
        group.status, group.settlement = GroupStatus.SETTLED, how
        self.log(self.day, EventType.CONTROL, "regime", group.population, f"{group.locality}: {how}")

    # ------------------------------------------------------------------ supplies
    def _deliver_aid(self, day: int) -> None:
        """The convoys due today (`step` calls this every `convoy_interval_days`, from that day on)."""
        aid = self.spec.aid
        for committee in self.committees:
            groups = committee.holding_groups
            if not groups:
                continue
            agreement = committee.agreement
            if (
                committee.phase is Phase.TRUCE
                and agreement.aid
                and (self.aid_open or agreement.signed_day > self.aid_cut_day)
            ):
                delivered = self.random.random() < self.regime.implementation_probability()
                self._term_outcome(committee, "aid", float(delivered), 0, core=False)
            elif committee.phase is Phase.SIEGE and self.aid_open:
                delivered = self.random.random() < aid.open_under_siege.value
            else:
                continue
            if delivered:
                for group in groups:
                    group.receive_food(aid.convoy_food_days.value)
                committee.last_aid_day = day
                self.log(day, EventType.AID_CONVOY, "aid", round(aid.convoy_food_days.value), committee.name)
            else:
                self.log(day, EventType.AID_BLOCKED, "regime", 0, committee.name)

    # ------------------------------------------------------------------ endings
    def _settled_enough(self) -> bool:
        if not self._settlements:
            return False
        if any(group.status is GroupStatus.EVACUATING for group in self.groups):
            return False
        settled = sum(g.initial_population for g in self.groups if g.status is GroupStatus.SETTLED)
        return settled >= self.spec.outcomes.settled_share_for_outcome.value * self.initial_population

    def _finish(self, day: int) -> None:
        self.outcome = classify(self, day)
        self.log(day, EventType.OUTCOME, "model", 0, self.outcome.outcome)
        self.running = False
