"""Parse Instagram's usage headers: JSON values that are percentages of the limit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

USAGE_METRICS = ("call_count", "total_cputime", "total_time")


def parse_usage_headers(headers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """(max usage percent, seconds to regain access) from X-App-Usage/X-Business-Use-Case-Usage."""
    values: list[float] = []
    regain_min = 0.0
    lowered = {k.lower(): v for k, v in headers.items()}
    app = _json(lowered.get("x-app-usage"))
    if isinstance(app, dict):
        values += _metrics(app)
    buc = _json(lowered.get("x-business-use-case-usage"))
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    values += _metrics(entry)
                    regain_min = max(regain_min, _num(entry.get("estimated_time_to_regain_access")))
    pct = max(values) if values else None
    return pct, (regain_min * 60 if regain_min > 0 else None)


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _num(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _metrics(data: dict[str, Any]) -> list[float]:
    return [_num(data.get(name)) for name in USAGE_METRICS if name in data]
