"""An alert's deliveries: the inbox always (the stored alert), e-mail through the owner's SNS
topic, webhooks through the delivery queue (one message per webhook, so a failing receiver is
retried on its own, with growing delays, then set aside on the queue's dead-letter queue, and
never holds up another delivery)."""

from __future__ import annotations

import hashlib
import json
from typing import Final

from botocore.exceptions import ClientError

from quantdesk import aws
from quantdesk.errors import ServiceUnavailable
from quantdesk.observability import logger
from quantdesk.watches.models import Alert, Delivery, Watch, WebhookBody
from quantdesk.watches.repository import WatchRepository
from quantdesk.watches.secrets import SecretUnavailable, WatchSecrets
from quantdesk.watches.settings import WatchSettings
from quantdesk.watches.webhooks import DeliveryFailed, post

#: first retry delay of a failed webhook; doubled on each attempt (SQS caps it at 12 hours)
RETRY_BASE_S: Final = 30
RETRY_MAX_S: Final = 900


def retry_delay_s(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1`` of a webhook (exponential backoff)."""
    return int(min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (attempt - 1)))


def webhook_body(alert: Alert) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return WebhookBody.model_validate(dict(alert)).model_dump_json().encode()


class AlertDelivery:
    def __init__(
        self, repo: WatchRepository, settings: WatchSettings, secrets: WatchSecrets
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.secrets = secrets

    def topic_name(self, owner: str) -> str:
        return (
            f"{self.settings.name_prefix}-alerts-{hashlib.sha256(owner.encode()).hexdigest()[:24]}"
        )

    def _topic_arn(self, owner: str) -> str:
        # CreateTopic is idempotent: it returns the existing topic's ARN
        arn: str = aws.client("sns").create_topic(Name=self.topic_name(owner))["TopicArn"]
        return arn

    def subscribe(self, watch: Watch) -> None:
        """Subscribe the watch's e-mail addresses to the owner's topic (SNS asks each address
        to confirm once)."""
        addresses = [c.address for c in watch.channels if c.type == "email" and c.address]
        if not addresses:
            return
        try:
            topic = self._topic_arn(watch.owner)
            for address in addresses:
                aws.client("sns").subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
        except ClientError as exc:
            raise ServiceUnavailable("could not subscribe the e-mail address") from exc

    def deliver(self, watch: Watch, alert: Alert) -> bool:
        """Store the alert (the inbox) and send it to the watch's channels; False when it was
        already stored (a redelivered run event: its deliveries went out the first time)."""
        alert.deliveries = [
            Delivery(
                type="webhook" if c.type == "webhook" else "email",
                target=str(c.url if c.type == "webhook" else c.address),
                status="queued",
            )
            for c in watch.channels
            if c.type in ("webhook", "email")
        ]
        if not self.repo.put_alert(watch.owner, alert):
            return False
        for index, delivery in enumerate(alert.deliveries):
            if delivery.type == "webhook":
                self._enqueue(watch, alert, index)
            else:
                self._email(watch, alert, index, delivery)
        return True

    def _enqueue(self, watch: Watch, alert: Alert, index: int) -> None:
        message = {"owner": watch.owner, "watch_id": watch.watch_id, "alert_id": alert.alert_id}
        aws.client("sqs").send_message(
            QueueUrl=self.settings.delivery_queue_url,
            MessageBody=json.dumps({**message, "delivery": index}),
        )

    def _email(self, watch: Watch, alert: Alert, index: int, delivery: Delivery) -> None:
        text = (
            f"{alert.summary}\n\nWatch {watch.watch_id} re-ran {watch.scenario_id} "
            f"(run {alert.run_id}, compared with run {alert.previous_run_id}).\n\n"
            + alert.diff.model_dump_json(indent=1)
        )
        try:
            aws.client("sns").publish(
                TopicArn=self._topic_arn(watch.owner),
                Subject=f"quantdesk alert: {alert.summary}"[:99],
                Message=text,
            )
            outcome = delivery.model_copy(update={"status": "sent", "message": text})
        except ClientError as exc:
            logger.warning("alert e-mail failed", extra={"error": str(exc)})
            outcome = delivery.model_copy(update={"status": "failed", "message": str(exc)})
        self.repo.record_delivery(watch.owner, alert.alert_id, index, outcome)

    def send_webhook(self, owner: str, alert_id: str, index: int, attempt: int) -> None:
        """One attempt of one webhook delivery; raises :class:`DeliveryFailed` to be retried.
        The outcome is recorded on the alert either way."""
        alert = self.repo.get_alert(owner, alert_id)
        watch = self.repo.get(alert.watch_id) if alert else None
        if alert is None or watch is None or index >= len(alert.deliveries):
            logger.info("webhook dropped: alert or watch gone", extra={"alert_id": alert_id})
            return
        delivery = alert.deliveries[index]
        try:
            status = post(
                delivery.target,
                webhook_body(alert),
                self._secret(watch),
                timeout_s=self.settings.webhook_timeout_s,
                allow_loopback=self.settings.allow_loopback,
            )
        except DeliveryFailed as exc:
            failed = delivery.model_copy(
                update={"status": "failed", "message": f"attempt {attempt}: {exc}"}
            )
            self.repo.record_delivery(owner, alert_id, index, failed)
            raise
        sent = delivery.model_copy(
            update={"status": "sent", "message": f"attempt {attempt}: HTTP {status}"}
        )
        self.repo.record_delivery(owner, alert_id, index, sent)

    def _secret(self, watch: Watch) -> str:
        try:
            return self.secrets.open(watch.watch_id, watch.secret_sealed)
        except SecretUnavailable as exc:
            raise DeliveryFailed(f"could not open the webhook secret ({exc})") from exc
