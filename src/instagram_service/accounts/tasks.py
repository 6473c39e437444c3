"""Account tasks: daily token refresh."""

from __future__ import annotations

from datetime import timedelta

from instagram_service.accounts import service
from instagram_service.observability import get_logger
from instagram_service.runtime import get_runtime
from instagram_service.worker import broker

log = get_logger(__name__)


@broker.task(task_name="accounts.refresh_tokens")
async def refresh_tokens() -> int:
    """Refresh tokens older than 24 hours that expire within the configured window."""
    runtime = get_runtime()
    window = timedelta(days=runtime.settings.token_refresh_window_days)
    refreshed = 0
    async with runtime.db.session() as session:
        accounts = await service.accounts_to_refresh(session, window)
        for account in accounts:
            if await service.refresh_account_token(
                session, runtime.client, runtime.cipher, account
            ):
                refreshed += 1
            else:
                log.warning("token refresh refused", account=account.username)
    return refreshed
