"""The scenario schema: what a scenario YAML may say, and what each number means.

Field descriptions here are the reference for scenario authors (docs/scenarios.md
points at them); the mechanisms that use each number are in docs/model.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simkit.scenario.provenance import Count, Days, NonNegative, Positive, Real, Share


class Section(BaseModel):
    """Base of every scenario section: an unknown key is an error (a typo is never ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Regime(Section):
    """`regime:` the besieging government on this front: force, siege, bombardment, how it keeps deals."""

    force_here: NonNegative = Field(
        description="force available on this front; 1 = what a full offensive needs"
    )
    force_for_offensive: Positive = Field(
        description="force at which the regime prefers surrender terms to a truce"
    )
    siege_tightness: Share = Field(description="share of normal food supply blocked when no deal is in force")
    baseline_escalation: Share = Field(
        description="bombardment level (0..1) while besieging without an offensive"
    )
    escalation_jump: Share = Field(
        description="rise in bombardment level after a collapse, a rejection or retaliation"
    )
    escalation_decay: Share = Field(description="daily relaxation of bombardment back to its baseline")
    lethality: NonNegative = Field(
        description="killed per day per 10,000 residents at full bombardment, at 10,000/km²"
    )
    max_release_share: Share = Field(description="share of the detainee list the regime offers unpressed")
    implementation: Share = Field(description="probability of carrying out an agreed term, unpressed")
    violation_rate: NonNegative = Field(description="daily hazard of a regime violation under a ceasefire")
    truce_appetite: NonNegative = Field(
        description="scale of the regime's hazard of accepting a truce per round"
    )
    truce_exit_rate: NonNegative = Field(
        description="daily hazard of ending a truce per unit of force above the offensive level"
    )
    takeover_rate: NonNegative = Field(
        description="daily hazard of storming the area per unit of surplus force"
    )


class Mediator(Section):
    """`mediator:` the outside power (Russia) that convenes talks, tables packages and monitors truces."""

    name: str = "mediator"
    present_at_start: bool = Field(
        description="mediating from the start; otherwise from its `mediator_entry` event"
    )
    leverage: Share = Field(
        description="how far it moves the regime on release offers and on implementing them"
    )
    bias: Share = Field(
        description="how often it tables the regime's preferred package instead of the committee's"
    )
    guarantor: Share = Field(description="share of violations its monitors prevent once it is present")
    talks_rate: NonNegative = Field(description="daily probability of a round of talks while it mediates")
    direct_talks_rate: NonNegative = Field(
        description="daily probability of a round before it enters (direct or UN talks)"
    )


class Committee(Section):
    """`committees[]:` a local negotiating committee: red line, resolve, legitimacy and trust in the regime.

    Every locality in `residents` must be negotiated for by exactly one committee.
    """

    name: str
    localities: list[str] = Field(min_length=1, description="resident groups it negotiates for")
    red_line_release_share: Share = Field(description="share of the list that must be freed before surrender")
    red_line_firmness: Share = Field(
        description="probability of refusing to drop the red line in a round; 1 = never drops it"
    )
    resolve: Positive = Field(
        description="value of holding out, against which residents' pressure is weighed"
    )
    concession_rate: NonNegative = Field(
        description="scale of the attrition hazard of accepting surrender terms"
    )
    truce_threshold: Real = Field(
        description="believed value of a truce, trust x (relief + expected release), accepted at even odds"
    )
    truce_sensitivity: Positive = Field(description="steepness of truce acceptance around the threshold")
    legitimacy: Share = Field(description="how far residents accept deals it signs (representativeness)")
    collapse_tolerance: Positive = Field(
        description="strain (remembered violations) it can sell before a deal collapses"
    )
    strain_memory_days: Positive = Field(description="time constant over which violations are remembered")
    review_rate: Share = Field(description="daily probability of reviewing a deal signed by outsiders")
    trust_prior: Share = Field(description="prior mean belief that the regime implements what it signs")
    trust_prior_weight: Positive = Field(description="pseudo-observations behind that prior")


class Faction(Section):
    """`factions[]:` an armed group inside; a `spoiler` stands outside every deal and attacks regardless."""

    name: str
    fighters: Count
    spoiler: bool = Field(
        default=False, description="outside every deal (e.g. HTS): attacks regardless of ceasefires"
    )
    retaliation: Share = Field(description="probability of retaliating for a regime violation")
    veto: Share = Field(description="probability of blocking surrender terms when residents' pressure is nil")
    evacuation_stance: Share = Field(description="share of its fighters who leave rather than take amnesty")
    attack_rate: NonNegative = Field(description="daily hazard of attacks of its own (spoilers)")


class ResidentGroup(Section):
    """`residents[]:` the people of one locality (named by `locality`): population, area, food and ties."""

    locality: str
    population: Count
    area_km2: Positive
    food_days: NonNegative = Field(description="food stock at the start, in days of normal consumption")
    local_production: Share = Field(description="share of daily need produced inside (farming, fishing)")
    detainee_tie_share: Share = Field(description="share of households with a relative on the detainee list")

    @model_validator(mode="after")
    def _inhabited(self) -> ResidentGroup:
        if self.population.value < 1:
            raise ValueError(f"locality {self.locality!r} needs a population of at least 1")
        return self


class Behaviour(Section):
    """How households feel and decide; shared by all resident groups."""

    households_per_group: Count = Field(
        description="representative households simulated per group (super-individuals)"
    )
    reserve_spread: NonNegative = Field(description="log-sd of households' private food reserves")
    hardship_midpoint_days: Positive = Field(description="days of food left at which hardship is one half")
    hardship_scale_days: Positive = Field(description="steepness of hardship in days of food left")
    ration_days: Positive = Field(description="stock in days below which households ration")
    storage_days: Positive = Field(description="most food a group can store, in days of consumption")
    loss_memory_days: Positive = Field(description="time constant of remembered casualties")
    weight_hardship: Real
    weight_loss: Real = Field(
        description="weight of remembered casualties (per 1,000 residents) on the wish for a way out"
    )
    weight_detainee_tie: Real = Field(description="weight of a relative on the list against conceding")
    concede_threshold: Real = Field(
        description="wish for a way out at even odds of a household backing concessions"
    )
    leave_threshold: Real = Field(
        description="distrust of the regime at even odds of a household leaving on the buses"
    )
    family_per_fighter: NonNegative = Field(description="family members leaving with each evacuated fighter")


class Detainees(Section):
    """`detainees:` the committee's detainee list, and how delivered releases shape its trust."""

    listed: Count = Field(description="names on the committee's list at the start")
    delivery_concentration: Positive = Field(
        description="concentration of the Beta spread of delivered/promised"
    )
    learning_weight: Positive = Field(
        description="pseudo-observations one implemented or reneged term adds to beliefs"
    )


class Aid(Section):
    """`aid:` regular aid convoys: how often, how much food, and whether they get through a siege."""

    convoy_interval_days: Days = Field(description="days between convoys while aid is allowed")
    convoy_food_days: NonNegative = Field(
        description="food one convoy brings, in days of consumption for all"
    )
    open_under_siege: Share = Field(description="probability a convoy gets through when no deal is in force")


class TruceTerms(Section):
    """`packages.truce:` a truce (reversible): a looser siege, two release stages, fighters out in waves."""

    siege_tightness: Share = Field(description="share of supply still blocked under the truce")
    first_release_days: Days = Field(description="days from signing to the first (token) release stage")
    first_release_share: Share = Field(description="share of the promised release due at the first stage")
    release_due_days: Days = Field(description="days from signing to the second (final) release stage")
    fighters_out: Count = Field(description="fighters to leave in waves under the truce")
    wave_size: Count
    wave_interval_days: Days
    aid: bool = True

    @model_validator(mode="after")
    def _stages_in_order(self) -> TruceTerms:
        if self.first_release_days.value > self.release_due_days.value:
            raise ValueError(
                f"first_release_days ({self.first_release_days.value}) must not come after "
                f"release_due_days ({self.release_due_days.value})"
            )
        return self


class SurrenderTerms(Section):
    """`packages.surrender:` the evacuation timetable once surrender is signed: convoy size and spacing."""

    convoy_capacity: Count = Field(description="people per evacuation convoy")
    convoy_interval_days: Days
    first_convoy_days: Days = Field(description="days from signing to the first convoy")


class Packages(Section):
    """`packages:` the terms of the two packages tabled in talks, a truce and a surrender."""

    truce: TruceTerms
    surrender: SurrenderTerms


class Outcomes(Section):
    """`outcomes:` the thresholds that decide which outcome class a run ends in (docs/model.md, endings)."""

    durable_ceasefire_days: Days = Field(
        description="days a ceasefire with aid must have held at the horizon"
    )
    surrender_min_evacuated_share: Share = Field(
        description="evacuated share of the population that makes a settlement a surrender"
    )
    partial_release_max_share: Share = Field(
        description="released share of the list below which a release is partial"
    )
    settled_share_for_outcome: Share = Field(
        description="population share that must settle for the run to end"
    )


class EventBase(Section):
    """Fields of every `events[]` entry: it takes effect at the start of `date`; `note` goes to the log.

    With `latest`, the date is uncertain: each run draws it uniformly from `date` to `latest`
    (e.g. forces returning "once operations elsewhere end", seed 004).
    """

    date: dt.date
    latest: dt.date | None = Field(default=None, description="last possible date, when the date is uncertain")
    note: str = ""

    @model_validator(mode="after")
    def _window(self) -> EventBase:
        if self.latest is not None and self.latest < self.date:
            raise ValueError(f"latest ({self.latest}) is before date ({self.date})")
        return self


class MediatorEntry(EventBase):
    """`type: mediator_entry`: the mediator is present from this date."""

    type: Literal["mediator_entry"]


class ForcesChange(EventBase):
    """`type: forces_change`: the regime's force here changes (troops freed from or sent to other fronts)."""

    type: Literal["forces_change"]
    delta: Real = Field(description="change in force here (+ freed from other fronts, - sent elsewhere)")


class AidConvoy(EventBase):
    """`type: aid_convoy`: a one-off convoy brings `food_days` of food to the localities still holding out."""

    type: Literal["aid_convoy"]
    food_days: NonNegative


class AidCut(EventBase):
    """`type: aid_cut`: aid stops from this date; a truce that promised aid loses it (a reneged core term)."""

    type: Literal["aid_cut"]


class Campaign(EventBase):
    """`type: campaign`: a bombing campaign raises the regime's escalation to at least `escalation`."""

    type: Literal["campaign"]
    escalation: Share = Field(description="bombardment level the campaign raises to")


class OutsideAgreement(EventBase):
    """`type: outside_agreement`: outsiders sign a truce for committees under siege (Cairo, 2017)."""

    type: Literal["outside_agreement"]
    legitimacy: Share = Field(description="how far residents accept a deal signed by outsiders")
    release_pledged: Count


class DetaineeList(EventBase):
    """`type: detainee_list`: a new list; `listed` replaces the count (never below those already released)."""

    type: Literal["detainee_list"]
    listed: Count


ScheduledEvent = Annotated[
    MediatorEntry | ForcesChange | AidConvoy | AidCut | Campaign | OutsideAgreement | DetaineeList,
    Field(discriminator="type"),
]


class Scenario(Section):
    """A besieged area, its actors and what is known to happen to it, by date."""

    name: str
    description: str = ""
    start: dt.date
    horizon_days: Days
    regime: Regime
    mediator: Mediator
    committees: list[Committee] = Field(min_length=1)
    factions: list[Faction] = Field(min_length=1)
    residents: list[ResidentGroup] = Field(min_length=1)
    behaviour: Behaviour
    detainees: Detainees
    aid: Aid
    packages: Packages
    events: list[ScheduledEvent] = Field(default_factory=list)
    outcomes: Outcomes

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        localities = [group.locality for group in self.residents]
        if len(set(localities)) != len(localities):
            raise ValueError(f"resident localities must be unique, found {localities}")
        claimed: list[str] = []
        for committee in self.committees:
            for locality in committee.localities:
                if locality not in localities:
                    raise ValueError(
                        f"committee {committee.name!r} negotiates for unknown locality {locality!r} "
                        f"(residents: {', '.join(localities)})"
                    )
                claimed.append(locality)
        unclaimed = sorted(set(localities) - set(claimed))
        if unclaimed or len(claimed) != len(set(claimed)):
            raise ValueError("every locality must have exactly one committee; check committees[].localities")
        fighters = sum(faction.fighters.value for faction in self.factions)
        people = sum(group.population.value for group in self.residents)
        if fighters > people:
            raise ValueError(f"factions have {fighters} fighters but the localities only {people} residents")
        end = self.end
        for event in self.events:
            for date in (event.date, event.latest or event.date):
                if not self.start <= date <= end:
                    raise ValueError(
                        f"event {event.type} on {date} is outside the run ({self.start} to {end})"
                    )
        if self.behaviour.households_per_group.value < 1:
            raise ValueError("behaviour.households_per_group must be at least 1")
        return self

    @property
    def end(self) -> dt.date:
        """The last simulated date: `start` plus `horizon_days` - 1 (events must fall on or before it)."""
        return self.start + dt.timedelta(days=self.horizon_days.value - 1)
