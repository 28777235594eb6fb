"""Scoring forecasts against documented cases: case sets, proper scores, baselines (`simkit score`).

Modules: `caseset` (the case set file), `rules` (Brier, log score, CRPS, intervals, skill),
`baselines` (leave-one-case-out references), `evaluate` (run the cases, score, write),
`report` (terminal tables) and `figures` (scores.png). docs/scoring.md has every formula.
"""
