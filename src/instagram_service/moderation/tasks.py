"""The moderation re-run as a task; its status record (rerun_status.py) is what the API reads."""

from __future__ import annotations

from taskiq import async_shared_broker

from instagram_service.container import ContainerDep
from instagram_service.moderation.rerun import rerun_moderation
from instagram_service.moderation.rerun_status import RERUN_TASK, status_store, update_status
from instagram_service.observability import get_logger

log = get_logger(__name__)


@async_shared_broker.task(task_name=RERUN_TASK)
async def rerun(run_id: str, container: ContainerDep) -> None:
    store = status_store(container.settings)
    await update_status(store, run_id, status="running")

    async def on_progress(done: int, total: int) -> None:
        await update_status(store, run_id, processed=done, total=total)

    try:
        result = await rerun_moderation(container.db, container.settings, progress=on_progress)
    except Exception as exc:
        await update_status(store, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    await update_status(
        store,
        run_id,
        status="completed",
        processed=result.processed,
        total=result.processed,
        changed=result.changed,
        public_changes=result.public_changes,
    )
    log.info("moderation rerun finished", run_id=run_id, processed=result.processed)
