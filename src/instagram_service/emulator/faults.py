"""What can go wrong on a Graph call: bad tokens, usage limits and injected faults."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from instagram_service.emulator.render import GraphError
from instagram_service.emulator.state import EmulatorState, TokenRecord

RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit "
    "and try again.",
}

FAILURE_MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    3: "(#3) Application does not have the capability to make this API call.",
    10: "(#10) Application does not have permission for this action",
    100: "(#100) Invalid parameter",
    200: "(#200) Permissions error",
}


def check_token(state: EmulatorState, token: str | None) -> TokenRecord:
    if not token:
        raise GraphError(
            "An active access token must be used to query information about the current user.",
            2500,
            type_="IGApiException",
        )
    with state.lock:
        record = state.tokens.get(token)
    if record is None:
        raise GraphError("Invalid OAuth access token - Cannot parse access token", 190, subcode=467)
    if record.status == "revoked":
        raise GraphError(
            "Error validating access token: The user has not authorized application "
            f"{state.scenario.app_id}.",
            190,
            subcode=458,
        )
    if record.status == "password_changed":
        raise GraphError(
            "Error validating access token: The session has been invalidated because the user "
            "changed their password or Facebook has changed the session for security reasons.",
            190,
            subcode=460,
        )
    now = state.now()
    if record.expires_at <= now:
        raise GraphError(
            f"Error validating access token: Session has expired on {_when(record.expires_at)}. "
            f"The current time is {_when(now)}.",
            190,
            subcode=463,
        )
    return record


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def usage_headers(state: EmulatorState, user_id: str, pct: float) -> dict[str, str]:
    """Both usage headers, in percent of the account's budget, as Instagram sends them."""
    used = round(pct)
    regain = state.faults.regain_minutes if pct >= 100 else 0
    app = {"call_count": used, "total_cputime": used // 4, "total_time": used // 3}
    buc = {user_id: [{"type": "instagram", **app, "estimated_time_to_regain_access": regain}]}
    return {"X-App-Usage": json.dumps(app), "X-Business-Use-Case-Usage": json.dumps(buc)}


def check_usage(state: EmulatorState, pct: float) -> None:
    """Past the budget (or at a forced 100 %), calls answer a rate-limit error."""
    forced = state.faults.usage_pct
    if pct > 100 or (forced is not None and forced >= 100):
        code = state.faults.rate_limit_code
        raise GraphError(RATE_LIMIT_MESSAGES[code], code)


async def inject(state: EmulatorState, record: TokenRecord, calls: int) -> None:
    """Latency, timeouts, transient errors and a token that dies after N calls."""
    faults = state.faults
    if faults.latency_s:
        await asyncio.sleep(faults.latency_s)
    if state.take("timeout_next"):
        await asyncio.sleep(faults.timeout_s)
    if faults.token_invalid_after is not None and calls > faults.token_invalid_after:
        raise GraphError(
            "Error validating access token: the session is no longer valid.",
            190,
            subcode=faults.token_invalid_subcode,
        )
    if state.take("fail_next"):
        code = faults.fail_code
        if code not in (1, 2):
            raise GraphError(FAILURE_MESSAGES.get(code, f"(#{code}) Injected failure"), code)
        raise _transient(code, faults.error_http_status)
    with state.lock:
        unlucky = faults.error_rate > 0 and state.rng.random() < faults.error_rate
    if unlucky:
        raise _transient(2, faults.error_http_status)


def _transient(code: int, status: int) -> GraphError:
    return GraphError(FAILURE_MESSAGES[code], code, status=status, is_transient=True)
