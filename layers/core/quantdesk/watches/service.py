"""What the API and the watch functions do with watches: create, list, pause, delete; fire on
a new snapshot or a schedule; evaluate a firing's result against the previous one."""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError

from quantdesk.clock import now_iso
from quantdesk.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    from_validation_error,
    quoted,
)
from quantdesk.observability import logger
from quantdesk.runs import tokens
from quantdesk.runs.ids import new_run_id
from quantdesk.runs.models import RunRequest
from quantdesk.runs.service import RunService
from quantdesk.schedule_expressions import shortest_interval
from quantdesk.settings import Settings
from quantdesk.watches.alerts import AlertDelivery
from quantdesk.watches.diff import describe, diff_results
from quantdesk.watches.models import (
    Alert,
    AlertPage,
    Threshold,
    Watch,
    WatchCreated,
    WatchList,
    WatchRequest,
    WatchState,
    WatchView,
)
from quantdesk.watches.repository import WatchRepository
from quantdesk.watches.schedules import WatchSchedules
from quantdesk.watches.secrets import WatchSecrets
from quantdesk.watches.settings import WatchSettings
from quantdesk.watches.webhooks import WebhookRefused, check_url
from scenarios.registry import get_spec

#: the inbox's unread count covers the newest alerts only
INBOX_WINDOW = 100


class WatchService:
    def __init__(self, settings: Settings, watch_settings: WatchSettings) -> None:
        self.settings = watch_settings
        self.runs = RunService(settings)
        self.repo = WatchRepository(settings.table_name)
        self.schedules = WatchSchedules(watch_settings)
        self.secrets = WatchSecrets(watch_settings.secrets_key_id)
        self.delivery = AlertDelivery(self.repo, watch_settings, self.secrets)

    # -- the API ------------------------------------------------------------------------------

    def create(self, request: WatchRequest, owner: str) -> WatchCreated:
        scenario_id, params, source_run_id = self._source(request, owner)
        self._check_trigger(request)
        self._check_channels(request)
        spec = get_spec(scenario_id)
        if spec is None:
            raise NotFound(f"unknown scenario {quoted(scenario_id)}", field="scenario_id")
        datasets = list(spec.datasets)
        if params.get("sector") and "sectors" not in datasets:
            datasets.append("sectors")  # a sector filter reads the classification too
        # the scenario's own thresholds (e.g. RSI oversold/overbought) unless the request names some
        thresholds = request.thresholds or [
            Threshold(column=column, value=float(value))
            for column, param in spec.alert_thresholds
            if isinstance(value := params.get(param), int | float)
        ]
        now = now_iso()
        watch_id = new_run_id()
        secret, sealed = self.secrets.new(watch_id)
        watch = Watch(
            watch_id=watch_id,
            owner=owner,
            scenario_id=scenario_id,
            params=params,
            datasets=datasets,
            trigger=request.trigger,
            channels=request.channels,
            rank_threshold=request.rank_threshold,
            thresholds=thresholds,
            state="active",
            created_at=now,
            updated_at=now,
            source_run_id=source_run_id,
            baseline_run_id=source_run_id,
            secret_sealed=sealed,
        )
        self.delivery.subscribe(watch)
        self.repo.create(watch)
        try:
            self.schedules.put(watch, create=True)
        except Exception:
            self.repo.delete(watch)  # a watch that would never fire is not kept
            raise
        return WatchCreated.model_validate({**dict(watch), "webhook_secret": secret})

    def _source(
        self, request: WatchRequest, owner: str
    ) -> tuple[str, dict[str, object], str | None]:
        """The scenario and validated params to re-run, and the run they come from."""
        if (request.run_id is None) == (request.scenario_id is None):
            raise InvalidRequest(
                'give either "run_id" or "scenario_id" (with "params")', field="run_id"
            )
        if request.run_id is not None and request.params is not None:
            raise InvalidRequest('"params" goes with "scenario_id", not "run_id"', field="params")
        if request.run_id is not None:
            run = self.runs.owned(request.run_id, owner)
            if run.status != "succeeded":
                raise Conflict(
                    f"run {run.run_id} is {run.status}: only a succeeded run can be watched",
                    field="run_id",
                )
            # a watch follows the latest data: the run's fixed date, if any, is dropped
            params = {k: v for k, v in run.manifest.params.items() if k != "as_of"}
            return run.scenario_id, params, run.run_id
        scenario_id = str(request.scenario_id)
        spec = get_spec(scenario_id)
        if spec is None:
            raise NotFound(f"unknown scenario {quoted(scenario_id)}", field="scenario_id")
        try:
            validated = spec.params_model.model_validate(request.params or {})
        except ValidationError as exc:
            raise from_validation_error(exc, prefix="params") from exc
        # the same universe check as a run's (the lake's universes)
        self.runs._check_universe(validated)
        if validated.as_of is not None:
            raise InvalidRequest(
                "params.as_of: a watch re-runs on the latest data; leave as_of out",
                field="params.as_of",
            )
        params = validated.model_dump(mode="json", exclude={"as_of"})
        return scenario_id, params, None

    def _check_trigger(self, request: WatchRequest) -> None:
        trigger = request.trigger
        if trigger.schedule is None:
            return
        minimum = dt.timedelta(minutes=self.settings.min_interval_minutes)
        try:
            shortest = shortest_interval(
                trigger.schedule, trigger.timezone, dt.datetime.now(dt.UTC)
            )
        except (ValueError, OverflowError) as exc:  # "rate(99999999999 days)" overflows
            raise InvalidRequest(f"trigger.schedule: {exc}", field="trigger.schedule") from exc
        if shortest < minimum:
            raise InvalidRequest(
                f"trigger.schedule fires every {shortest} at times; the minimum is "
                f"{self.settings.min_interval_minutes} minutes",
                field="trigger.schedule",
            )

    def _check_channels(self, request: WatchRequest) -> None:
        for index, channel in enumerate(request.channels):
            if channel.type != "webhook" or channel.url is None:
                continue
            try:
                check_url(channel.url, allow_loopback=self.settings.allow_loopback)
            except WebhookRefused as exc:
                field = f"channels.{index}.url"
                raise InvalidRequest(f"{field}: {exc}", field=field) from exc

    def owned(self, watch_id: str, owner: str) -> Watch:
        watch = self.repo.get(watch_id)
        if watch is None or watch.owner != owner:
            raise NotFound(f"no watch {quoted(watch_id)}", field="watch_id")
        return watch

    def describe(self, watch_id: str, owner: str) -> WatchView:
        return WatchView.model_validate(dict(self.owned(watch_id, owner)))

    def list_watches(self, owner: str) -> WatchList:
        watches = self.repo.list_for_owner(owner)
        return WatchList(watches=[WatchView.model_validate(dict(w)) for w in watches])

    def set_state(self, watch_id: str, owner: str, state: WatchState) -> WatchView:
        watch = self.owned(watch_id, owner)
        if watch.state != state:
            if not self.repo.update(watch_id, state=state, updated_at=now_iso()):
                raise NotFound(f"no watch {quoted(watch_id)}", field="watch_id")
            watch = self.owned(watch_id, owner)
            self.schedules.put(watch, create=False)
        return WatchView.model_validate(dict(watch))

    def delete(self, watch_id: str, owner: str) -> None:
        watch = self.owned(watch_id, owner)
        self.schedules.delete(watch)
        self.repo.delete(watch)

    # -- firing -------------------------------------------------------------------------------

    def fire(self, watch_id: str, occasion: str) -> str | None:
        """Start the watch's run for ``occasion`` (a snapshot id, a scheduled time: the same
        occasion never starts two runs). The run id, or None for a paused or deleted watch or
        when the owner's run limits are reached (the next occasion tries again)."""
        watch = self.repo.get(watch_id)
        if watch is None or watch.state != "active":
            logger.info("watch not fired", extra={"watch_id": watch_id, "occasion": occasion})
            return None
        request = RunRequest(scenario_id=watch.scenario_id, params=watch.params)
        try:
            run = self.runs.submit(
                request, watch.owner, f"watch:{watch_id}:{occasion}"[:128], watch_id=watch_id
            )
        except TooManyRequests:
            logger.warning("watch firing skipped: run limits", extra={"watch_id": watch_id})
            return None
        self.repo.update(watch_id, last_fired_at=now_iso())
        logger.info("watch fired", extra={"watch_id": watch_id, "fired_run_id": run.run_id})
        return run.run_id

    def snapshots_published(self, ingestion_id: str, datasets: list[str]) -> list[str]:
        """Fire every active snapshot watch reading one of ``datasets`` once."""
        watch_ids = sorted({w for dataset in datasets for w in self.repo.watching(dataset)})
        fired = [self.fire(w, f"snapshot:{ingestion_id}") for w in watch_ids]
        return [run_id for run_id in fired if run_id]

    # -- evaluating a firing ------------------------------------------------------------------

    def evaluate(self, run_id: str) -> Alert | None:
        """Diff a succeeded watch run against the watch's previous result; store and deliver
        an alert when something changed. The run then becomes the baseline. A run older than
        the baseline (finished late) is not compared backwards."""
        run = self.runs.repo.get(run_id)
        if run is None or run.watch_id is None or run.status != "succeeded" or not run.result_key:
            return None
        watch = self.repo.get(run.watch_id)
        previous_id = watch.baseline_run_id if watch else None
        if watch is None or (previous_id is not None and previous_id >= run_id):
            return None
        alert = None
        previous = self.runs.repo.get(previous_id) if previous_id else None
        if previous is not None and previous.result_key:
            diff = diff_results(
                self.runs.results.get(previous.result_key),
                self.runs.results.get(run.result_key),
                rank_threshold=watch.rank_threshold,
                thresholds=watch.thresholds,
            )
            if diff.changed:
                alert = Alert(
                    alert_id=run_id,
                    watch_id=watch.watch_id,
                    run_id=run_id,
                    previous_run_id=previous.run_id,
                    scenario_id=watch.scenario_id,
                    created_at=now_iso(),
                    summary=f"{watch.scenario_id}: {describe(diff)}",
                    diff=diff,
                )
                self.delivery.deliver(watch, alert)
        advanced = self.repo.update(
            watch.watch_id,
            "attribute_not_exists(#baseline_run_id) OR #baseline_run_id < :baseline_run_id",
            baseline_run_id=run_id,
        )
        logger.info(
            "watch run evaluated",
            extra={"watch_id": watch.watch_id, "alert": alert is not None, "baseline": advanced},
        )
        return alert

    # -- the inbox ----------------------------------------------------------------------------

    def alerts(self, owner: str, limit: int, unread_only: bool) -> AlertPage:
        # the counter before the listing: every alert numbered up to it is in the listing's
        # reach, every later one comes on the stream, which resumes after it
        cursor = self.repo.inbox_seq(owner)
        newest = self.repo.alerts(owner, INBOX_WINDOW)
        listed = [a for a in newest if not (unread_only and a.read)][:limit]
        return AlertPage(
            alerts=listed,
            unread=sum(not a.read for a in newest),
            stream_url=self.inbox_stream_url(owner, cursor),
        )

    def inbox_stream_url(self, owner: str, after: int) -> str:
        """The owner's inbox stream from after inbox event ``after`` (an inbox-scoped token:
        it opens no run's stream)."""
        settings = self.runs.settings
        token = tokens.issue_inbox(tokens.signing_key(settings.stream_secret_name), owner)
        return f"{settings.public_base_url}/inbox/stream?token={token}&last_event_id={after}"

    def mark_read(self, alert_id: str, owner: str) -> Alert:
        if not self.repo.mark_read(owner, alert_id):
            raise NotFound(f"no alert {quoted(alert_id)}", field="alert_id")
        alert = self.repo.get_alert(owner, alert_id)
        if alert is None:
            raise NotFound(f"no alert {quoted(alert_id)}", field="alert_id")
        return alert
