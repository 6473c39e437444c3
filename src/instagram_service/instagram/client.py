"""Async client of the Instagram Platform API (Instagram Login; Facebook Login by setting)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from instagram_service.instagram.errors import (
    InstagramError,
    RateLimited,
    TransientError,
    error_from_response,
)
from instagram_service.instagram.http import get_http_client
from instagram_service.instagram.metrics import (
    API_CALLS,
    RATE_LIMIT_HITS,
    RATE_LIMIT_USAGE,
    account_label,
)
from instagram_service.instagram.ratelimit import RateLimiter, make_rate_limiter
from instagram_service.instagram.redact import install_log_redaction, redact_url
from instagram_service.instagram.schemas import (
    IGChild,
    IGMedia,
    IGUser,
    LongLivedToken,
    MediaPage,
    ShortLivedToken,
)
from instagram_service.settings import ApiFlavour, Settings

logger = logging.getLogger(__name__)

CHILD_FIELDS = "id,media_type,media_url,thumbnail_url,alt_text"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,shortcode,"
    "timestamp,username,like_count,comments_count,is_comment_enabled,is_shared_to_feed,alt_text,"
    f"children{{{CHILD_FIELDS}}}"
)
USER_FIELDS = (
    "user_id,username,name,account_type,profile_picture_url,followers_count,follows_count,"
    "media_count"
)
# Facebook Login: the IG user node has no user_id/account_type, but has biography and website.
FB_USER_FIELDS = (
    "id,username,name,profile_picture_url,followers_count,follows_count,media_count,"
    "biography,website"
)

M = TypeVar("M", bound=BaseModel)


@dataclass
class CallStats:
    calls: int = 0
    rate_limit_hit: bool = False
    usage_pct: float = 0.0
    retry_after_s: float | None = None


def token_key(token: str) -> str:
    """Rate-limit key for an account known only by its token: a hash, never the token."""
    return "tok:" + hashlib.sha256(token.encode()).hexdigest()[:32]


class InstagramClient:
    def __init__(
        self,
        settings: Settings,
        *,
        limiter: RateLimiter | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        install_log_redaction()
        self.settings = settings
        self._http = http or get_http_client()
        self._owns_limiter = limiter is None
        self.limiter = limiter or make_rate_limiter(settings)
        self._user_ids: dict[str, str] = {}  # token hash -> user id, learned from /me

    # --- public API -------------------------------------------------------------------

    async def get_me(self, token: str, stats: CallStats | None = None) -> IGUser:
        if self._facebook:
            return await self._get_me_via_pages(token, stats)
        body = await self._get(token, "me", {"fields": USER_FIELDS}, stats)
        user = self._parse(IGUser, body, "GET /me")
        await self.remember_user(token, user.user_id)
        return user

    async def get_user(self, token: str, user_id: str, stats: CallStats | None = None) -> IGUser:
        fields = FB_USER_FIELDS if self._facebook else USER_FIELDS
        body = await self._get(token, user_id, {"fields": fields}, stats, user_id=user_id)
        return self._parse(IGUser, body, f"GET /{user_id}")

    async def iter_media_pages(
        self,
        token: str,
        user_id: str = "me",
        *,
        limit: int | None = None,
        since: int | None = None,
        until: int | None = None,
        stats: CallStats | None = None,
    ) -> AsyncIterator[MediaPage]:
        """Yield pages of media, newest first, following `paging.next` to the end."""
        call = f"GET /{user_id}/media"
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": limit or self.settings.page_size}
        if since is not None:
            params["since"] = since
        if until is not None:
            params["until"] = until
        url = self._url(f"{user_id}/media")
        key = self._key(token, user_id)
        seen: set[str] = set()
        query: dict[str, Any] | None = params
        while True:
            body = await self._send(
                "GET", call, url, token=token, params=query, key=key, stats=stats
            )
            page = self._parse_page(body, call)
            yield page
            next_url = _paging(body).get("next")
            if not isinstance(next_url, str) or not next_url:
                return
            if next_url in seen:
                raise InstagramError(call, "pagination loop: `next` repeats a page already read")
            seen.add(next_url)
            url, query = self._follow(next_url, call), None

    async def get_media(self, token: str, media_id: str, stats: CallStats | None = None) -> IGMedia:
        body = await self._get(token, media_id, {"fields": MEDIA_FIELDS}, stats, object_call=True)
        return self._parse(IGMedia, body, f"GET /{media_id}")

    async def get_children(
        self, token: str, media_id: str, stats: CallStats | None = None
    ) -> list[IGChild]:
        body = await self._get(
            token, f"{media_id}/children", {"fields": CHILD_FIELDS}, stats, object_call=True
        )
        call = f"GET /{media_id}/children"
        return [self._parse(IGChild, item, call) for item in _data_list(body, call)]

    async def exchange_code(self, code: str, redirect_uri: str) -> ShortLivedToken:
        """Trade the authorization code of the OAuth redirect for a short-lived token."""
        call = "POST /oauth/access_token"
        if code.endswith("#_"):
            code = code[:-2]
        form = {
            "client_id": self.settings.app_id or "",
            "client_secret": self._app_secret(call),
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        }
        # A code is single-use: a retry after a lost answer could only fail, so none.
        body = await self._send("POST", call, self.settings.oauth_token_url, data=form, retries=0)
        return self._parse(ShortLivedToken, body, call)

    async def exchange_token(self, short_token: str) -> LongLivedToken:
        call = "GET /access_token"
        params = {"grant_type": "ig_exchange_token", "client_secret": self._app_secret(call)}
        body = await self._send(
            "GET",
            call,
            self._url("access_token", versioned=False),
            token=short_token,
            params=params,
            key=self._key(short_token),
        )
        return self._parse(LongLivedToken, body, call)

    async def refresh_token(self, token: str) -> LongLivedToken:
        call = "GET /refresh_access_token"
        body = await self._send(
            "GET",
            call,
            self._url("refresh_access_token", versioned=False),
            token=token,
            params={"grant_type": "ig_refresh_token"},
            key=self._key(token),
        )
        return self._parse(LongLivedToken, body, call)

    async def aclose(self) -> None:
        # The pooled HTTP client belongs to the process (see http.close_http_client).
        if self._owns_limiter:
            await self.limiter.aclose()

    # --- internals ----------------------------------------------------------------------

    @property
    def _facebook(self) -> bool:
        return self.settings.api_flavour is ApiFlavour.FACEBOOK_LOGIN

    async def _get_me_via_pages(self, token: str, stats: CallStats | None) -> IGUser:
        body = await self._get(
            token, "me/accounts", {"fields": "instagram_business_account"}, stats
        )
        for page in body.get("data") or []:
            account = page.get("instagram_business_account") if isinstance(page, dict) else None
            if isinstance(account, dict) and account.get("id"):
                user = await self.get_user(token, str(account["id"]), stats)
                await self.remember_user(token, user.user_id)
                return user
        raise InstagramError("GET /me/accounts", "no Page has an Instagram business account")

    async def remember_user(self, token: str, user_id: str) -> None:
        """Count calls made with this token against the user's budget (one per account, shared
        by every worker through the limiter's store), not against a hash of the token."""
        hashed = token_key(token)
        if self._user_ids.get(hashed) != user_id:
            self._user_ids[hashed] = user_id
            await self.limiter.merge(hashed, user_id)

    def _app_secret(self, call: str) -> str:
        if not self.settings.app_id or self.settings.app_secret is None:
            raise InstagramError(call, "IGS_APP_ID and IGS_APP_SECRET must be set")
        return self.settings.app_secret.get_secret_value()

    def _url(self, path: str, *, versioned: bool = True) -> str:
        base = self.settings.graph_base_url.rstrip("/")
        version = self.settings.graph_api_version.strip("/") if versioned else ""
        return f"{base}/{version}/{path}" if version else f"{base}/{path}"

    def _key(self, token: str, user_id: str | None = None) -> str:
        if user_id and user_id != "me":
            return user_id
        hashed = token_key(token)
        return self._user_ids.get(hashed, hashed)

    def _follow(self, next_url: str, call: str) -> str:
        """Check that `next` stays on the API host before sending the token there."""
        target, base = httpx.URL(next_url), httpx.URL(self.settings.graph_base_url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise InstagramError(call, f"`next` points to another host: {target.host}")
        return next_url

    async def _get(
        self,
        token: str,
        path: str,
        params: dict[str, Any],
        stats: CallStats | None,
        *,
        user_id: str | None = None,
        object_call: bool = False,
    ) -> dict[str, Any]:
        return await self._send(
            "GET",
            f"GET /{path}",
            self._url(path),
            token=token,
            params=params,
            key=self._key(token, user_id),
            stats=stats,
            object_call=object_call,
        )

    async def _send(
        self,
        method: str,
        call: str,
        url: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        key: str | None = None,
        stats: CallStats | None = None,
        object_call: bool = False,
        retries: int | None = None,
    ) -> dict[str, Any]:
        stats = stats if stats is not None else CallStats()
        max_retries = self.settings.api_max_retries if retries is None else retries
        attempt = 0
        while True:
            if key is not None:
                try:
                    await self.limiter.acquire(key, call)
                except RateLimited as exc:
                    stats.rate_limit_hit, stats.retry_after_s = True, exc.retry_after_s
                    raise
            stats.calls += 1
            API_CALLS.labels(account_label(key)).inc()
            err = await self._attempt(
                method, call, url, token, params, data, key, stats, object_call
            )
            if isinstance(err, dict):
                return err
            if isinstance(err, RateLimited):
                RATE_LIMIT_HITS.labels(account_label(key)).inc()
                if key is not None:
                    err.retry_after_s = await self.limiter.record_rate_limited(
                        key, err.retry_after_s
                    )
                stats.rate_limit_hit, stats.retry_after_s = True, err.retry_after_s
            elif isinstance(err, TransientError) and attempt < max_retries:
                cap = min(
                    self.settings.api_retry_max_s, self.settings.api_retry_base_s * 2**attempt
                )
                delay = random.uniform(0, cap)  # full jitter
                logger.info(
                    "instagram retry %d/%d in %.2fs: %s", attempt + 1, max_retries, delay, err
                )
                await asyncio.sleep(delay)
                attempt += 1
                continue
            logger.warning("instagram call failed: %s", err)
            raise err

    async def _attempt(
        self,
        method: str,
        call: str,
        url: str,
        token: str | None,
        params: dict[str, Any] | None,
        data: dict[str, str] | None,
        key: str | None,
        stats: CallStats,
        object_call: bool,
    ) -> dict[str, Any] | InstagramError:
        """One HTTP exchange: the JSON body on success, else the error (not raised)."""
        query = dict(params or {})
        if token is not None and (params is not None or "access_token=" not in url):
            query["access_token"] = token
        try:
            response = await self._http.request(
                method,
                url,
                params=query or None,
                data=data,
                timeout=self.settings.http_timeout_s,
            )
        except httpx.TimeoutException:
            return TransientError(call, "request timed out")
        except httpx.TransportError as exc:
            return TransientError(call, f"connection failed ({type(exc).__name__})")
        logger.debug(
            "instagram %s -> HTTP %d", redact_url(response.request.url), response.status_code
        )
        if key is not None:
            pct = await self.limiter.record_headers(key, response.headers)
            if pct is not None:
                stats.usage_pct = pct
                RATE_LIMIT_USAGE.labels(account_label(key)).set(pct)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            if isinstance(body, dict):
                if key is not None:
                    await self.limiter.record_success(key)
                return body
            return TransientError(
                call, "response is not a JSON object", http_status=response.status_code
            )
        err = error_from_response(
            call, response.status_code, body, response.headers, object_call=object_call
        )
        if isinstance(err, RateLimited) and err.retry_after_s is None:
            err.retry_after_s = _retry_after_header(response.headers)
        return err

    def _parse(self, model: type[M], body: Any, call: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            # Never echo the input: it may hold a token.
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['type']}"
                for e in exc.errors(include_input=False)
            )
            raise InstagramError(call, f"unexpected response shape ({where})") from None

    def _parse_page(self, body: dict[str, Any], call: str) -> MediaPage:
        paging = _paging(body)
        cursors = paging.get("cursors")
        next_url = paging.get("next")
        return MediaPage(
            items=[self._parse(IGMedia, item, call) for item in _data_list(body, call)],
            next_url=redact_url(next_url) if isinstance(next_url, str) else None,
            after=cursors.get("after") if isinstance(cursors, dict) else None,
        )


def _data_list(body: dict[str, Any], call: str) -> list[Any]:
    data = body.get("data")
    if not isinstance(data, list):
        raise InstagramError(call, "unexpected response shape: no `data` list")
    return data


def _paging(body: dict[str, Any]) -> dict[str, Any]:
    paging = body.get("paging")
    return paging if isinstance(paging, dict) else {}


def _retry_after_header(headers: httpx.Headers) -> float | None:
    try:
        value = float(headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value > 0 else None
