"""The siege-negotiation agent-based model on Mesa."""

from simkit.model.events import EventLog, EventType
from simkit.model.model import SERIES, SiegeModel
from simkit.model.outcomes import ATTRIBUTES, OUTCOMES, Outcome, RunOutcome

__all__ = ["ATTRIBUTES", "OUTCOMES", "SERIES", "EventLog", "EventType", "Outcome", "RunOutcome", "SiegeModel"]
