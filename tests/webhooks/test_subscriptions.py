"""The admin API of outgoing subscriptions: auth, secrets, events, URL checks."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from instagram_service.apikeys.service import create_key
from instagram_service.db import Database
from instagram_service.models import WebhookSubscription
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings
from instagram_service.webhooks.targets import TargetRefused, check_target
from tests.support.webhooks import AppEnv, running_app, webhook_settings

BASE = "/api/v1/webhook-subscriptions"
PUBLIC_URL = "https://93.184.215.14/hooks/instagram"  # an IP literal: no DNS needed


@pytest.fixture
async def strict(settings: Settings, clean_db: Database) -> AsyncIterator[AppEnv]:
    """Private targets refused, as in production."""
    strict_settings = webhook_settings(settings, webhook_allow_private_targets=False)
    async with running_app(strict_settings, clean_db) as app_env:
        yield app_env


async def test_keys_are_required(strict: AppEnv) -> None:
    assert (await strict.http.get(BASE)).status_code == 401
    async with strict.db.session() as session:
        _, read = await create_key(session, name="read", scope="read")
    response = await strict.http.get(BASE, headers={"Authorization": f"Bearer {read}"})
    assert response.status_code == 403


async def test_create_shows_the_generated_secret_once(strict: AppEnv, settings: Settings) -> None:
    body = {"url": PUBLIC_URL, "events": ["post.published", "gallery.changed"]}
    created = await strict.http.post(BASE, json=body, headers=strict.admin)
    assert created.status_code == 201, created.text
    data = created.json()
    secret = data["secret"]
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32
    assert data["events"] == ["post.published", "gallery.changed"]
    assert data["is_active"] is True
    one = await strict.http.get(f"{BASE}/{data['id']}", headers=strict.admin)
    assert "secret" not in one.json()
    listed = await strict.http.get(BASE, headers=strict.admin)
    assert [s["id"] for s in listed.json()["items"]] == [data["id"]]
    assert "secret" not in listed.json()["items"][0]
    async with strict.db.session() as session:
        row = await session.get(WebhookSubscription, data["id"])
    assert row is not None
    assert secret.encode() not in row.secret_encrypted
    assert TokenCipher.from_settings(settings).decrypt(row.secret_encrypted) == secret


async def test_given_secret_is_kept_and_validated(strict: AppEnv) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    body = {"url": PUBLIC_URL, "events": ["post.removed"], "secret": secret}
    created = await strict.http.post(BASE, json=body, headers=strict.admin)
    assert created.json()["secret"] == secret
    for bad in ("plain", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        response = await strict.http.post(BASE, json={**body, "secret": bad}, headers=strict.admin)
        assert response.status_code == 422, bad


async def test_unknown_or_no_events_are_422(strict: AppEnv) -> None:
    response = await strict.http.post(
        BASE,
        json={"url": PUBLIC_URL, "events": ["post.published", "post.liked"]},
        headers=strict.admin,
    )
    assert response.status_code == 422
    assert "post.liked" in response.text
    empty = await strict.http.post(
        BASE, json={"url": PUBLIC_URL, "events": []}, headers=strict.admin
    )
    assert empty.status_code == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
    ],
)
async def test_private_targets_refused(strict: AppEnv, url: str) -> None:
    response = await strict.http.post(
        BASE, json={"url": url, "events": ["gallery.changed"]}, headers=strict.admin
    )
    assert response.status_code == 422
    assert "IGS_WEBHOOK_ALLOW_PRIVATE_TARGETS" in response.json()["detail"]
    assert (await strict.http.get(BASE, headers=strict.admin)).json()["items"] == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "http or https"),
        ("file:///etc/passwd", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("https://user:pw@93.184.215.14/hook", "credentials"),
        ("https://93.184.215.14:99999/hook", "invalid port"),
        ("https:///hook", "no host"),
        ("https://does-not-exist.invalid/hook", "cannot be resolved"),
    ],
)
async def test_bad_urls_refused_with_a_clear_message(
    strict: AppEnv, url: str, message: str
) -> None:
    response = await strict.http.post(
        BASE, json={"url": url, "events": ["gallery.changed"]}, headers=strict.admin
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


async def test_patch_and_delete(strict: AppEnv) -> None:
    created = await strict.http.post(
        BASE, json={"url": PUBLIC_URL, "events": ["gallery.changed"]}, headers=strict.admin
    )
    sub_id = created.json()["id"]
    patched = await strict.http.patch(
        f"{BASE}/{sub_id}",
        json={"events": ["post.updated", "post.published"], "description": "CMS"},
        headers=strict.admin,
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["post.published", "post.updated"]
    assert patched.json()["description"] == "CMS"
    refused = await strict.http.patch(
        f"{BASE}/{sub_id}", json={"url": "http://127.0.0.1/x"}, headers=strict.admin
    )
    assert refused.status_code == 422
    unknown = await strict.http.patch(
        f"{BASE}/{sub_id}", json={"events": ["x"]}, headers=strict.admin
    )
    assert unknown.status_code == 422
    deliveries = await strict.http.get(f"{BASE}/{sub_id}/deliveries", headers=strict.admin)
    assert deliveries.json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "next_offset": None,
    }
    assert (await strict.http.delete(f"{BASE}/{sub_id}", headers=strict.admin)).status_code == 204
    assert (await strict.http.get(f"{BASE}/{sub_id}", headers=strict.admin)).status_code == 404
    missing = await strict.http.get(f"{BASE}/{sub_id}/deliveries", headers=strict.admin)
    assert missing.status_code == 404


async def test_pinned_target_keeps_the_name_for_host_and_tls() -> None:
    target = await check_target("https://93.184.215.14:8443/a?b=1#frag", allow_private=False)
    assert target.url == "https://93.184.215.14:8443/a?b=1"
    assert target.headers == {"Host": "93.184.215.14:8443"}
    assert target.extensions == {"sni_hostname": "93.184.215.14"}
    loose = await check_target("http://127.0.0.1:9/x", allow_private=True)
    assert loose.url == "http://127.0.0.1:9/x"
    with pytest.raises(TargetRefused):
        await check_target("gopher://127.0.0.1/", allow_private=True)
