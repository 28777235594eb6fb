"""The typed, dated event log a run produces."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Everything a run can record; documented trajectories use the same names."""

    # exogenous, scheduled by date in the scenario
    MEDIATOR_ENTRY = "mediator_entry"
    FORCES_CHANGE = "forces_change"
    AID_CUT = "aid_cut"
    CAMPAIGN = "campaign"
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
    CEASEFIRE_COLLAPSED = "ceasefire_collapsed"
    # people and supplies
    AID_CONVOY = "aid_convoy"
    AID_BLOCKED = "aid_blocked"
    EVACUATION_CONVOY = "evacuation_convoy"
    PROTEST = "protest"
    FRAGMENTATION = "fragmentation"
    # endings
    CONTROL = "control"
    OUTCOME = "outcome"


class EventLog:
    """Append-only, in day order: rows are (day, type, actor, count, detail)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str, int, str]] = []

    def add(self, day: int, kind: EventType, actor: str, count: int = 0, detail: str = "") -> None:
        """Append one row, in day order; `count` is a whole number (people, names, or a percentage)."""
        self.rows.append((day, kind.value, actor, int(count), detail))

    def __len__(self) -> int:
        return len(self.rows)

    def days_of(self, kind: EventType) -> list[int]:
        """Days on which an event of `kind` was logged, in order (a day repeats if it happened twice)."""
        return [row[0] for row in self.rows if row[1] == kind.value]
