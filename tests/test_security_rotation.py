"""Token encryption key rotation: IGS_TOKEN_KEYS lists keys newest first; old ones still decrypt,
`rotate` re-encrypts with the newest so that the old key can then be removed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instagram_service.models import InstagramAccount
from instagram_service.security import EncryptionNotConfigured, TokenCipher, generate_fernet_key
from instagram_service.settings import Settings
from tests.support.factories import make_account

TOKEN = "IGAArotationLongLivedToken0001"


@pytest.fixture
def old_key() -> str:
    return generate_fernet_key()


@pytest.fixture
def new_key() -> str:
    return generate_fernet_key()


def cipher_from_env(env: pytest.MonkeyPatch, value: str) -> TokenCipher:
    env.setenv("IGS_TOKEN_KEYS", value)
    return TokenCipher.from_settings(Settings())


def test_env_lists_the_keys_newest_first(
    env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    env_clean.setenv("IGS_TOKEN_KEYS", f" {new_key} , {old_key},")
    assert Settings().token_keys == [new_key, old_key]


def test_old_token_decrypts_after_a_new_key_is_put_first(
    env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    stored = cipher_from_env(env_clean, old_key).encrypt(TOKEN)
    rotated_settings = cipher_from_env(env_clean, f"{new_key},{old_key}")
    assert rotated_settings.decrypt(stored) == TOKEN
    # A key that is not listed at all cannot read it.
    with pytest.raises(EncryptionNotConfigured, match="was a key removed"):
        cipher_from_env(env_clean, new_key).decrypt(stored)


def test_new_encryptions_use_the_first_key(
    env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    cipher = cipher_from_env(env_clean, f"{new_key},{old_key}")
    fresh = cipher.encrypt(TOKEN)
    assert Fernet(new_key.encode()).decrypt(fresh).decode() == TOKEN
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(fresh)


def test_rotate_re_encrypts_with_the_new_key(
    env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    stored = cipher_from_env(env_clean, old_key).encrypt(TOKEN)
    cipher = cipher_from_env(env_clean, f"{new_key},{old_key}")
    rotated = cipher.rotate(stored)
    assert rotated != stored
    assert TOKEN.encode() not in rotated
    assert Fernet(new_key.encode()).decrypt(rotated).decode() == TOKEN
    with pytest.raises(InvalidToken):
        Fernet(old_key.encode()).decrypt(rotated)
    # Once every token is rotated, the old key can go.
    assert cipher_from_env(env_clean, new_key).decrypt(rotated) == TOKEN
    # Rotating what the newest key already encrypts keeps it readable by that key.
    again = cipher.rotate(rotated)
    assert cipher_from_env(env_clean, new_key).decrypt(again) == TOKEN


def test_three_generations(env_clean: pytest.MonkeyPatch, old_key: str, new_key: str) -> None:
    oldest = generate_fernet_key()
    tokens = {
        "a": cipher_from_env(env_clean, oldest).encrypt("token-a"),
        "b": cipher_from_env(env_clean, f"{old_key},{oldest}").encrypt("token-b"),
        "c": cipher_from_env(env_clean, f"{new_key},{old_key},{oldest}").encrypt("token-c"),
    }
    cipher = cipher_from_env(env_clean, f"{new_key},{old_key},{oldest}")
    rotated = {name: cipher.rotate(value) for name, value in tokens.items()}
    newest_only = cipher_from_env(env_clean, new_key)
    assert {name: newest_only.decrypt(v) for name, v in rotated.items()} == {
        "a": "token-a",
        "b": "token-b",
        "c": "token-c",
    }


async def test_rotating_stored_account_tokens(
    session: AsyncSession, env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    """The stored rows of the database, rotated in place, are then read with the new key only."""
    before = cipher_from_env(env_clean, old_key)
    ids = []
    for n in range(3):
        account = await make_account(session, access_token_encrypted=before.encrypt(f"tok-{n}"))
        ids.append(account.id)
    during = cipher_from_env(env_clean, f"{new_key},{old_key}")
    rows = (
        await session.scalars(select(InstagramAccount).where(InstagramAccount.id.in_(ids)))
    ).all()
    for row in rows:
        assert during.decrypt(row.access_token_encrypted).startswith("tok-")
        row.access_token_encrypted = during.rotate(row.access_token_encrypted)
    await session.flush()
    session.expire_all()
    after = cipher_from_env(env_clean, new_key)
    rows = (
        await session.scalars(
            select(InstagramAccount)
            .where(InstagramAccount.id.in_(ids))
            .order_by(InstagramAccount.id)
        )
    ).all()
    assert [after.decrypt(row.access_token_encrypted) for row in rows] == [
        "tok-0",
        "tok-1",
        "tok-2",
    ]


@pytest.mark.parametrize("value", ["", " , ", "not-a-fernet-key"], ids=["empty", "blank", "bad"])
def test_missing_or_invalid_keys_are_a_clear_error(
    env_clean: pytest.MonkeyPatch, value: str
) -> None:
    with pytest.raises(EncryptionNotConfigured, match="IGS_TOKEN_KEYS"):
        cipher_from_env(env_clean, value)


def test_rotate_with_a_removed_key_is_the_same_clear_error(
    env_clean: pytest.MonkeyPatch, old_key: str, new_key: str
) -> None:
    stored = cipher_from_env(env_clean, old_key).encrypt(TOKEN)
    with pytest.raises(EncryptionNotConfigured):
        cipher_from_env(env_clean, new_key).rotate(stored)
