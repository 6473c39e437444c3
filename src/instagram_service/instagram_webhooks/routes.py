"""Instagram's callback URL: the verification handshake and signed event deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from instagram_service.deps import SessionDep, SettingsDep
from instagram_service.errors import Forbidden, PayloadTooLarge, ServiceError, Unauthorized
from instagram_service.instagram_webhooks.signature import verify_hub_signature
from instagram_service.instagram_webhooks.store import store_event
from instagram_service.kit.openapi import example_content
from instagram_service.observability import WEBHOOKS_RECEIVED
from instagram_service.security import same_secret
from instagram_service.worker.enqueue import enqueue_after_commit

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

SIGNATURE_HEADER = "X-Hub-Signature-256"
INSTAGRAM_WEBHOOK_PATH = "/api/v1/webhooks/instagram"  # capped by webhook_max_body_bytes
PROCESS_TASK = "instagram_webhooks.process_event"


@router.get(
    "/instagram",
    response_class=PlainTextResponse,
    responses={200: example_content("1158201444", "text/plain")},
)
async def verify_subscription(
    settings: SettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=64)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=1024)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=1024)] = None,
) -> PlainTextResponse:
    """Meta's verification handshake: answers `hub.challenge` when the verify token matches."""
    expected = (
        settings.webhook_verify_token.get_secret_value() if settings.webhook_verify_token else ""
    )
    if (
        not expected
        or mode != "subscribe"
        or token is None
        or challenge is None
        or not same_secret(token, expected)
    ):
        raise Forbidden("webhook verification refused: wrong mode, token or challenge")
    return PlainTextResponse(challenge)


async def _read_capped(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"webhook body over {cap} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:  # stop reading: a missing or lying Content-Length must not cost memory
            raise PayloadTooLarge(f"webhook body over {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def verified_body(request: Request, settings: SettingsDep) -> bytes:
    """The raw body, read up to the cap, with a valid signature; nothing is parsed before."""
    secret = settings.app_secret.get_secret_value() if settings.app_secret else ""
    if not secret:
        raise ServiceError("IGS_APP_SECRET is not set: webhooks cannot be verified", 503)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        WEBHOOKS_RECEIVED.labels("unsigned").inc()
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    body = await _read_capped(request, settings.webhook_max_body_bytes)
    if not verify_hub_signature(body, header, secret):
        WEBHOOKS_RECEIVED.labels("bad_signature").inc()
        raise Unauthorized(f"invalid {SIGNATURE_HEADER} signature")
    return body


VerifiedBody = Annotated[bytes, Depends(verified_body)]


@router.post(
    "/instagram",
    responses={200: example_content({"status": "received"}), 400: {}, 401: {}, 413: {}},
)
async def receive_event(body: VerifiedBody, session: SessionDep) -> JSONResponse:
    """Signed event delivery: stored, answered at once, processed in the background."""
    stored = await store_event(session, body)
    if stored.error is not None:
        # Returned, not raised: the failed event is committed for inspection.
        return JSONResponse({"detail": stored.error}, status_code=400)
    if stored.created:  # committed before the answer: a 200 means stored (or Meta retries)
        enqueue_after_commit(session, PROCESS_TASK, stored.event_id)
    return JSONResponse({"status": "received" if stored.created else "duplicate"})
