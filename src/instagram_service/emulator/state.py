"""The emulator's live state: tokens, media, faults, counters and a clock.

Every method is thread-safe: tests call them from their own thread while the server runs in
another (see server.running_emulator).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from instagram_service.emulator import webhooks
from instagram_service.emulator.render import sort_key
from instagram_service.emulator.scenario import (
    DAY,
    FaultConfig,
    Scenario,
    ScenarioAccount,
    ScenarioChild,
    ScenarioMedia,
)

SHORT_TOKEN_S = 3600.0
LONG_TOKEN_S = 60 * DAY
CODE_TTL_S = 3600.0


@dataclass
class TokenRecord:
    token: str
    user_id: str
    kind: str  # "long" | "short"
    issued_at: float
    expires_at: float
    status: str = "valid"  # "valid" | "revoked" | "password_changed"


@dataclass
class AuthCode:
    user_id: str
    redirect_uri: str
    created_at: float
    used: bool = False


class EmulatorState:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.RLock()
        self.time_offset_s = 0.0
        self.faults = scenario.faults.model_copy()
        self.rng = random.Random(self.faults.seed)
        self.cdn_key = hashlib.sha256(b"cdn:" + scenario.app_secret.encode()).digest()
        self.accounts: dict[str, ScenarioAccount] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.codes: dict[str, AuthCode] = {}
        self.media: dict[str, tuple[str, ScenarioMedia]] = {}  # id -> (user id, media)
        self.children: dict[str, ScenarioChild] = {}
        self._sorted: dict[str, list[ScenarioMedia]] = {}
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self.webhooks_sent: list[dict[str, Any]] = []
        self.reset_stats()
        now = self.now()
        for account in scenario.accounts:
            self.accounts[account.user_id] = account
            if account.id:
                self.accounts.setdefault(account.id, account)
            for tok in account.tokens:
                issued = now - tok.age_s
                self.tokens[tok.token] = TokenRecord(
                    tok.token,
                    account.user_id,
                    tok.kind,
                    issued,
                    issued + tok.expires_in_s,
                    tok.status,
                )
            for media in account.media:
                self._index(account.user_id, media)
            self._resort(account.user_id)

    # --- clock and counters ---------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.time_offset_s

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock: tokens age, CDN links and usage windows expire."""
        with self.lock:
            self.time_offset_s += seconds

    def reset_stats(self) -> None:
        with self.lock:
            self.calls: Counter[str] = Counter()  # graph calls per user id ("" if none)
            self.calls_by_path: Counter[str] = Counter()
            self.cdn_requests = 0
            self._window: dict[str, tuple[float, int]] = {}  # user id -> (start, calls)

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": dict(self.calls),
                "total_calls": sum(self.calls.values()),
                "calls_by_path": dict(self.calls_by_path),
                "cdn_requests": self.cdn_requests,
                "webhooks_sent": len(self.webhooks_sent),
            }

    def count_call(self, user_id: str, path: str) -> tuple[float, int]:
        """Count one call; return (usage percent of the account's budget, calls so far)."""
        with self.lock:
            self.calls[user_id] += 1
            self.calls_by_path[path] += 1
            account = self.accounts.get(user_id)
            if account is None:
                return 0.0, self.calls[user_id]
            now = self.now()
            start, n = self._window.get(user_id, (now, 0))
            if now - start >= self.scenario.usage_window_s:
                start, n = now, 0
            self._window[user_id] = (start, n + 1)
            pct = 100.0 * (n + 1) / max(account.call_budget, 1)
            if self.faults.usage_pct is not None:
                pct = max(pct, self.faults.usage_pct)
            return pct, self.calls[user_id]

    # --- faults -----------------------------------------------------------------------------

    def set_faults(self, **changes: Any) -> FaultConfig:
        with self.lock:
            self.faults = FaultConfig.model_validate({**self.faults.model_dump(), **changes})
            self.rng = random.Random(self.faults.seed)
            return self.faults

    def reset_faults(self) -> FaultConfig:
        with self.lock:
            self.faults = FaultConfig()
            return self.faults

    def take(self, counter: str) -> bool:
        """Consume one of the `fail_next`/`timeout_next` faults if any is left."""
        with self.lock:
            left = getattr(self.faults, counter)
            if left > 0:
                setattr(self.faults, counter, left - 1)
                return True
            return False

    # --- tokens and codes -------------------------------------------------------------------

    def issue_token(
        self,
        user_id: str,
        kind: str = "long",
        *,
        age_s: float = 0.0,
        expires_in_s: float | None = None,
    ) -> str:
        with self.lock:
            account = self.accounts[user_id]
            token = f"IGAA{'S' if kind == 'short' else 'L'}{secrets.token_urlsafe(24)}"
            issued = self.now() - age_s
            life = expires_in_s or (SHORT_TOKEN_S if kind == "short" else LONG_TOKEN_S)
            self.tokens[token] = TokenRecord(token, account.user_id, kind, issued, issued + life)
            return token

    def revoke_token(self, token: str, status: str = "revoked") -> None:
        with self.lock:
            self.tokens[token].status = status

    def issue_code(self, user_id: str, redirect_uri: str) -> str:
        with self.lock:
            code = "AQ" + secrets.token_urlsafe(32)
            self.codes[code] = AuthCode(self.accounts[user_id].user_id, redirect_uri, self.now())
            return code

    # --- media ------------------------------------------------------------------------------

    def account_media(self, user_id: str) -> tuple[list[ScenarioMedia], list[tuple[int, int]]]:
        with self.lock:
            return self._sorted.get(user_id, []), self._keys.get(user_id, [])

    def media_owner(self, media_id: str) -> tuple[str, ScenarioMedia] | None:
        with self.lock:
            return self.media.get(media_id)

    def add_media(self, user_id: str, media: ScenarioMedia | dict[str, Any]) -> ScenarioMedia:
        with self.lock:
            account = self.accounts[user_id]
            if isinstance(media, dict):
                media = ScenarioMedia.model_validate(self._media_defaults(media))
            account.media.append(media)
            self._index(account.user_id, media)
            self._resort(account.user_id)
            return media

    def edit_media(self, media_id: str, **changes: Any) -> ScenarioMedia:
        with self.lock:
            user_id, media = self.media[media_id]
            for name, value in changes.items():
                setattr(media, name, value)
            self._index(user_id, media)
            self._resort(user_id)
            return media

    def delete_media(self, media_id: str) -> ScenarioMedia:
        with self.lock:
            user_id, media = self.media.pop(media_id)
            account = self.accounts[user_id]
            account.media = [m for m in account.media if m.id != media_id]
            for child in media.children:
                self.children.pop(child.id, None)
            self._resort(user_id)
            return media

    def _media_defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        if not data.get("id"):
            data["id"] = str(18_000_000_000_000_000 + secrets.randbelow(10**15))
        data.setdefault("timestamp", datetime.fromtimestamp(self.now(), UTC))
        data.setdefault("shortcode", "C" + secrets.token_urlsafe(8)[:10])
        return data

    def _index(self, user_id: str, media: ScenarioMedia) -> None:
        self.media[media.id] = (user_id, media)
        for child in media.children:
            self.children[child.id] = child

    def _resort(self, user_id: str) -> None:
        items = sorted(self.accounts[user_id].media, key=sort_key)
        self._sorted[user_id] = items
        self._keys[user_id] = [sort_key(m) for m in items]

    # --- webhooks ---------------------------------------------------------------------------

    async def send_webhook(
        self, url: str, user_id: str, field: str, value: dict[str, Any]
    ) -> webhooks.Delivery:
        """POST a signed event in Instagram's shape to `url` and record it."""
        event = webhooks.build_event(user_id, field, value, at=self.now())
        delivery = await webhooks.deliver(url, event, self.scenario.app_secret)
        with self.lock:
            self.webhooks_sent.append({"url": url, "event": event, "status": delivery.status_code})
        return delivery

    # --- CDN --------------------------------------------------------------------------------

    def sign(self, path: str, expires: int) -> str:
        return hmac.new(self.cdn_key, f"{path}|{expires:x}".encode(), "sha256").hexdigest()[:32]

    def cdn_query(self, path: str) -> str:
        # Like the real CDN, a link stays the same for a while (here: within one lifetime
        # bucket) and is valid for at least one lifetime; identical listings stay identical.
        life = self.scenario.link_lifetime_s
        expires = int((self.now() // life + 2) * life)
        return f"_nc_cat=1&_nc_sid=8ae9d6&oh={self.sign(path, expires)}&oe={expires:X}"

    def image_size(self, object_id: str) -> tuple[int, int] | None:
        with self.lock:
            if object_id in self.media:
                m = self.media[object_id][1]
                return m.width, m.height
            if object_id in self.children:
                c = self.children[object_id]
                return c.width, c.height
            if object_id in self.accounts:
                return 320, 320
            return None
