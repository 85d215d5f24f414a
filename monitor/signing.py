"""Standard Webhooks signatures for generic webhook destinations.

The only module that imports standardwebhooks. Timestamps are always UTC-aware: the library
replaces tzinfo instead of converting, so a local time would be signed hours off
(RELIABILITY.md §0.5).
"""

from __future__ import annotations

import datetime as dt

from standardwebhooks import Webhook


def check_secret(secret: str) -> None:
    """Raise ValueError unless `secret` is usable (whsec_<base64>, or base64)."""
    try:
        Webhook(secret)
    except Exception as e:  # noqa: BLE001 - the library raises several types here
        raise ValueError("webhook secret must be whsec_<base64> (24-64 random bytes)") from e


def signed_headers(secret: str, msg_id: str, body: str, now: dt.datetime) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature for one attempt."""
    if "." in msg_id:
        raise ValueError("webhook ids must not contain '.' (Standard Webhooks)")
    when = now.astimezone(dt.UTC)
    signature = Webhook(secret).sign(msg_id, when, body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


def verify(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """Whether a received request carries a valid signature (as a receiver checks it).

    The stock verifier raises ValueError or binascii.Error, not only its own error, on a
    malformed header (RELIABILITY.md §0.5), so any exception means "not valid".
    """
    try:
        Webhook(secret).verify(body, headers)
    except Exception:  # noqa: BLE001
        return False
    return True
