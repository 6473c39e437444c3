"""The OpenAPI document: every route of the design there, described, with its security."""

from __future__ import annotations

from typing import Any

import httpx

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
    "/api/v1/accounts/callback",  # Instagram's redirect; checked by its signed state
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
