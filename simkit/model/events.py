"""The typed, dated event log a run produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EventType(StrEnum):
    """Everything a run can record; documented trajectories use the same names."""

    # exogenous, scheduled by date in the scenario
    MEDIATOR_ENTRY = "mediator_entry"
    FORCES_CHANGE = "forces_change"
    AID_CUT = "aid_cut"
    CAMPAIGN = "campaign"
    CORRIDOR = "corridor"
    DETAINEE_LIST = "detainee_list"
    # negotiation
    TALKS_HELD = "talks_held"
    PACKAGE_OFFERED = "package_offered"
    PACKAGE_REJECTED = "package_rejected"
    CEASEFIRE_DECLARED = "ceasefire_declared"
    AGREEMENT_SIGNED = "agreement_signed"
    AGREEMENT_DEFUNCT = "agreement_defunct"
    TERM_IMPLEMENTED = "term_implemented"
    TERM_RENEGED = "term_reneged"
    DETAINEES_RELEASED = "detainees_released"
    # violence
    VIOLATION = "violation"
    RETALIATION = "retaliation"
    ESCALATION = "escalation"
    ULTIMATUM = "ultimatum"
    OFFENSIVE = "offensive"
    OFFENSIVE_ENDED = "offensive_ended"
    GROUND_TAKEN = "ground_taken"
    CEASEFIRE_COLLAPSED = "ceasefire_collapsed"
    CEASEFIRE_LAPSED = "ceasefire_lapsed"
    # people and supplies
    AID_CONVOY = "aid_convoy"
    AID_BLOCKED = "aid_blocked"
    EVACUATION_CONVOY = "evacuation_convoy"
    FLIGHT = "flight"
    PROTEST = "protest"
    FRAGMENTATION = "fragmentation"
    # endings
    CONTROL = "control"
    OUTCOME = "outcome"


@dataclass(frozen=True)
class EventInfo:
    """What one event type means, what its `actor`, `count` and `detail` columns hold, and how it reads.

    `says` is the sentence a story prints (simkit/story.py); `variants` replace it for particular
    details, looked up by the detail (or its first word), prefixed by "regime " when the regime is
    the actor. Placeholders: {actor} {count} {detail} {committee}, and the state at that moment:
    {pressure} {trust} {strain} {food_days} {hardship} {force} {escalation} {listed} {released}
    {population}, {value}, the number after "=" in a detail such as `fighters=300`, and {s}, a plural
    ending for {count} (docs/events.md lists them).
    """

    meaning: str
    actor: str
    count: str
    detail: str
    says: str
    variants: Mapping[str, str] = field(default_factory=dict)


EVENTS: dict[EventType, EventInfo] = {
    EventType.MEDIATOR_ENTRY: EventInfo(
        "a mediator starts mediating, replacing any other (a scenario event); talks then run at its "
        "talks rate, with its leverage, bias and guarantor",
        "the entering mediator's name", "0", "the scenario's note",
        "{actor} entered as mediator ({detail}).",
    ),
    EventType.FORCES_CHANGE: EventInfo(
        "regime forces arrive on or leave this front (a scenario event)",
        "regime",
        "change in the regime's force here, in % of what a full offensive needs (+ arrive, - leave)",
        "the scenario's note",
        "Regime forces here changed by {count:+d}% of an offensive's strength, to {force:.0%} ({detail}).",
    ),
    EventType.AID_CUT: EventInfo(
        "the regime stops all aid from now on (a scenario event); truces that carried aid lose it",
        "regime", "0", "the scenario's note",
        "The regime cut off all aid ({detail}).",
    ),
    EventType.CAMPAIGN: EventInfo(
        "a documented offensive begins (a scenario event): it raises escalation to at least a level and "
        "launches an `offensive` on every area still holding out",
        "regime", "the campaign's escalation level, in % of full intensity", "the scenario's note",
        "The regime began an offensive at {count}% of full intensity ({detail}).",
    ),
    EventType.CORRIDOR: EventInfo(
        "the lines open for some days (a scenario event: corridors, or a humanitarian evacuation); "
        "households that want a way out flee",
        "regime", "days the corridor stays open", "the scenario's note",
        "Corridors opened for {count} days ({detail}).",
    ),
    EventType.DETAINEE_LIST: EventInfo(
        "the committee submits a new detainee list (a scenario event)",
        "committee", "names on the list now", "the scenario's note",
        "The committee submitted a list of {count:,} detainees ({detail}).",
    ),
    EventType.TALKS_HELD: EventInfo(
        "a round of talks is held with a committee (every round, including one that tables nothing: "
        "a round siding with the regime's surrender while no ultimatum stands)",
        "the mediator's name, or `direct` before a mediator is present",
        "0",
        "the committee's name",
        "Talks were held with {detail} ({actor}).",
        {"direct": "Direct talks were held with {detail}."},
    ),
    EventType.PACKAGE_OFFERED: EventInfo(
        "a truce is tabled in a round of talks, or surrender terms come with an ultimatum or, on an "
        "offensive begun with none standing (a scheduled campaign), while it runs (the only ways they reach "
        "a committee; they stand until signed or the offensive ends)",
        "`regime` (a truce, and surrender terms: the regime issues them itself)",
        "detainees the regime offers to free (truce); 0 (surrender: release is off the table)",
        "`truce`, or `surrender: evacuation (<committee>)` or `surrender: settlement in place (<committee>)` "
        "(the terms the regime chose, and the committee they are put to)",
        "{actor} tabled a {detail}.",
        {
            "truce": "The regime offered a truce: ceasefire, aid, and {count:,} of {listed:,} listed "
            "detainees freed in stages. {pressure:.0%} of households wanted a way out; the committee's "
            "trust in the regime's word stood at {trust:.2f}.",
            "surrender: evacuation": "{actor} put surrender terms to {committee}: the fighters and whoever "
            "will not stay leave on the buses, detainees off the table ({pressure:.0%} of households wanted "
            "a way out).",
            "surrender: settlement in place": "{actor} put a settlement to {committee}: amnesty, weapons "
            "handed over, most stay and refusers leave, detainees off the table ({pressure:.0%} of "
            "households wanted a way out).",
        },
    ),
    EventType.PACKAGE_REJECTED: EventInfo(
        "a tabled package is not signed; the actor is the side that declined",
        "`regime` (declined to sign a truce at the offered terms), a committee, or a vetoing faction",
        "detainees the declined truce offered to free; 0 for surrender terms",
        "`truce`, `surrender vetoed` (a faction blocked surrender terms the committee was ready to "
        "accept; logged once per tabling and faction, though it may block them on many days) or "
        "`surrender: no town adopted it`; a committee's refusal of surrender terms is no "
        "event (the terms stand until signed or withdrawn: an ultimatum's deadline brings the offensive, "
        "the offensive's end withdraws them)",
        "{actor} declined the {detail}.",
        {
            "regime truce": "The regime declined to sign a truce at those terms that day "
            "(its forces at {force:.0%} of an offensive's strength).",
            "truce": "{actor} turned the truce down: {pressure:.0%} of households wanted a way out, but "
            "trust in the regime's word was {trust:.2f}.",
            "surrender vetoed": "{actor} vetoed the surrender the committee was ready to accept.",
            "surrender: no town adopted it": "{actor} accepted surrender terms, but no town adopted them.",
        },
    ),
    EventType.CEASEFIRE_DECLARED: EventInfo(
        "a ceasefire takes effect for a committee's area",
        "the committee",
        "0",
        "`ceasefire` (declared by the mediator for surrender talks) or `outside` (an outsiders' deal)",
        "A ceasefire took effect for {actor} ({detail}).",
        {
            "ceasefire": "The mediator declared a ceasefire for {actor} while surrender terms were "
            "discussed.",
            "outside": "The ceasefire of the agreement signed elsewhere took effect for {actor}.",
        },
    ),
    EventType.AGREEMENT_SIGNED: EventInfo(
        "an agreement is signed",
        "the committee",
        "detainees promised (truce, outside); people registered to leave (surrender)",
        "`truce`, `outside` (signed by outsiders), or `surrender: <terms>` (`evacuation` or `settlement in "
        "place`), followed by `; detainee release dropped` when the red line was not met",
        "{actor} signed an agreement ({detail}).",
        {
            "truce": "{actor} signed a truce promising the release of {count:,} detainees, with "
            "{pressure:.0%} of households wanting a way out, trust at {trust:.2f} and {food_days:.0f} days "
            "of food left.",
            "outside": "An agreement was signed for {actor} by outsiders, pledging {count:,} detainees.",
            # no pressure here: the day's state is read after the towns that adopted the terms stopped
            # holding out, so it would say 0% (the offer's line gives the share when the terms were weighed)
            "surrender": "{actor} accepted surrender ({detail}): {count:,} people registered to leave on "
            "the buses ({released:,} of {listed:,} detainees freed by then).",
        },
    ),
    EventType.AGREEMENT_DEFUNCT: EventInfo(
        "an outsiders' agreement is found not to bind the area; talks may resume",
        "the committee", "0", "the reason",
        "The agreement signed for {actor} was found defunct: {detail}.",
    ),
    EventType.TERM_IMPLEMENTED: EventInfo(
        "a term of an agreement is carried out",
        "`regime` (release, aid) or the committee (fighters out)",
        "detainees freed (release); 0 (aid); fighters who left (fighters out)",
        "`release`, `aid` or `fighters out`",
        "A term was carried out: {detail}.",
        {
            "release": "The regime delivered at least half of the release stage due ({count:,} freed).",
            "aid": "The regime let the agreed aid through.",
            "fighters out": "{count:,} fighters left under the truce.",
        },
    ),
    EventType.TERM_RENEGED: EventInfo(
        "the regime delivers less than `partial_release_max_share` of a term (one half in every scenario)",
        "regime",
        "detainees freed though less than half the stage was (release); 0 (aid)",
        "`release` or `aid`",
        "The regime reneged on a term: {detail}.",
        {
            "release": "The regime reneged on the release: {count:,} freed, less than half of the stage "
            "due.",
            "aid": "The regime held back the aid the agreement promised.",
        },
    ),
    EventType.DETAINEES_RELEASED: EventInfo(
        "detainees are freed under an agreement",
        "regime", "detainees freed", "the committee's name",
        "{count:,} detainees were freed ({released:,} of {listed:,} so far).",
    ),
    EventType.VIOLATION: EventInfo(
        "a breach of a truce; it adds strain to the committee's deal",
        "`regime` or a faction",
        "0",
        "the committee whose truce was breached, or `response to <faction>` (the regime shelling back)",
        "{actor} breached the truce.",
        {"regime response": "The regime shelled back ({detail})."},
    ),
    EventType.RETALIATION: EventInfo(
        "a faction answers a regime violation",
        "the faction", "0", "the committee whose truce was breached",
        "{actor} retaliated.",
    ),
    EventType.ESCALATION: EventInfo(
        "the regime steps up its bombardment",
        "regime",
        "the escalation level after the step, in % of full intensity",
        "the cause (`talks failed`, `ceasefire collapsed`, `attack by <faction>`, ...)",
        "The regime stepped up its bombardment to {count}% of full intensity ({detail}).",
    ),
    EventType.ULTIMATUM: EventInfo(
        "the regime, with force for an offensive, puts surrender terms to a committee with a deadline",
        "regime", "days to the deadline", "the committee's name",
        "The regime gave {detail} {count} days to accept surrender terms or face an assault.",
    ),
    EventType.OFFENSIVE: EventInfo(
        "an assault on a committee's area begins: any truce ends, bombardment at the offensive's level, "
        "and the regime may storm the area; surrender terms standing stay on the table while it runs",
        "regime",
        "the offensive's level, in % of full intensity",
        "`<committee>: <cause>` (`ultimatum refused` or `scheduled offensive`)",
        "The regime launched an offensive on {detail} ({count}% of full intensity, force at {force:.0%} "
        "of an offensive's strength).",
    ),
    EventType.OFFENSIVE_ENDED: EventInfo(
        "the regime pauses its offensive on a committee's area (the day after its last day), or stops it "
        "because a truce was signed for the area (an outsiders' deal; logged right after the signing): "
        "the threat of the assault lifts and any surrender terms it carried are withdrawn; not logged "
        "when the area settles during the offensive (a signed surrender, a takeover): the offensive "
        "simply stops",
        "regime", "0", "the committee's name",
        "The regime paused its offensive on {detail} (any surrender terms it carried were withdrawn).",
    ),
    EventType.GROUND_TAKEN: EventInfo(
        "an offensive has taken another tenth of a locality's original area: its people crowd into the "
        "rest, and its farmland is lost",
        "the locality",
        "% of its original area still held",
        "`offensive`",
        "The offensive took ground in {actor}: {count}% of its area is still held.",
    ),
    EventType.CEASEFIRE_LAPSED: EventInfo(
        "a truce ends without either side breaking it: a ceasefire declared for the talks at an "
        "ultimatum's deadline as the offensive begins, or any truce in force when the committee signs a "
        "surrender (logged right after the signing, which replaces it); not a collapse (not counted in "
        "`agreements_collapsed`), and no lesson about the regime's word",
        "the committee",
        "0",
        "`ultimatum deadline` or `superseded by surrender`",
        "The truce for {actor} lapsed: {detail}.",
        {
            "ultimatum deadline": "The ceasefire for the talks with {actor} lapsed at the ultimatum's "
            "deadline.",
            "superseded by surrender": "The truce for {actor} ended with the surrender it signed.",
        },
    ),
    EventType.CEASEFIRE_COLLAPSED: EventInfo(
        "a truce ends and the siege resumes",
        "the committee",
        "0",
        "the reason (`release reneged`, `aid reneged`, `violations beyond what the committee can sell`, "
        "`regime offensive`)",
        "The truce for {actor} collapsed: {detail}.",
        {
            "release reneged": "{actor} walked out of the truce: the release fell short of the promise "
            "(pressure {pressure:.0%}).",
            "aid reneged": "{actor} walked out of the truce: the aid it promised was withheld "
            "(pressure {pressure:.0%}).",
            "violations beyond what the committee can sell": "The truce for {actor} collapsed under "
            "violations beyond what the committee could sell (strain {strain:.1f}).",
            "regime offensive": "The regime's offensive ended the truce for {actor} ({force:.0%} of an "
            "offensive's strength).",
        },
    ),
    EventType.AID_CONVOY: EventInfo(
        "an aid convoy reaches the people holding out",
        "`aid`",
        "days of food it brings per resident",
        "the committee's name, or the scenario's note for a dated convoy",
        "An aid convoy brought {count} days of food per resident ({detail}); {food_days:.0f} days of "
        "food on hand.",
    ),
    EventType.AID_BLOCKED: EventInfo(
        "a convoy due is stopped",
        "regime", "0", "the committee's name",
        "The regime blocked the aid convoy due for {detail}; {food_days:.0f} days of food on hand.",
    ),
    EventType.EVACUATION_CONVOY: EventInfo(
        "buses leave with fighters and civilians",
        "the committee",
        "people who left on this convoy",
        "`<agreement>; fighters=<number of fighters among them>`, the agreement the buses serve being "
        "`truce` (a truce's wave of fighters) or `surrender` (a bus of a signed surrender)",
        "{count:,} people left on the buses ({value} of them fighters).",
        {
            "truce": "{count:,} people left on the buses in a wave of the truce ({value} of them fighters).",
            "surrender": "{count:,} people left on the buses under the surrender ({value} of them fighters).",
        },
    ),
    EventType.FLIGHT: EventInfo(
        "people flee through open lines while a scheduled corridor is open",
        "the locality",
        "people who left that day (fled and detained)",
        "`detained=<number held at screening among them>`",
        "{count:,} people fled {actor} through the lines ({value} detained at screening).",
    ),
    EventType.PROTEST: EventInfo(
        "residents who back the hard line protest after their committee refused terms",
        "the committee", "0", "the cause",
        "Residents protested {detail}.",
    ),
    EventType.FRAGMENTATION: EventInfo(
        "towns split over surrender terms: some adopt them, some hold out",
        "the committee", "towns that held out", "`towns split over the offer`",
        "{count} town{s} under {actor} refused the terms the others adopted.",
    ),
    EventType.CONTROL: EventInfo(
        "the regime takes control of a town",
        "regime",
        "people in the town when it was settled",
        "`<town>: <how>` (surrender_evacuation, reconciliation, military_takeover)",
        "The regime took control of {detail} ({count:,} people there).",
    ),
    EventType.OUTCOME: EventInfo(
        "the run ends; its outcome class",
        "`model`", "0", "the outcome class",
        "The run ended in {detail}.",
    ),
}
"""Every event type, once: docs/events.md is generated from this table, and stories read it."""


class EventLog:
    """Append-only, in day order: rows are (day, type, actor, count, detail)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str, int, str]] = []

    def add(self, day: int, kind: EventType, actor: str, count: int = 0, detail: str = "") -> None:
        """Append one row, in day order; `count` is a whole number (people, names, or a percentage)."""
        self.rows.append((day, kind._value_, actor, int(count), detail))  # `value`, without its property call

    def __len__(self) -> int:
        return len(self.rows)

    def days_of(self, kind: EventType) -> list[int]:
        """Days on which an event of `kind` was logged, in order (a day repeats if it happened twice)."""
        return [row[0] for row in self.rows if row[1] == kind.value]
