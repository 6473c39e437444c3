"""Account tasks: daily token refresh."""

from __future__ import annotations

from datetime import timedelta

from taskiq import async_shared_broker

from instagram_service.accounts import service
from instagram_service.container import ContainerDep
from instagram_service.instagram.errors import InstagramError
from instagram_service.models import InstagramAccount
from instagram_service.observability import get_logger

log = get_logger(__name__)


@async_shared_broker.task(task_name="accounts.refresh_tokens")
async def refresh_tokens(container: ContainerDep) -> int:
    """Refresh tokens older than 24 hours that expire within the configured window.

    Each account in its own transaction: one account's error (Instagram down, a permission
    problem) is logged and retried at the next run without holding up the others.
    """
    window = timedelta(days=container.settings.token_refresh_window_days)
    async with container.db.session() as session:
        account_ids = [account.id for account in await service.accounts_to_refresh(session, window)]
    refreshed = 0
    for account_id in account_ids:
        async with container.db.session() as session:
            account = await session.get(InstagramAccount, account_id)
            if account is None:
                continue
            try:
                ok = await service.refresh_account_token(
                    session, container.client, container.cipher, account
                )
            except InstagramError as exc:
                log.warning(
                    "token refresh failed; retried next run",
                    account=account.username,
                    error=str(exc),
                )
                continue
            if ok:
                refreshed += 1
            else:
                log.warning("token refresh refused", account=account.username)
    return refreshed
