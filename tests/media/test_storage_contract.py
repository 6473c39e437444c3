"""One contract for every media store: the local folder and an S3 bucket (moto on loopback)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from instagram_service.media.imaging import ImageOptions, process_image
from instagram_service.media.storage import (
    InvalidKey,
    Storage,
    media_storage,
    remove_files,
    store_processed,
)
from instagram_service.settings import Settings
from tests.media.conftest import fixture_bytes


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Storage:
    if request.param == "s3":
        return media_storage(request.getfixturevalue("s3_settings"))
    return media_storage(settings)


async def keys_of(store: Storage) -> dict[str, int]:
    return {obj.key: obj.size async for obj in store.list_objects()}


async def test_save_read_exists_delete(store: Storage) -> None:
    assert isinstance(store, Storage)
    await store.verify()
    assert await keys_of(store) == {}
    assert await store.save("optimized/1_abc.webp", b"one")
    assert await store.exists("optimized/1_abc.webp")
    assert await store.read("optimized/1_abc.webp") == b"one"
    size, chunks = await store.open("optimized/1_abc.webp")
    assert size == 3
    assert b"".join([chunk async for chunk in chunks]) == b"one"
    assert await keys_of(store) == {"optimized/1_abc.webp": 3}
    assert await store.delete("optimized/1_abc.webp")
    assert not await store.delete("optimized/1_abc.webp")
    assert not await store.exists("optimized/1_abc.webp")
    assert await keys_of(store) == {}


async def test_an_object_is_never_overwritten_in_place(store: Storage) -> None:
    assert await store.save("original/1_abc.jpg", b"first")
    assert not await store.save("original/1_abc.jpg", b"other bytes")
    assert await store.read("original/1_abc.jpg") == b"first"


async def test_missing_objects(store: Storage) -> None:
    with pytest.raises(FileNotFoundError):
        await store.read("optimized/9_missing.webp")
    with pytest.raises(FileNotFoundError):
        await store.open("optimized/9_missing.webp")
    assert not await store.exists("optimized/9_missing.webp")


@pytest.mark.parametrize("key", ["../outside.webp", "/etc/passwd", "a/.hidden", "a b", ""])
async def test_bad_keys_never_reach_the_store(store: Storage, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.save(key, b"x")
    with pytest.raises(InvalidKey):
        await store.read(key)
    with pytest.raises(InvalidKey):
        await store.exists(key)
    with pytest.raises(InvalidKey):
        await store.delete(key)
    assert await keys_of(store) == {}


async def test_processed_image_layout_and_cleanup(store: Storage) -> None:
    processed = process_image(fixture_bytes("pillow/orientation/hopper.jpg"), ImageOptions())
    stored = await store_processed(store, "17895695668004550", processed)
    listed = await keys_of(store)
    assert set(listed) == set(stored.keys)
    for key in stored.keys:  # content-addressed: the name carries the start of the hash
        data = await store.read(key)
        assert listed[key] == len(data)
        assert hashlib.sha256(data).hexdigest()[:12] in key
    again = await store_processed(store, "17895695668004550", processed)
    assert again == stored
    assert await remove_files(store, stored.keys) == len(stored.keys)
    assert await keys_of(store) == {}


async def test_s3_leaves_nothing_in_the_media_folder(s3_settings: Settings) -> None:
    store = media_storage(s3_settings)
    processed = process_image(fixture_bytes("pillow/orientation/hopper.jpg"), ImageOptions())
    await store_processed(store, "42", processed)
    assert store.local_path("original/42_abc.jpg") is None
    media_dir: Path = s3_settings.media_root
    assert not media_dir.exists() or not any(media_dir.rglob("*"))
