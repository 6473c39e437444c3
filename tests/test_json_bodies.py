"""A property of every route that takes a JSON body: whatever JSON (or near-JSON) it gets,
including NaN, infinities, numbers past a double's range and lone surrogates, the answer is
never a server error. The app runs with its lifespan, on the emulator, with an admin key."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instagram_service.app import create_app
from instagram_service.db import Database
from instagram_service.emulator.generate import generate_scenario
from instagram_service.emulator.server import EmulatorHandle, running_emulator
from instagram_service.models import ContentFilter
from instagram_service.settings import Settings
from tests.conftest import truncate_all
from tests.emulated import emulated_settings
from tests.factories import make_account, make_post
from tests.webhooks.support import AppEnv, running_app

HUGE = "__HUGE_NUMBER__"  # a placeholder string, replaced by a bare 1e999 in the body text

texts = st.text(st.characters(codec=None, categories=None), max_size=40) | st.sampled_from(
    ["\ud800", "a\udfffb", "", " ", "#tag", "portfolio", "https://cms.example/hook", HUGE]
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def body_text(value: Any) -> str:
    text = json.dumps(value, allow_nan=True)  # NaN, Infinity, \ud800 escapes
    return text.replace(json.dumps(HUGE), "1e999")


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(generate_scenario(1, 2, seed=17)) as handle:
        yield handle


@pytest.fixture
async def env(
    emulator: EmulatorHandle, clean_db: Database, tmp_path: Path
) -> AsyncIterator[AppEnv]:
    app_settings = emulated_settings(
        emulator, clean_db, tmp_path, embedded_scheduler=False, webhook_allow_private_targets=True
    )
    async with clean_db.session() as session:
        account = await make_account(session)
        await make_post(session, account)
        session.add(ContentFilter(name="no spam", blacklist_keywords=["spam"]))
    try:
        async with running_app(app_settings, clean_db) as app_env:
            created = await app_env.http.post(
                "/api/v1/webhook-subscriptions",
                json={"url": "http://127.0.0.1:9/hook", "events": ["gallery.changed"]},
                headers=app_env.admin,
            )
            assert created.status_code == 201, created.text
            yield app_env
    finally:
        await truncate_all(clean_db)


def json_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path with ids filled in, the body's field names) of every JSON-body route,
    read off the app's OpenAPI document."""
    spec = create_app(Settings()).openapi()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            ref = content["application/json"]["schema"].get("$ref", "")
            fields = sorted(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            found.append((method.upper(), re.sub(r"\{[a-z_]+\}", "1", path), fields))
    return found


ROUTES = json_routes()


def test_every_json_route_is_covered() -> None:
    paths = {(method, path) for method, path, _ in ROUTES}
    assert ("PATCH", "/api/v1/posts/1") in paths
    assert ("POST", "/api/v1/filters") in paths
    assert ("POST", "/api/v1/sync/trigger") in paths
    assert ("POST", "/api/v1/accounts") in paths
    assert ("POST", "/api/v1/webhook-subscriptions") in paths


@pytest.mark.parametrize(
    ("method", "path", "fields"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_body_gets_a_server_error(
    env: AppEnv, method: str, path: str, fields: list[str], data: st.DataObject
) -> None:
    # Mostly objects with the route's own field names, so validation goes past the top level.
    shaped = st.dictionaries(st.sampled_from(fields), values, max_size=4) if fields else values
    value = data.draw(shaped | values)
    response = await env.http.request(
        method,
        path,
        content=body_text(value).encode(),
        headers={**env.admin, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    response.json()  # and the error (or the answer) is JSON
