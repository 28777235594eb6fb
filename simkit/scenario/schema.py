"""The scenario schema: what a scenario YAML may say, and what each number means.

Field descriptions here are the reference for scenario authors (docs/scenarios.md
points at them); the mechanisms that use each number are in docs/model.md.
"""

# No `from __future__ import annotations`: fields are declared with `bounded(...)`, evaluated as written.
import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simkit.scenario.provenance import Count, Days, NonNegative, Positive, Real, Share, bounded

# Ranges shared by many fields, with the reason for each (they join each field's description).
PEOPLE = 10_000_000
PEOPLE_WHY = "40 times the largest documented besieged population; keeps counts and casualty draws exact"
DAYS = 3_650
DAYS_WHY = "ten years, longer than any documented siege; keeps every date within the calendar"
HAZARD = 100.0
HAZARD_WHY = "a daily hazard of 100 is already certainty (1 - e^-100); larger values change nothing"
LOGIT = 1_000.0
LOGIT_WHY = "a weight or threshold on a logit scale; beyond ±1,000 choices are already certain"
SCALE = 1_000.0
SCALE_WHY = "against pressures and values of order 1, 1,000 already means never (or always)"
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
MAX_ITEMS = 100
"""Most committees, factions or resident groups in a scenario: each is simulated every day."""
MAX_EVENTS = 10_000


class Section(BaseModel):
    """Base of every scenario section: an unknown key is an error (a typo is never ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Regime(Section):
    """`regime:` the besieging government on this front: force, siege, bombardment, how it keeps deals."""

    force_here: bounded(
        NonNegative,
        "force available on this front; 1 = what a full offensive needs",
        high=100.0,
        why="a hundred offensives' worth; every force-driven hazard is saturated long before",
    )
    force_for_offensive: bounded(
        Positive,
        "force at which the regime prefers surrender terms to a truce",
        low=0.01,
        high=100.0,
        why="force is divided by it; the range keeps that ratio finite",
    )
    siege_tightness: Share = Field(description="share of normal food supply blocked when no deal is in force")
    baseline_escalation: Share = Field(
        description="bombardment level (0..1) while besieging without an offensive"
    )
    escalation_jump: Share = Field(
        description="rise in bombardment level after a collapse, a rejection or retaliation"
    )
    escalation_decay: Share = Field(description="daily relaxation of bombardment back to its baseline")
    lethality: bounded(
        NonNegative,
        "killed per day per 10,000 residents at full bombardment, at 10,000/km²",
        high=10_000.0,
        why="10,000 per 10,000 kills everyone in a day; larger rates overflow the casualty draw",
    )
    max_release_share: Share = Field(description="share of the detainee list the regime offers unpressed")
    implementation: Share = Field(description="probability of carrying out an agreed term, unpressed")
    violation_rate: bounded(
        NonNegative, "daily hazard of a regime violation under a ceasefire", high=HAZARD, why=HAZARD_WHY
    )
    truce_appetite: bounded(
        NonNegative,
        "scale of the regime's hazard of accepting a truce per round",
        high=HAZARD,
        why=HAZARD_WHY,
    )
    takeover_rate: bounded(
        NonNegative,
        "daily hazard of storming the area per unit of surplus force, while an offensive is under way",
        high=HAZARD,
        why=HAZARD_WHY,
    )
    ground_rate: Share = Field(
        description="share of the area still held that an offensive takes a day at full bombardment and "
        "full force (scaled by both): density rises and local production falls with the ground lost "
        "(behavioural)"
    )
    ultimatum_days: bounded(
        Days,
        "days the regime gives a committee to accept surrender terms before it launches an offensive "
        "(behavioural)",
        high=DAYS,
        why=DAYS_WHY,
    )
    ultimatum_rate: Share = Field(
        description="daily probability that the regime issues an ultimatum to a committee while its force "
        "here is at the offensive level and no ultimatum or offensive stands (behavioural)"
    )
    offensive_days: bounded(
        Days,
        "mean days an offensive (launched on a refused ultimatum, or a scheduled `campaign`) is sustained "
        "before the regime pauses (each run draws its length from a geometric distribution with this "
        "mean); with force still at the offensive level a new ultimatum may follow",
        high=DAYS,
        why=DAYS_WHY,
    )
    outside_group_bars_amnesty: Share = Field(
        description="probability that the regime tables an evacuation rather than an amnesty (settlement in "
        "place) while a faction `outside_every_deal` still has fighters inside (behavioural)"
    )
    settlement_max_fighter_share: Share = Field(
        description="the regime tables a settlement in place (amnesty, weapons handed over, most stay, "
        "refusers bussed out) when fighters are at most this share of the people still inside; above it, "
        "an evacuation of the fighters, their families and whoever will not stay (behavioural)"
    )
    linked_stakes: Share = Field(
        description="what a deal here can carry for the regime's side elsewhere (its besieged towns eased, "
        "captives freed), on the scale of mediator leverage; counts only while a mediator is present to "
        "link the places; 0 where no such link exists at the start date (structural, per case)"
    )


class MediatorIdentity(StrEnum):
    """Who mediates: each identity brings its own leverage, bias and guarantor (docs/model.md)."""

    UN = "un"
    RUSSIA = "russia"
    TURKEY_RUSSIA = "turkey_russia"
    IRAN = "iran"
    NONE = "none"


class MediatorValues(Section):
    """How far one mediator identity moves the regime, favours it, guarantees, and convenes talks."""

    leverage: Share = Field(
        description="how far it moves the regime on release offers and on implementing them"
    )
    bias: Share = Field(
        description="how often it tables the regime's preferred package instead of the committee's"
    )
    guarantor: Share = Field(
        description="share of violations its monitors prevent once it is present; also what makes an "
        "amnesty or a corridor it stands behind credible where the regime's word is not"
    )
    talks_rate: bounded(
        NonNegative,
        "daily probability of a round of talks while it mediates",
        high=1.0,
        why="a probability per day; 1 is a round every day",
    )


class Mediators(Section):
    """`mediators:` the values that go with each mediator identity: one table, the same in every scenario.

    A scenario's `mediator` and `other_mediators` name who mediates (and when); what they can do is
    read here by their `identity`, so Russia is the same Russia in Waer and in north Homs.
    Override one with e.g. `--set mediators.russia.leverage=0.3`.
    """

    un: MediatorValues
    russia: MediatorValues
    turkey_russia: MediatorValues
    iran: MediatorValues


class MediatorProfile(Section):
    """One outside mediator: who it is (`identity`, whose values are in `mediators:`)."""

    name: str = "mediator"
    identity: MediatorIdentity = Field(
        description="who mediates (un, russia, turkey_russia, iran, none): its leverage, bias, guarantor and "
        "talks rate are the `mediators:` table's for this identity"
    )


class Mediator(MediatorProfile):
    """`mediator:` the principal outside power that convenes talks, tables packages and monitors truces.

    Others (`other_mediators`) may be present before it or replace it, by `mediator_entry` events.
    """

    present_at_start: bool = Field(
        description="mediating from the start; otherwise from its `mediator_entry` event"
    )
    direct_talks_rate: bounded(
        NonNegative,
        "daily probability of a round while no mediator is present (direct talks)",
        high=1.0,
        why="a probability per day; 1 is a round every day",
    )


class OtherMediator(MediatorProfile):
    """`other_mediators[]:` another mediator (e.g. the UN before Russia), entering by its own event."""

    present_at_start: bool = Field(
        description="mediating from the start (unless the principal `mediator` is); otherwise from a "
        "`mediator_entry` event naming it"
    )


class Committee(Section):
    """`committees[]:` a local negotiating committee: red line, resolve, legitimacy and trust in the regime.

    Every locality in `residents` must be negotiated for by exactly one committee.
    """

    name: str
    localities: list[str] = Field(min_length=1, description="resident groups it negotiates for")
    red_line_release_share: Share = Field(description="share of the list that must be freed before surrender")
    red_line_firmness: Share = Field(
        description="chance of holding an unmet red line for a set of surrender terms when no household "
        "wants a way out and no assault is threatened: it is held with probability "
        "firmness x (1 - pressure) x (1 - threat), so even 1 can give way to hunger or an assault"
    )
    resolve: bounded(
        Positive,
        "value of holding out, against which residents' pressure is weighed",
        high=SCALE,
        why=SCALE_WHY,
    )
    concession_rate: bounded(
        NonNegative, "scale of the attrition hazard of accepting surrender terms", high=HAZARD, why=HAZARD_WHY
    )
    truce_threshold: bounded(
        Real,
        "believed value of a truce, trust x (relief + expected release), accepted at even odds",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    truce_sensitivity: bounded(
        Positive, "steepness of truce acceptance around the threshold", high=LOGIT, why=LOGIT_WHY
    )
    legitimacy: Share = Field(description="how far residents accept deals it signs (representativeness)")
    collapse_tolerance: bounded(
        Positive,
        "strain (remembered violations) it can sell before a deal collapses",
        high=1e6,
        why="strain counts remembered violations; a million is never reached in any run",
    )
    strain_memory_days: bounded(
        Positive,
        "time constant over which violations are remembered",
        low=0.01,
        high=100 * DAYS,
        why="a day's memory factor is exp(-1/days); outside this range it is 0 or 1 to machine precision",
    )
    review_rate: Share = Field(description="daily probability of reviewing a deal signed by outsiders")
    trust_prior: Share = Field(description="prior mean belief that the regime implements what it signs")
    trust_prior_weight: bounded(
        Positive,
        "pseudo-observations behind that prior",
        low=0.01,
        high=1e6,
        why="trust is a ratio of pseudo-counts: near 0 it is undefined, a million fixes it for good",
    )


class Designation(Section):
    """`outside_every_deal:` when and by whom a faction was put outside every deal, before the start date."""

    designated: dt.date = Field(
        description="date of the designation (e.g. the UN Security Council's sanctions listing); it must "
        "come before the scenario's start"
    )
    source: str = Field(min_length=1, description="who designated it, and where this is documented")


class Faction(Section):
    """`factions[]:` an armed group inside.

    Two separate facts: whether it `attacks` regardless of ceasefires (at `attack_rate`), and whether it
    stands `outside_every_deal` (designated before the start date: an amnesty rarely covers it, and it
    leaves only on the buses of a surrender, never in a truce's waves).
    """

    name: str
    fighters: bounded(Count, "fighters at the start", high=PEOPLE, why=PEOPLE_WHY)
    attacks: bool = Field(
        default=False, description="attacks regardless of ceasefires, at `attack_rate` a day"
    )
    outside_every_deal: Designation | None = Field(
        default=None,
        description="the designation, dated before the start, that puts it outside every deal (e.g. HTS and "
        "Jabhat Fatah al-Sham, successors of al-Nusrah Front, on the UN Security Council's sanctions "
        "list since 30 May 2013)",
    )
    retaliation: Share = Field(description="probability of retaliating for a regime violation")
    veto: Share = Field(description="probability of blocking surrender terms when residents' pressure is nil")
    holds_back: Share = Field(
        description="share of the residents who would cross open lines that this faction stops while it has "
        "fighters inside (checkpoints, snipers, fire on the crossings; structural, per case)"
    )
    attack_rate: bounded(
        NonNegative,
        "daily probability of an attack of its own (factions that `attack`)",
        high=1.0,
        why="it is drawn as a probability per day; 1 is an attack every day",
    )


class ResidentGroup(Section):
    """`residents[]:` the people of one locality (named by `locality`): population, area, food and ties."""

    locality: str
    population: bounded(Count, "residents at the start", high=PEOPLE, why=PEOPLE_WHY)
    area_km2: bounded(
        Positive,
        "built-up area of the locality",
        low=0.01,
        high=100_000.0,
        why="density (people per km²) scales casualties; below a hectare the casualty draw overflows",
    )
    food_days: bounded(
        NonNegative, "food stock at the start, in days of normal consumption", high=DAYS, why=DAYS_WHY
    )
    local_production: Share = Field(description="share of daily need produced inside (farming, fishing)")
    detainee_tie_share: Share = Field(description="share of households with a relative on the detainee list")

    @model_validator(mode="after")
    def _inhabited(self) -> Self:
        if self.population.value < 1:
            raise ValueError(f"locality {self.locality!r} needs a population of at least 1")
        return self


class Behaviour(Section):
    """How households feel and decide; shared by all resident groups."""

    households_per_group: bounded(
        Count,
        "representative households simulated per group (super-individuals)",
        low=1,
        high=10_000,
        why="every household is simulated daily; 10,000 is 50 times where results are stable",
    )
    reserve_spread: bounded(
        NonNegative,
        "log-sd of households' private food reserves",
        high=5.0,
        why="reserves are exp(N(0, spread)): 5 spreads them by e^15 at 3 sd; far larger overflows (NaN)",
    )
    hardship_midpoint_days: bounded(
        Positive, "days of food left at which hardship is one half", high=DAYS, why=DAYS_WHY
    )
    hardship_scale_days: bounded(
        Positive,
        "steepness of hardship in days of food left",
        low=0.1,
        high=DAYS,
        why="days of food are divided by it inside an exponential; a tenth of a day is already a step",
    )
    ration_days: bounded(
        Positive, "stock in days below which households ration", low=0.01, high=DAYS, why=DAYS_WHY
    )
    storage_days: bounded(
        Positive, "most food a group can store, in days of consumption", high=DAYS, why=DAYS_WHY
    )
    loss_memory_days: bounded(
        Positive,
        "time constant of remembered casualties",
        low=0.01,
        high=100 * DAYS,
        why="a day's memory factor is exp(-1/days); outside this range it is 0 or 1 to machine precision",
    )
    weight_hardship: bounded(
        Real, "weight of hardship (0..1) on the wish for a way out", low=-LOGIT, high=LOGIT, why=LOGIT_WHY
    )
    weight_loss: bounded(
        Real,
        "weight of remembered casualties (per 1,000 residents) on the wish for a way out",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    weight_detainee_tie: bounded(
        Real, "weight of a relative on the list against conceding", low=-LOGIT, high=LOGIT, why=LOGIT_WHY
    )
    concede_threshold: bounded(
        Real,
        "wish for a way out at even odds of a household backing concessions",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    leave_threshold: bounded(
        Real,
        "distrust of the regime at even odds of a household leaving on the buses",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    weight_threat: bounded(
        Real,
        "weight of the believed threat of an assault (0..1, under an ultimatum or an offensive) on the wish "
        "for a way out",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    flight_rate: Share = Field(
        description="daily share of the households that want a way out who flee while the lines are open "
        "(a scheduled `corridor`)"
    )
    starvation_rate: bounded(
        NonNegative,
        "deaths from hunger per day per 10,000 residents eating nothing (scaled by the squared share of need "
        "not met)",
        high=10_000.0,
        why="10,000 per 10,000 is everyone in a day; larger rates overflow the draw",
    )
    weight_amnesty_distrust: bounded(
        Real,
        "weight of distrust of the amnesty (1 - how far it stands for one who stays, 0..1) on a household's "
        "registering for the buses",
        low=-LOGIT,
        high=LOGIT,
        why=LOGIT_WHY,
    )
    amnesty_when_ordered_out: Share = Field(
        description="how far the amnesty still stands for one who stays when the signed terms order the "
        "armed groups out (an evacuation): the share of the fighters who believe it that still take it, and "
        "the share of civilians' belief in it that holds with no armed locals left; under a settlement in "
        "place it stands as far as it is believed"
    )
    family_per_fighter: bounded(
        NonNegative,
        "family members leaving with each evacuated fighter",
        high=100.0,
        why="a household is never a hundred people; evacuees are capped by the population anyway",
    )


class Detainees(Section):
    """`detainees:` the committee's detainee list, and how delivered releases shape its trust."""

    listed: bounded(Count, "names on the committee's list at the start", high=PEOPLE, why=PEOPLE_WHY)
    delivery_concentration: bounded(
        Positive,
        "concentration of the Beta spread of delivered/promised",
        high=1e6,
        why="a million already delivers exactly the expected share",
    )
    learning_weight: bounded(
        Positive,
        "pseudo-observations one implemented or reneged term adds to beliefs",
        high=1e6,
        why="a million makes one term decide belief outright",
    )


class Aid(Section):
    """`aid:` regular aid convoys: how often, how much food, and whether they get through a siege."""

    convoy_interval_days: bounded(Days, "days between convoys while aid is allowed", high=DAYS, why=DAYS_WHY)
    convoy_food_days: bounded(
        NonNegative, "food one convoy brings, in days of consumption for all", high=DAYS, why=DAYS_WHY
    )
    open_under_siege: Share = Field(description="probability a convoy gets through when no deal is in force")


class TruceTerms(Section):
    """`packages.truce:` a truce (reversible): a looser siege, two release stages, fighters out in waves."""

    siege_tightness: Share = Field(description="share of supply still blocked under the truce")
    first_release_days: bounded(
        Days, "days from signing to the first (token) release stage", high=DAYS, why=DAYS_WHY
    )
    first_release_share: Share = Field(description="share of the promised release due at the first stage")
    release_due_days: bounded(
        Days, "days from signing to the second (final) release stage", high=DAYS, why=DAYS_WHY
    )
    fighters_out: bounded(Count, "fighters to leave in waves under the truce", high=PEOPLE, why=PEOPLE_WHY)
    wave_size: bounded(Count, "fighters per wave", high=PEOPLE, why=PEOPLE_WHY)
    wave_interval_days: bounded(Days, "days between waves", high=DAYS, why=DAYS_WHY)
    aid: bool = True

    @model_validator(mode="after")
    def _stages_in_order(self) -> Self:
        if self.first_release_days.value > self.release_due_days.value:
            raise ValueError(
                f"first_release_days ({self.first_release_days.value}) must not come after "
                f"release_due_days ({self.release_due_days.value})"
            )
        return self


class SurrenderTerms(Section):
    """`packages.surrender:` the evacuation logistics once surrender is signed: convoy size and spacing.

    Structural, per case, with sources: the buses and the road the regime (and the mediator or the ICRC)
    could put on, from a few hundred a day (Waer) to thousands a day (east Aleppo).
    """

    convoy_capacity: bounded(Count, "people one evacuation convoy can carry", high=PEOPLE, why=PEOPLE_WHY)
    convoy_interval_days: bounded(
        Days, "days between evacuation convoys (1 = a convoy every day)", high=DAYS, why=DAYS_WHY
    )
    first_convoy_days: bounded(Days, "days from signing to the first convoy", high=DAYS, why=DAYS_WHY)


class Packages(Section):
    """`packages:` the terms of the two packages tabled in talks, a truce and a surrender."""

    truce: TruceTerms
    surrender: SurrenderTerms


class Outcomes(Section):
    """`outcomes:` the thresholds that decide which outcome class a run ends in (docs/model.md, endings)."""

    durable_ceasefire_days: bounded(
        Days, "days a ceasefire with aid must have held at the horizon", high=DAYS, why=DAYS_WHY
    )
    partial_release_max_share: Share = Field(
        description="share of a release stage's promise below which the stage is reneged; `partial_release` "
        "flags runs in which detainees were freed but some stage fell below it"
    )
    settled_share_for_outcome: Share = Field(
        description="population share that must settle for the run to end"
    )


class EventBase(Section):
    """Fields of every `events[]` entry: it takes effect at the start of `date`; `note` goes to the log.

    With `latest`, the date is uncertain: each run draws it uniformly from `date` to `latest`
    (e.g. forces returning "once operations elsewhere end", seed 004).
    """

    date: dt.date = Field(description="the day it takes effect (within the run)")
    latest: dt.date | None = Field(default=None, description="last possible date, when the date is uncertain")
    note: str = ""

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.latest is not None and self.latest < self.date:
            raise ValueError(f"latest ({self.latest}) is before date ({self.date})")
        return self


class MediatorEntry(EventBase):
    """`type: mediator_entry`: a mediator is present from this date, replacing any other.

    `mediator` names it (`mediator.name` or one of `other_mediators`); empty means the principal one.
    """

    type: Literal["mediator_entry"]
    mediator: str = Field(default="", description="the mediator who enters; empty = `mediator:`")


class ForcesChange(EventBase):
    """`type: forces_change`: the regime's force here changes (troops freed from or sent to other fronts)."""

    type: Literal["forces_change"]
    delta: bounded(
        Real,
        "change in force here (+ freed from other fronts, - sent elsewhere)",
        low=-100.0,
        high=100.0,
        why="force is at most 100 offensives' worth (regime.force_here)",
    )


class AidConvoy(EventBase):
    """`type: aid_convoy`: a one-off convoy brings `food_days` of food to the localities still holding out."""

    type: Literal["aid_convoy"]
    food_days: bounded(NonNegative, "food it brings, in days of consumption", high=DAYS, why=DAYS_WHY)


class AidCut(EventBase):
    """`type: aid_cut`: aid stops from this date; a truce that promised aid loses it (a reneged core term)."""

    type: Literal["aid_cut"]


class Campaign(EventBase):
    """`type: campaign`: an offensive begins: it ends any truce and raises escalation to `escalation`."""

    type: Literal["campaign"]
    escalation: Share = Field(description="bombardment level the offensive raises to")


class Corridor(EventBase):
    """`type: corridor`: the lines open for `days` (a corridor, or a UN humanitarian evacuation).

    While open, households that want a way out flee (`behaviour.flight_rate`), the least hard-line first;
    men screened at the crossing are held (`detained_share` of those who leave).
    """

    type: Literal["corridor"]
    days: bounded(Days, "days the corridor stays open", high=DAYS, why=DAYS_WHY)
    detained_share: Share = Field(
        description="share of those who leave through it who are detained at screening (0 = no screening)"
    )
    guarantor: str = Field(
        default="regime",
        min_length=1,
        description="who stands behind safe passage: `regime` (the default: its word alone), or the name of "
        "one of the scenario's mediators (its `guarantor` then makes the crossing more credible while it is "
        "present; not identity `none`)",
    )


class OutsideAgreement(EventBase):
    """`type: outside_agreement`: outsiders sign a truce for committees under siege (Cairo, 2017)."""

    type: Literal["outside_agreement"]
    legitimacy: Share = Field(description="how far residents accept a deal signed by outsiders")
    release_pledged: bounded(Count, "detainees the outsiders' deal pledges", high=PEOPLE, why=PEOPLE_WHY)


class DetaineeList(EventBase):
    """`type: detainee_list`: a new list; `listed` replaces the count (never below those already released)."""

    type: Literal["detainee_list"]
    listed: bounded(Count, "names on the new list", high=PEOPLE, why=PEOPLE_WHY)


ScheduledEvent = Annotated[
    MediatorEntry | ForcesChange | AidConvoy | AidCut | Campaign | Corridor | OutsideAgreement | DetaineeList,
    Field(discriminator="type"),
]


class Scenario(Section):
    """A besieged area, its actors and what is known to happen to it, by date."""

    name: str
    description: str = ""
    start: dt.date = Field(
        ge=EARLIEST, le=LATEST, description="first simulated day; 1900 to 2100, so every run date is a date"
    )
    horizon_days: bounded(Days, "days simulated", high=DAYS, why=DAYS_WHY)
    regime: Regime
    mediators: Mediators
    mediator: Mediator
    other_mediators: list[OtherMediator] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="mediators besides the principal one"
    )
    committees: list[Committee] = Field(min_length=1, max_length=MAX_ITEMS)
    factions: list[Faction] = Field(min_length=1, max_length=MAX_ITEMS)
    residents: list[ResidentGroup] = Field(min_length=1, max_length=MAX_ITEMS)
    behaviour: Behaviour
    detainees: Detainees
    aid: Aid
    packages: Packages
    events: list[ScheduledEvent] = Field(default_factory=list, max_length=MAX_EVENTS)
    outcomes: Outcomes

    @model_validator(mode="after")
    def _consistent(self) -> Self:
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
        family = self.behaviour.family_per_fighter.value
        if fighters * (1.0 + family) > people:
            raise ValueError(
                f"{fighters:,} fighters with {family:g} family members each (behaviour.family_per_fighter) "
                f"are {fighters * (1.0 + family):,.0f} people, more than the {people:,} residents"
            )
        mediators = [self.mediator, *self.other_mediators]
        names = [m.name for m in mediators]
        if len(set(names)) != len(names):
            raise ValueError(f"mediator names must be unique, found {names}")
        for m in mediators:
            if m.identity is MediatorIdentity.NONE and m.present_at_start:
                raise ValueError(f"mediator {m.name!r} has identity none: it cannot be present_at_start")
        for faction in self.factions:
            designation = faction.outside_every_deal
            if designation is not None and designation.designated >= self.start:
                raise ValueError(
                    f"faction {faction.name!r} is outside_every_deal from {designation.designated}, "
                    f"not before the start ({self.start}): a scenario holds only what was known at its start"
                )
        end = self.end
        for event in self.events:
            if isinstance(event, MediatorEntry):
                who = event.mediator or self.mediator.name
                entering = next((m for m in mediators if m.name == who), None)
                if entering is None:
                    raise ValueError(
                        f"mediator_entry names unknown mediator {who!r} (known: {', '.join(names)})"
                    )
                if entering.identity is MediatorIdentity.NONE:
                    raise ValueError(f"mediator_entry on {event.date}: {who!r} has identity none")
            if isinstance(event, Corridor) and event.guarantor != "regime":
                behind = next((m for m in mediators if m.name == event.guarantor), None)
                if behind is None:
                    raise ValueError(
                        f"corridor on {event.date}: guarantor {event.guarantor!r} is neither `regime` nor a "
                        f"mediator (known: {', '.join(names)})"
                    )
                if behind.identity is MediatorIdentity.NONE:
                    raise ValueError(
                        f"corridor on {event.date}: guarantor {event.guarantor!r} has identity none "
                        "(no one to stand behind the passage): use `regime` or a mediator with an identity"
                    )
            for date in (event.date, event.latest or event.date):
                if not self.start <= date <= end:
                    raise ValueError(
                        f"event {event.type} on {date} is outside the run ({self.start} to {end})"
                    )
        return self

    @property
    def end(self) -> dt.date:
        """The last simulated date: `start` plus `horizon_days` - 1 (events must fall on or before it)."""
        return self.start + dt.timedelta(days=self.horizon_days.value - 1)
