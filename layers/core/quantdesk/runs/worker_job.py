"""The worker's job: load the data a scenario needs, compute it, store the payload.

A universe too large for one function runs sharded (``quantdesk.runs.shards``): the plan,
shard and reduce jobs there reuse :class:`RunJob` (readiness, progress, the stored result).

Progress and the result are written to the run item (each write becomes a stream event); the
terminal status is written by the state machine. Errors propagate with their own type so the
state machine's Catch records a readable reason.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from quantdesk.clock import now_iso
from quantdesk.datalake.reader import check_readiness, load_scenario_data
from quantdesk.observability import logger
from quantdesk.reports.artifacts import write_artifacts
from quantdesk.runs.models import Progress
from quantdesk.runs.repository import NotActive, RunRepository
from quantdesk.runs.results import ResultStore, summarise
from quantdesk.settings import Settings
from scenarios.base import ScenarioParams, ScenarioResult, ScenarioSpec
from scenarios.registry import get_spec, runner


class RunCancelled(Exception):
    """The run left the running state (cancelled) while the worker was computing."""


class UnknownScenario(Exception):
    """The execution names a scenario this code version does not know."""


class DataNotReady(Exception):
    """The data the scenario needs is missing or stale."""


@dataclass(frozen=True)
class RunJob:
    """One job of a run (the single worker's, or a sharded run's plan, shard or reduce): its
    validated parameters and the run item it reports to."""

    run_id: str
    spec: ScenarioSpec
    params: ScenarioParams
    settings: Settings
    repo: RunRepository

    @classmethod
    def open(
        cls, run_id: str, scenario_id: str, raw_params: dict[str, Any], settings: Settings
    ) -> RunJob:
        spec = get_spec(scenario_id)
        if spec is None:
            raise UnknownScenario(f"unknown scenario {scenario_id!r}")
        params = spec.params_model.model_validate(raw_params)
        return cls(run_id, spec, params, settings, RunRepository(settings.table_name))

    @property
    def scenario_id(self) -> str:
        return self.spec.scenario_id

    @property
    def datasets(self) -> tuple[str, ...]:
        datasets = tuple(self.spec.datasets)
        if self.params.sector and "sectors" not in datasets:
            datasets = (*datasets, "sectors")  # a sector filter needs the classification
        return datasets

    def progress(self, step: str, percent: float, message: str) -> None:
        try:
            self.repo.record_progress(
                self.run_id, Progress(step=step, percent=percent, message=message), now_iso()
            )
        except NotActive as exc:
            raise RunCancelled(f"run {self.run_id} is no longer running") from exc

    def check_data(self) -> tuple[dt.date, dt.date | None]:
        """Report the lake's readiness; the ``(start, end)`` of the history to load."""
        params = self.params
        universe = ", ".join(params.tickers) if params.tickers else params.universe
        self.progress("checking_data", 5, f"Checking {', '.join(self.datasets)} for {universe}")
        # the history these parameters need (warm-up included), not a fixed window per scenario
        end = params.as_of
        readiness = check_readiness(
            self.datasets,
            universe=params.universe,
            tickers=params.tickers,
            start=self.spec.history_start(params, end or dt.date.today()),
            end=end,
        )
        self.progress("data_ready" if readiness.ready else "data_missing", 15, readiness.message)
        if not readiness.ready:
            raise DataNotReady(readiness.message)
        prices = next((d for d in readiness.datasets if d.dataset == "prices"), None)
        last_date = end or (prices.last_date if prices else None) or dt.date.today()
        return self.spec.history_start(params, last_date), end

    def store_result(
        self, result: ScenarioResult, snapshots: dict[str, str], timings: dict[str, float]
    ) -> dict[str, Any]:
        """Store the payload, the report and exports, and the run item's result (the tail
        the single worker and a sharded run's reduce share)."""
        self.progress("storing_result", 90, f"{len(result.rows)} rows computed")
        body = result.model_dump_json().encode()
        key = ResultStore(self.settings.results_bucket).put(self.run_id, body)
        run = self.repo.get(self.run_id)
        if run is None:
            raise RunCancelled(f"run {self.run_id} is no longer stored")
        started = time.perf_counter()
        manifest = run.manifest.model_copy(update={"data_snapshots": snapshots, "timings": timings})
        artifacts = write_artifacts(
            self.settings.results_bucket, run.model_copy(update={"manifest": manifest}), result
        )
        artifacts_s = round(time.perf_counter() - started, 4)
        try:
            self.repo.record_result(
                self.run_id,
                result_key=key,
                summary=summarise(result.model_dump(mode="json")),
                snapshots=snapshots,
                timings=timings,
                artifacts=artifacts,
                now=now_iso(),
            )
        except NotActive as exc:
            raise RunCancelled(f"run {self.run_id} is no longer running") from exc
        logger.info(
            "run computed",
            extra={"rows": len(result.rows), "artifacts_s": artifacts_s, **timings},
        )
        return {"result_key": key, "rows": len(result.rows)}


def execute(
    run_id: str, scenario_id: str, raw_params: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The single worker: the whole universe in one function."""
    job = RunJob.open(run_id, scenario_id, raw_params, settings)
    params = job.params
    start, end = job.check_data()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data, snapshots = load_scenario_data(
        job.datasets, universe=params.universe, tickers=params.tickers, start=start, end=end
    )
    timings["load_s"] = round(time.perf_counter() - started, 4)
    job.progress(
        "computing",
        40,
        f"{data.prices['symbol'].nunique()} assets, {len(data.prices)} price rows loaded",
    )
    started = time.perf_counter()
    result = runner(scenario_id)(data, params)
    timings["compute_s"] = round(time.perf_counter() - started, 4)
    return job.store_result(result, snapshots, timings)
