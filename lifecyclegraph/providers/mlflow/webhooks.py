"""MLflow registry webhooks: a delivery's signature checked, its body turned into thin events.

MLflow signs each delivery with the webhook's secret: ``X-MLflow-Signature:
v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``, with the id in
``X-MLflow-Delivery-Id`` and the Unix time in ``X-MLflow-Timestamp``. A delivery
then names what changed (``{"entity": "model_version", "action": "created",
"data": {"name": ..., "version": ...}}``); like every event it is only a hint, and
the object is read again from the tracking server.

>>> body = b'{"entity": "registered_model", "action": "created", "data": {"name": "m"}}'
>>> headers = sign(body, "s3cret", "d-1", 1_700_000_000)
>>> verify(headers, body, "s3cret", now=1_700_000_010)
>>> [e["event_type"] for e in events_of(decode(body))]
['mlflow_registered_model_updated']
>>> verify(headers, body, "other", now=1_700_000_010)
Traceback (most recent call last):
...
lifecyclegraph.core.events.WebhookRejected: X-MLflow-Signature does not match \
the body signed with the webhook secret
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.events import WebhookRejected
from lifecyclegraph.core.jsontext import loads

__all__ = ["decode", "events_of", "sign", "verify"]

SIGNATURE, DELIVERY, TIMESTAMP = "X-MLflow-Signature", "X-MLflow-Delivery-Id", "X-MLflow-Timestamp"


def _signature(body: bytes, secret: str, delivery_id: str, timestamp: str) -> str:
    payload = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(body: bytes, secret: str, delivery_id: str, timestamp: int) -> dict[str, str]:
    """The headers MLflow sends with ``body`` (for tests and replays)."""
    return {
        DELIVERY: delivery_id,
        TIMESTAMP: str(timestamp),
        SIGNATURE: _signature(body, secret, delivery_id, str(timestamp)),
    }


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    tolerance: float = 300.0,
    now: float | None = None,
) -> None:
    """Check a delivery's signature and age.

    Args:
        headers: the request's headers (looked up as given, then in lower case).
        body: the body exactly as received.
        secret: the secret the webhook was created with.
        tolerance: seconds the delivery's timestamp may differ from ``now`` (a replayed
            old delivery is refused even with its genuine signature).
        now: the current Unix time (default: the clock's).

    Raises:
        WebhookRejected: (403) a header is missing, the timestamp is not a number or too
            far from now, or the signature does not match.
    """

    def header(name: str) -> str:
        value = headers.get(name, headers.get(name.lower()))
        if not value:
            raise WebhookRejected(f"the {name} header is missing: not an MLflow delivery", 403)
        return value

    signature, delivery, stamp = header(SIGNATURE), header(DELIVERY), header(TIMESTAMP)
    if not stamp.isdigit():
        raise WebhookRejected(f"{TIMESTAMP} is not a Unix time: {stamp[:40]!r}", 403)
    skew = abs((time.time() if now is None else now) - int(stamp))
    if skew > tolerance:
        raise WebhookRejected(
            f"{TIMESTAMP} is {skew:.0f} s away from now, over the tolerance of "
            f"{tolerance:g} s (webhook_tolerance): a replay, or a clock that is off",
            403,
        )
    expected = _signature(body, secret, delivery, stamp)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise WebhookRejected(
            f"{SIGNATURE} does not match the body signed with the webhook secret", 403
        )


def _field(data: dict[str, Any], name: str, entity: str) -> str:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise WebhookRejected(f"data.{name}: missing or not a string in a {entity} delivery")
    return str(value)


def events_of(delivery: Any) -> list[dict[str, Any]]:
    """The thin events a delivery's body means (none for an entity this does not hold).

    A model version, its tags and a new alias concern the version; a registered model,
    or an alias that is deleted (its delivery names no version), the registered model.

    Raises:
        WebhookRejected: (400) the body is not an object with ``entity``, ``action`` and
            ``data``, or ``data`` lacks the fields that name the object.
    """
    if not isinstance(delivery, dict):
        raise WebhookRejected("the body must be a JSON object")
    entity, action, data = delivery.get("entity"), delivery.get("action"), delivery.get("data")
    for name, value in (("entity", entity), ("action", action)):
        if not isinstance(value, str) or not value:
            raise WebhookRejected(f"{name}: missing or not a string")
    if not isinstance(data, dict):
        raise WebhookRejected("data: missing or not an object")
    assert isinstance(entity, str) and isinstance(action, str)
    common = {"source": "mlflow", "emitted_at": delivery.get("timestamp")}
    if not isinstance(common["emitted_at"], str):
        del common["emitted_at"]
    model = {"event_type": "mlflow_registered_model_updated", **common}
    if entity == "registered_model":
        kind = "deleted" if action == "deleted" else "updated"
        return [
            {
                **model,
                "event_type": f"mlflow_registered_model_{kind}",
                "name": _field(data, "name", entity),
            }
        ]
    if entity in ("model_version", "model_version_tag") or (
        entity == "model_version_alias" and "version" in data
    ):
        kind = "deleted" if entity == "model_version" and action == "deleted" else "updated"
        name, version = _field(data, "name", entity), _field(data, "version", entity)
        events = [
            {
                "event_type": f"mlflow_model_version_{kind}",
                **common,
                "name": name,
                "version": version,
            }
        ]
        if entity == "model_version_alias" or kind == "deleted":
            events.append({**model, "name": name})  # its aliases, its current version
        return events
    if entity == "model_version_alias":
        return [{**model, "name": _field(data, "name", entity)}]
    return []


def decode(body: bytes) -> Any:
    """The delivery's JSON, decoded as every body is (:func:`lifecyclegraph.core.jsontext.loads`).

    Raises:
        WebhookRejected: (400) the body is not JSON, saying what and where.
    """
    try:
        return loads(body)
    except JsonTextError as error:
        raise WebhookRejected(f"the body is not JSON: {error}") from None
