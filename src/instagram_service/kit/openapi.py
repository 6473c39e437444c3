"""The documented error responses and examples of the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict


def examples(*items: dict[str, Any]) -> JsonDict:
    """A response schema's examples: `ConfigDict(json_schema_extra=examples({...}))`."""
    return {"examples": list(items)}


class ErrorOut(BaseModel):
    """The body of every error the service raises (`ServiceError`, rendered in app.py)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "post 7 not found"}]})

    detail: str


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(examples=[["query", "limit"]])
    msg: str = Field(examples=["Input should be less than or equal to 100"])
    type: str = Field(examples=["less_than_equal"])


class ValidationErrorOut(BaseModel):
    """Invalid parameters or body: one issue per problem, or a message from the service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["query", "limit"],
                            "msg": "Input should be less than or equal to 100",
                            "type": "less_than_equal",
                        }
                    ]
                }
            ]
        }
    )

    detail: list[ValidationIssue] | str


def example_content(value: object, media_type: str = "application/json") -> dict[str, Any]:
    """An example for a response that has no Pydantic model (text, hand-made JSON)."""
    return {"content": {media_type: {"example": value}}}


def _error(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: _error(ErrorOut, "Missing, invalid or revoked API key")
}
# Applied to every admin router (`APIRouter(responses=ADMIN_ERRORS)`).
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    **UNAUTHORIZED,
    403: _error(ErrorOut, "The key's scope does not allow this route (a read key on a change)"),
    422: _error(ValidationErrorOut, "Invalid parameters or body"),
}
# On the routes with an id in their path.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error(ErrorOut, "Unknown id")}
