"""The process's long-lived objects (database, Instagram client, token cipher, and the
adapters that domains plug in), built once and closed once. It knows no domain internals:
a domain names a `Slot` for what it needs plugged in, and the top of the process (the app's
lifespan, the worker process, a CLI command: see `wiring.py`) plugs it.

Tasks get the container from the worker's state through a Taskiq dependency (`ContainerDep`);
routes from the app's state (`deps.ContainerDep`). There is no process-global getter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar, cast

from taskiq import TaskiqDepends, TaskiqState

from instagram_service.db import Database
from instagram_service.instagram.client import InstagramClient
from instagram_service.security import TokenCipher
from instagram_service.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Slot(Generic[T]):
    """A named place for an object a domain has plugged in, with what it is when nothing is."""

    name: str
    default: Callable[[], T]


class Container:
    def __init__(
        self, settings: Settings, db: Database, client: InstagramClient, *, owns_db: bool = True
    ) -> None:
        self.settings = settings
        self.db = db
        self.client = client
        self.owns_db = owns_db
        self._plugged: dict[str, Any] = {}

    @cached_property
    def cipher(self) -> TokenCipher:
        # Built once (not per decrypt): the keys are fixed for the container's settings.
        return TokenCipher.from_settings(self.settings)

    def plug(self, slot: Slot[T], value: T) -> None:
        self._plugged[slot.name] = value

    def get(self, slot: Slot[T]) -> T:
        if slot.name not in self._plugged:
            self._plugged[slot.name] = slot.default()
        return cast(T, self._plugged[slot.name])

    async def aclose(self) -> None:
        await self.client.aclose()
        for value in self._plugged.values():
            close = getattr(value, "aclose", None)
            if close is not None:
                await close()
        if self.owns_db:
            await self.db.dispose()


def build_container(settings: Settings, db: Database | None = None) -> Container:
    """The objects of a process; a `db` given is the caller's to close."""
    database = db or Database(settings.database_url, pool_size=settings.db_pool_size)
    return Container(settings, database, InstagramClient(settings), owns_db=db is None)


def container_of(state: TaskiqState = TaskiqDepends()) -> Container:
    """A task's container: the one the process put on the broker's state at start-up."""
    container: Container = state.container
    return container


ContainerDep = Annotated[Container, TaskiqDepends(container_of)]
