"""Keep tokens and secrets out of logs and exception messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

_SECRET_PARAMS = ("access_token", "client_secret", "input_token", "code", "fb_exchange_token")
_PARAM_RE = re.compile(
    r"(?P<name>(?:[?&;]|\b)(?:" + "|".join(_SECRET_PARAMS) + r")=)[^&#\s\"']*",
    re.IGNORECASE,
)
_BEARER_RE = re.compile(r"(?P<name>Bearer\s+)[A-Za-z0-9._\-~+/=]+", re.IGNORECASE)


def redact_url(url: object) -> str:
    """Return the URL (or any text) with secret query values replaced by `***`."""
    text = str(url)
    text = _PARAM_RE.sub(r"\g<name>***", text)
    return _BEARER_RE.sub(r"\g<name>***", text)


class RedactingFilter(logging.Filter):
    """Rewrites log records so that URLs logged by httpx carry no token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        return True


def _redact_arg(value: object) -> object:
    return value if isinstance(value, int | float) else redact_url(value)


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """httpx logs every request URL at INFO, token included: filter its loggers."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
