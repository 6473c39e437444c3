from __future__ import annotations

from fastapi import APIRouter, Query, Response

from instagram_service.accounts import service as accounts
from instagram_service.apikeys.auth import AdminKey, ReadKey, check_account, key_accounts
from instagram_service.deps import IdPath, SessionDep
from instagram_service.kit.openapi import ADMIN_ERRORS, NOT_FOUND
from instagram_service.kit.pagination import MAX_ID, Limit, Offset, paginate
from instagram_service.models import SyncStatus
from instagram_service.sync import service
from instagram_service.sync.schemas import (
    AccountSyncState,
    SyncJobOut,
    SyncJobPage,
    SyncStatusOut,
    SyncTrigger,
)

router = APIRouter(prefix="/api/v1/sync", tags=["sync"], responses=ADMIN_ERRORS)


@router.post(
    "/trigger",
    response_model=SyncJobOut,
    status_code=202,
    responses={
        200: {
            "model": SyncJobOut,
            "description": "A sync of this account is already pending or running",
        },
        **NOT_FOUND,
    },
)
async def trigger(
    body: SyncTrigger, session: SessionDep, response: Response, key: AdminKey
) -> SyncJobOut:
    """Start a sync of an account, or return the one already pending or running."""
    account = await accounts.get_account(session, body.account)
    check_account(key, account.id, f"account {body.account!r}")
    job, created = await service.trigger_sync(
        session, account, body.type, full=body.full, queue=True
    )
    if not created:
        response.status_code = 200
    return SyncJobOut.model_validate(job)


@router.get("/status", response_model=SyncStatusOut)
async def status(session: SessionDep, key: ReadKey) -> SyncStatusOut:
    """Each account's sync state and the most recent jobs."""
    active_jobs = await service.active_jobs(session)
    states = []
    allowed = key_accounts(key)
    for account in await accounts.list_accounts(session):
        if allowed is not None and account.id not in allowed:
            continue
        active = active_jobs.get(account.id)
        states.append(
            AccountSyncState(
                account_id=account.id,
                username=account.username,
                needs_reauth=account.needs_reauth,
                last_sync_at=account.last_sync_at,
                sync_blocked_until=account.sync_blocked_until,
                active_job=SyncJobOut.model_validate(active) if active else None,
            )
        )
    recent = await service.recent_jobs(session, 10, account_ids=allowed)
    return SyncStatusOut(
        accounts=states, recent_jobs=[SyncJobOut.model_validate(j) for j in recent]
    )


@router.get("/jobs", response_model=SyncJobPage)
async def list_jobs(
    session: SessionDep,
    key: ReadKey,
    account_id: int | None = Query(None, ge=1, le=MAX_ID),
    status: SyncStatus | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> SyncJobPage:
    """Sync jobs, newest first."""
    query = service.jobs_query(
        account_id=account_id,
        status=status.value if status else None,
        account_ids=key_accounts(key),
    )
    return await paginate(session, query, SyncJobPage, SyncJobOut, limit=limit, offset=offset)


@router.get("/jobs/{job_id}", response_model=SyncJobOut, responses=NOT_FOUND)
async def get_job(job_id: IdPath, session: SessionDep, key: ReadKey) -> SyncJobOut:
    """One sync job with its counters."""
    job = await service.get_job(session, job_id)
    check_account(key, job.account_id, f"sync job {job_id}")
    return SyncJobOut.model_validate(job)


@router.post("/jobs/{job_id}/cancel", response_model=SyncJobOut, responses=NOT_FOUND)
async def cancel_job(job_id: IdPath, session: SessionDep, key: AdminKey) -> SyncJobOut:
    """Cancel a pending or running sync job (409 once it ended)."""
    check_account(key, (await service.get_job(session, job_id)).account_id, f"sync job {job_id}")
    return SyncJobOut.model_validate(await service.cancel_job(session, job_id))
