"""`simkit score`: run every case of a case set and score its forecasts against the documented endings."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from simkit.cli.app import (
    SET_HELP,
    PlotsOption,
    QuietOption,
    app,
    check_options,
    command_line,
    out_folder,
    parse_overrides,
    user_errors,
)


@app.command()
@user_errors
def score(
    caseset: Annotated[
        Path, typer.Argument(help="Case set YAML, e.g. cases/library.yaml.", show_default=False)
    ],
    runs: Annotated[int, typer.Option("--runs", "-n", help="Runs per case.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Master seed (the same for every case).")] = 1,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Result folder (default: results/score-<case set file name>)."),
    ] = None,
    posterior: Annotated[
        Path | None,
        typer.Option(
            "--posterior",
            "-p",
            help="Draw each run's behavioural parameters from this posterior, as simkit forecast does: "
            "posterior.parquet of simkit calibrate, or its result folder.",
            show_default=False,
        ),
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help=SET_HELP + " Applies to every case.")
    ] = None,
    plots: PlotsOption = True,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace a different score (another case set, seed, --set or posterior), or another result "
            "of simkit's, found in --out: the files its manifest lists go (never your own), and each case's "
            "folder is rerun when its ensemble differs.",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Score the model on documented cases: class, deal-date and evacuated forecasts against baselines.

    Runs every case of the case set (each into OUT/cases/<id>/, resumable like
    simkit run; with --posterior, as simkit forecast) and scores, per case and
    pooled: the probability of each outcome class and of the documented one,
    the multiclass Brier and log (ignorance, bits) scores; the CRPS, median and
    50/80% intervals of the deal date (runs without a deal by the horizon are
    censored at it) and of the number evacuated under the surrender (its
    convoys only, as the cases document it; not truce departures). Every score is also given for
    the baselines (uniform classes; the other cases' outcome base rate; the
    other cases' siege-to-deal durations and evacuated shares) with the skill
    1 - score / baseline. Writes scores.parquet, scores.json, manifest.json and
    scores.png. Formulas and rules: docs/scoring.md.
    """
    from simkit.report import progress_bar
    from simkit.scoring.caseset import load_caseset
    from simkit.scoring.evaluate import (
        load_cases,
        manifest,
        run_cases,
        score_cases,
        score_folder,
        write_scores,
    )

    loaded = load_caseset(caseset)
    overrides = parse_overrides(set_)
    scenarios = load_cases(loaded, overrides)
    particles = None
    if posterior is not None:
        from simkit.calibration.forecast import load_posterior

        particles = load_posterior(posterior)
    check_options(runs, seed, workers)
    out = out_folder(out, Path("results") / f"score-{caseset.stem}")
    command = command_line()

    @contextmanager
    def progress(case_id: str, name: str):
        with progress_bar(runs, name, enabled=not quiet) as advance:
            yield advance

    info = manifest(loaded, scenarios, runs, seed, overrides, particles, command)
    with score_folder(out, info, overwrite) as folder:  # one writer from the first run to the figure
        folder.save()  # first: the folder is known as this score while its cases run
        forecasts = run_cases(
            loaded, scenarios, runs, seed, workers, out,
            posterior=particles, progress=progress, command=command, overwrite=overwrite,
        )  # fmt: skip
        cases = loaded.caseset.cases
        table, details = score_cases(cases, forecasts)
        written = write_scores(folder, table, details)
        if plots:
            from simkit.scoring.figures import plot_scores

            written.append(plot_scores(details, folder.path("scores.png"), title=loaded.caseset.name))
        folder.finish()
    if quiet:
        return
    from simkit.scoring.report import print_scores

    print_scores(table, details, title=f"{loaded.caseset.name}: {runs} runs per case, seed {seed}")
    typer.echo(f"wrote {out}/: " + ", ".join(p.name for p in written) + ", cases/<id>/", file=sys.stdout)
