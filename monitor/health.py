"""One-line health of a feed or a destination, for the CLI and the review UI alike.

Pure. No I/O. Returns plain text; the UI escapes it.
"""

from __future__ import annotations

from typing import Any


def feed_health(row: dict[str, Any]) -> str:
    if row["disabled"]:
        return f"disabled: {row['disabled_reason'] or ''}"
    if row["last_error"]:
        return f"failing x{row['consecutive_failures']}: {row['last_error']}"
    return f"ok, last {row['last_ok_at'] or 'never'}"


def destination_health(row: dict[str, Any]) -> str:
    if row["disabled"]:
        return f"disabled since {row['disabled_at']}: {row['disabled_reason']}"
    if row["consecutive_failures"]:
        return f"failing x{row['consecutive_failures']}: {row['last_error']}"
    return f"ok, last success {row['last_success_at'] or 'never'}"
