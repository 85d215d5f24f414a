"""Standard Webhooks signatures for generic webhook destinations.

The only module that imports standardwebhooks. Timestamps are always UTC-aware: the library
replaces tzinfo instead of converting, so a local time would be signed hours off
(RELIABILITY.md §0.5).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from standardwebhooks import Webhook

_SECRET_PREFIX = "whsec_"
_SECRET_BYTES = (24, 64)  # Standard Webhooks: 24-64 random bytes


def check_secret(secret: str) -> None:
    """Raise ValueError unless `secret` is usable: whsec_<base64>, or base64, of 24-64 bytes.

    Strict, unlike the library, which silently drops non-base64 characters and would sign
    with whatever is left. The error never repeats the secret.
    """
    text = secret.strip().removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not _SECRET_BYTES[0] <= len(key) <= _SECRET_BYTES[1]:
        raise ValueError("webhook secret must be whsec_<base64> (24-64 random bytes)")


def signed_headers(secret: str, msg_id: str, body: str, now: dt.datetime) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature for one attempt."""
    if not msg_id or "." in msg_id:
        raise ValueError("webhook ids must be non-empty, without '.' (Standard Webhooks)")
    if now.utcoffset() is None:
        raise ValueError("webhook timestamps must be timezone-aware (naive time is ambiguous)")
    when = now.astimezone(dt.UTC)
    signature = Webhook(secret.strip()).sign(msg_id, when, body)
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
        Webhook(secret.strip()).verify(body, headers, json_parse=False)
    except Exception:  # noqa: BLE001
        return False
    return True
