"""Sync jobs: the recent ones with counters and errors, one job's live progress, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from instagram_service.accounts import service as accounts
from instagram_service.deps import IdPath, SessionDep
from instagram_service.errors import NotFound
from instagram_service.kit.pagination import count
from instagram_service.models import InstagramAccount, SyncJob, SyncType
from instagram_service.sync import service as sync
from instagram_service.web.admin.console import Console, Editor, Viewer
from instagram_service.web.admin.render import back, page

router = APIRouter()
FIELDS = ("status", "posts_processed", "posts_added", "posts_updated", "posts_failed",
          "posts_deleted", "api_calls_made", "error_message")  # fmt: skip


async def _job(db: SessionDep, console: Console, job_id: int) -> SyncJob:
    job = await sync.get_job(db, job_id)
    if console.account_ids is not None and job.account_id not in console.account_ids:
        raise NotFound(f"sync job {job_id} not found")
    return job


def expected(job: SyncJob, account: InstagramAccount | None) -> int | None:
    """How many posts the walk should see, for a progress bar (a guess for incremental)."""
    if account is None:
        return None
    if job.walk == SyncType.FULL:
        return account.media_count
    return min(account.max_posts_to_sync, account.media_count or account.max_posts_to_sync)


def job_json(job: SyncJob, account: InstagramAccount | None) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(job, name) for name in FIELDS}
    data["rate_limit_hit"] = job.rate_limit_hit
    data["expected"] = expected(job, account)
    return data


@router.get("/admin/jobs")
async def jobs_page(request: Request, db: SessionDep, console: Viewer) -> Response:
    jobs = await sync.recent_jobs(db, 50, account_ids=console.account_ids)
    total = await count(db, sync.jobs_query(account_ids=console.account_ids))
    names = {a.id: a.username for a in await accounts.list_accounts(db)}
    return page(
        request, "jobs.html", console, section="jobs", title="Sync jobs", jobs=jobs,
        total=total, names=names,
    )  # fmt: skip


@router.get("/admin/jobs/{job_id}")
async def job_page(request: Request, job_id: IdPath, db: SessionDep, console: Viewer) -> Response:
    job = await _job(db, console, job_id)
    account = await db.get(InstagramAccount, job.account_id)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job_json(job, account), headers={"Cache-Control": "no-store"})
    return page(
        request, "job.html", console, section="jobs", title=f"Sync job {job.id}", job=job,
        account=account, expected=expected(job, account),
    )  # fmt: skip


@router.post("/admin/jobs/{job_id}/cancel")
async def cancel(job_id: IdPath, db: SessionDep, console: Editor) -> Response:
    job = await _job(db, console, job_id)
    await sync.cancel_job(db, job.id)
    return back("/admin/jobs", f"Sync job {job_id} cancelled.")
