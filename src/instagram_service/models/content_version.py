"""`InstagramAccount.content_version`: a counter bumped by every transaction changing posts.

Other processes (API replicas, workers, the CLI) notice gallery changes through a cheap
fingerprint query (posts/cache.py). Timestamps alone cannot do it: `updated_at` is set at
flush time, so a transaction can commit a value older than one another commit already set.
This counter is incremented in the same transaction as the change, under the account row's
lock, so every commit that changes an account's posts or their media makes it grow.

Changes are noted while flushing (rows actually inserted, updated with net changes, or
deleted, cascades included) and by bulk INSERT/UPDATE/DELETE statements on those tables run
through a session; the affected accounts are bumped with one UPDATE just before the commit.
Bumping last means the account row is locked after all of the transaction's post rows (no new
lock-order deadlock) and only until the commit. Writes that bypass the ORM session (plain Core
connections, SQL consoles) do not bump it: the fingerprint's timestamps remain for those.

Loaded `InstagramAccount` objects are not refreshed: their `content_version` may be stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, TableClause, event, inspect, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, SessionTransaction, object_session
from sqlalchemy.sql.dml import UpdateBase

from instagram_service.models.account import InstagramAccount
from instagram_service.models.post import InstagramPost
from instagram_service.models.post_media import PostMedia

_INFO_KEY = "content_version_changes"
# Account fields the gallery depends on: `?account=` matches them.
_ACCOUNT_FIELDS = ("username", "instagram_user_id")
_TRACKED_TABLES = frozenset({InstagramPost.__tablename__, PostMedia.__tablename__})
# Beyond this many post ids, bumping every account is the cheaper statement.
_MAX_POST_IDS = 500


@dataclass
class _Changes:
    accounts: set[int] = field(default_factory=set)
    posts: set[int] = field(default_factory=set)  # mapped to their accounts when bumping
    every: bool = False  # which accounts is not known: bump them all


def _changes(target: object) -> _Changes | None:
    session = object_session(target)
    if session is None:
        return None
    changes: _Changes = session.info.setdefault(_INFO_KEY, _Changes())
    return changes


def _values(target: object, key: str) -> set[int]:
    """A column's current and pre-flush values, from memory only (a deleted row cannot load)."""
    history = inspect(target).attrs[key].history
    return {v for v in (*history.added, *history.unchanged, *history.deleted) if v is not None}


def _has_net_changes(target: object) -> bool:
    session = object_session(target)
    return session is not None and session.is_modified(target, include_collections=False)


def _note(target: object, *, deleted: bool = False) -> None:
    changes = _changes(target)
    if changes is None:
        return
    if isinstance(target, InstagramPost):
        if accounts := _values(target, "account_id"):
            changes.accounts |= accounts
        elif not deleted and (identity := inspect(target).identity) is not None:
            changes.posts.add(identity[0])
        else:
            changes.every = True
    elif isinstance(target, PostMedia):
        if posts := _values(target, "post_id"):
            changes.posts |= posts
        else:
            changes.every = True


def _inserted(_mapper: Mapper[Any], _connection: Connection, target: object) -> None:
    _note(target)


def _updated(_mapper: Mapper[Any], _connection: Connection, target: object) -> None:
    if _has_net_changes(target):  # also called for rows marked dirty without a change
        _note(target)


def _deleted(_mapper: Mapper[Any], _connection: Connection, target: object) -> None:
    _note(target, deleted=True)


def _account_updated(_mapper: Mapper[Any], _connection: Connection, target: object) -> None:
    state = inspect(target)
    if any(state.attrs[key].history.has_changes() for key in _ACCOUNT_FIELDS):
        changes = _changes(target)
        if changes is not None and state.identity is not None:
            changes.accounts.add(state.identity[0])


for _model in (InstagramPost, PostMedia):
    event.listen(_model, "after_insert", _inserted)
    event.listen(_model, "after_update", _updated)
    event.listen(_model, "after_delete", _deleted)
event.listen(InstagramAccount, "after_update", _account_updated)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statement(state: ORMExecuteState) -> None:
    """`session.execute(update(InstagramPost)...)` and the like: rows unknown, bump all."""
    statement = state.statement
    if (
        isinstance(statement, UpdateBase)
        and isinstance(statement.table, TableClause)
        and statement.table.name in _TRACKED_TABLES
    ):
        state.session.info.setdefault(_INFO_KEY, _Changes()).every = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()  # commit flushes after this hook, but the changes must be noted first
    changes: _Changes | None = session.info.pop(_INFO_KEY, None)
    if changes is None or not (changes.every or changes.accounts or changes.posts):
        return
    accounts = InstagramAccount.__table__
    assert isinstance(accounts, Table)
    bump = update(accounts).values(
        content_version=accounts.c.content_version + 1,
        updated_at=accounts.c.updated_at,  # not an edit of the account: keep its timestamp
    )
    if not changes.every and len(changes.posts) <= _MAX_POST_IDS:
        matches = []
        if changes.accounts:
            matches.append(accounts.c.id.in_(sorted(changes.accounts)))
        if changes.posts:
            owners = select(InstagramPost.account_id).where(
                InstagramPost.id.in_(sorted(changes.posts))
            )
            matches.append(accounts.c.id.in_(owners))
        bump = bump.where(or_(*matches))
    session.connection().execute(bump)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    # Only when the outermost transaction ends: a rolled back savepoint leaves the outer
    # transaction's notes (and its own, bumping once too often does no harm).
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)
