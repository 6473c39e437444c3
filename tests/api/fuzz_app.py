"""`uvicorn tests.api.fuzz_app:build --factory`: the app from IGS_* settings, every router."""

from __future__ import annotations

from fastapi import FastAPI

from instagram_service.app import create_app
from tests.api.conftest import with_all_routers


def build() -> FastAPI:
    return with_all_routers(create_app())
