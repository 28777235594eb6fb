"""One run, from a scenario and a seed to plain records; and the seed of run i of an ensemble.

(Named single_run, not simulate, so that `simkit.simulate` stays the function, not this module.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simkit.model import SERIES, SiegeModel
from simkit.scenario import Scenario


def run_seed(master_seed: int, index: int) -> int:
    """Seed of run `index`: a function of (master seed, index) only, so worker count cannot change it."""
    return int(np.random.SeedSequence([master_seed, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


NULLABLE_COLUMNS: dict[str, pa.DataType] = {
    "deal_day": pa.int64(),
    "deal_date": pa.date32(),
    "control_day": pa.int64(),
    "control_date": pa.date32(),
}
"""Run columns that may be null, with their Arrow types (a batch where all are null keeps the type)."""


def runs_table(rows: list[dict]) -> pa.Table:
    """Rows of runs as an Arrow table whose nullable columns keep their types.

    Arrow infers the type `null` for a column with no value in it (a batch of
    runs none of which reached a deal); such a part could not be merged with
    one that has values, so those columns are cast to their declared types.
    """
    table = pa.Table.from_pylist(rows)
    for name, kind in NULLABLE_COLUMNS.items():
        i = table.schema.get_field_index(name)
        if i >= 0 and table.schema.field(i).type != kind:
            table = table.set_column(i, name, table.column(i).cast(kind))
    return table


@dataclass
class RunRecord:
    """What one run produced: its outcome row, its event rows and (optionally) its daily series."""

    run: dict
    events: list[tuple]
    series: dict[str, np.ndarray] | None


def simulate(scenario: Scenario, seed: int, index: int = 0, series: bool = False) -> RunRecord:
    """Run the model once to its ending; `index` only labels the records."""
    model = SiegeModel(scenario, rng=seed, record_series=series)
    outcome = model.run()
    row = {"run": index, "seed": seed, **outcome.as_row()}
    events = [
        (index, day, model.date(day), kind, actor, count, detail)
        for day, kind, actor, count, detail in model.events.rows
    ]
    daily = None
    if series:
        days = outcome.outcome_day + 1
        daily = {name: model.series[name][:days] for name in SERIES}
        daily["day"] = np.arange(days)
    return RunRecord(row, events, daily)
