"""The OpenAPI document: every route of the design there, described, with its security."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel

from instagram_service.kit.openapi import ErrorOut
from tests.api.conftest import Keys

# DESIGN.md section 4 (the seed's endpoints, extended), plus the key and filter routes.
DESIGNED = [
    ("get", "/api/v1/gallery"),
    ("get", "/api/v1/gallery/featured"),
    ("get", "/api/v1/gallery/categories"),
    ("get", "/images/{post_id}/{variant}"),
    ("get", "/images/{post_id}/{index}/{variant}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/posts"),
    ("get", "/api/v1/posts/{post_id}"),
    ("patch", "/api/v1/posts/{post_id}"),
    ("post", "/api/v1/posts/{post_id}/reset-moderation"),
    ("post", "/api/v1/sync/trigger"),
    ("get", "/api/v1/sync/status"),
    ("get", "/api/v1/sync/jobs/{job_id}"),
    ("get", "/api/v1/accounts"),
    ("post", "/api/v1/accounts"),
    ("get", "/api/v1/accounts/{account_id}"),
    ("patch", "/api/v1/accounts/{account_id}"),
    ("delete", "/api/v1/accounts/{account_id}"),
    ("get", "/api/v1/accounts/connect"),
    ("get", "/api/v1/accounts/callback"),
    ("get", "/api/v1/filters"),
    ("post", "/api/v1/filters"),
    ("get", "/api/v1/filters/{filter_id}"),
    ("patch", "/api/v1/filters/{filter_id}"),
    ("delete", "/api/v1/filters/{filter_id}"),
    ("post", "/api/v1/moderation/rerun"),
    ("get", "/api/v1/webhook-subscriptions"),
    ("post", "/api/v1/webhook-subscriptions"),
    ("get", "/api/v1/webhook-subscriptions/{subscription_id}"),
    ("patch", "/api/v1/webhook-subscriptions/{subscription_id}"),
    ("delete", "/api/v1/webhook-subscriptions/{subscription_id}"),
    ("get", "/api/v1/webhooks/instagram"),
    ("post", "/api/v1/webhooks/instagram"),
    ("get", "/api/v1/keys"),
    ("post", "/api/v1/keys"),
    ("delete", "/api/v1/keys/{key_id}"),
]
PUBLIC = {
    "/api/v1/gallery",
    "/api/v1/gallery/featured",
    "/api/v1/gallery/categories",
    "/images/{post_id}/{variant}",
    "/images/{post_id}/{index}/{variant}",
    "/healthz",
    "/readyz",
    "/api/v1/webhooks/instagram",  # signed by Instagram instead
    "/api/v1/accounts/callback",  # Instagram's redirect; checked by its single-use state
}


async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


async def test_every_designed_route_is_documented(client: httpx.AsyncClient) -> None:
    documented = operations(await spec(client))
    missing = [op for op in DESIGNED if op not in documented]
    assert not missing


async def test_every_operation_is_described(client: httpx.AsyncClient) -> None:
    for (method, path), operation in operations(await spec(client)).items():
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) > 10, (method, path)
        assert operation.get("tags"), (method, path)
        assert any(code[0] in "23" for code in operation["responses"]), (method, path)


async def test_bearer_security(client: httpx.AsyncClient) -> None:
    document = await spec(client)
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer igs_...`",
        }
    }
    for (method, path), operation in operations(document).items():
        if path in PUBLIC:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)


async def test_gallery_documents_its_page_and_304(client: httpx.AsyncClient) -> None:
    document = await spec(client)
    gallery = document["paths"]["/api/v1/gallery"]["get"]
    page = gallery["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/GalleryPage"}
    assert "304" in gallery["responses"]
    fields = document["components"]["schemas"]["GalleryPage"]["properties"]
    assert set(fields) == {"items", "total", "limit", "offset", "next_offset"}
    limit = next(p for p in gallery["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100


async def test_docs_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    """An example on the response itself, or on its schema (every branch of a union)."""
    if "example" in media or "examples" in media:
        return True
    schema = _resolve(document, media.get("schema", {}))
    branches = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return all("examples" in _resolve(document, branch) for branch in branches)


async def test_every_2xx_response_has_an_example(client: httpx.AsyncClient) -> None:
    document = await spec(client)
    lacking = []
    for (method, path), operation in operations(document).items():
        for code, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                binary = media_type.startswith(("image/", "video/"))  # a file: no example
                if code.startswith("2") and not binary and not _has_example(document, media):
                    lacking.append((method, path, code, media_type))
    assert not lacking


def _models(cls: type[BaseModel] = BaseModel) -> Iterator[type[BaseModel]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def test_examples_are_valid_and_complete() -> None:
    """Each schema example is what the model would send: it validates and dumps back unchanged.

    Checked on the models, as FastAPI drops null values from the examples it publishes
    (fastapi/fastapi#5559)."""
    checked = 0
    for model in set(_models()):
        if not model.__module__.startswith("instagram_service.") or model.__name__ == "Page":
            continue
        if "json_schema_extra" not in model.model_config:
            continue
        for example in model.model_json_schema().get("examples", []):
            assert model.model_validate(example).model_dump(mode="json") == example, model
            checked += 1
    assert checked > 15


# Public; a key only widens them.
ADMIN_EXCEPTIONS = {("get", "/api/v1/posts/{post_id}"), ("get", "/api/v1/feeds/{ref}")}


async def test_admin_operations_document_their_errors(client: httpx.AsyncClient) -> None:
    document = await spec(client)
    error = {"$ref": "#/components/schemas/ErrorOut"}
    admin = {
        op: operation
        for op, operation in operations(document).items()
        if "security" in operation and op not in ADMIN_EXCEPTIONS
    }
    assert len(admin) > 30
    for (method, path), operation in admin.items():
        responses = operation["responses"]
        expected = {"401", "403", "422"} | ({"404"} if "{" in path else set())
        assert expected <= set(responses), (method, path, sorted(responses))
        for code in expected - {"422"}:
            assert responses[code]["content"]["application/json"]["schema"] == error
    schema = document["components"]["schemas"]["ErrorOut"]
    assert schema["properties"] == {"detail": {"type": "string", "title": "Detail"}}
    post = operations(document)[("get", "/api/v1/posts/{post_id}")]["responses"]
    assert {"401", "404"} <= set(post)


async def test_error_bodies_have_the_documented_shape(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    """What the one error handler renders is what ErrorOut documents."""
    missing = await client.get("/api/v1/accounts/999999", headers=keys.read)
    unauthorized = await client.get("/api/v1/accounts")
    forbidden = await client.get("/api/v1/keys", headers=keys.read)
    for response, status in ((missing, 404), (unauthorized, 401), (forbidden, 403)):
        assert response.status_code == status
        assert ErrorOut.model_validate(response.json())
