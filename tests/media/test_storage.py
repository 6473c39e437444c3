"""LocalStorage: atomic, idempotent, content-addressed writes; keys never leave the folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from instagram_service.media.imaging import ImageOptions, process_image
from instagram_service.media.storage import (
    InvalidKey,
    LocalStorage,
    Storage,
    remove_files,
    store_processed,
    validate_key,
)
from tests.media.conftest import fixture_bytes


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", accel_prefix="/_media/")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_save_is_atomic_and_idempotent(storage: LocalStorage) -> None:
    assert isinstance(storage, Storage)
    assert await storage.save("optimized/1_abc.webp", b"one")
    path = storage.path("optimized/1_abc.webp")
    first_stat = path.stat()
    assert not await storage.save("optimized/1_abc.webp", b"one")  # nothing written
    assert path.stat().st_mtime_ns == first_stat.st_mtime_ns
    assert path.stat().st_ino == first_stat.st_ino
    assert await storage.read("optimized/1_abc.webp") == b"one"
    assert await storage.exists("optimized/1_abc.webp")
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert files_under(storage.root) == [path]  # no temporary file left behind


async def test_a_failed_write_leaves_nothing(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        await storage.save("original/1_abc.jpg", b"x" * 100_000)
    monkeypatch.undo()
    assert files_under(storage.root) == []
    assert not await storage.exists("original/1_abc.jpg")


@pytest.mark.parametrize(
    "key",
    [
        "../outside.webp",
        "optimized/../../etc/passwd",
        "/etc/passwd",
        "optimized//x.webp",
        "optimized/.hidden",
        "optimized/..",
        "optimized/a b.webp",
        "optimized\\..\\x.webp",
        "optimized/x.webp\x00.jpg",
        "",
        "a/b/c/d/e.webp",
    ],
)
async def test_path_traversal_and_odd_keys_are_rejected(storage: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)
    with pytest.raises(InvalidKey):
        await storage.save(key, b"x")
    with pytest.raises(InvalidKey):
        await storage.read(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    assert files_under(storage.root.parent) == []


async def test_a_symlink_out_of_the_folder_is_refused(
    storage: LocalStorage, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage.root.mkdir(parents=True)
    (storage.root / "optimized").symlink_to(outside)
    with pytest.raises(InvalidKey, match="leaves the media folder"):
        await storage.save("optimized/1_abc.webp", b"x")
    assert list(outside.iterdir()) == []


async def test_store_processed_layout_idempotency_and_cleanup(storage: LocalStorage) -> None:
    data = fixture_bytes("exif-orientation-examples/Landscape_6.jpg")
    processed = process_image(data, ImageOptions())
    stored = await store_processed(storage, "17895695668004550", processed)
    assert re.fullmatch(r"original/17895695668004550_[0-9a-f]{12}\.jpg", stored.original_key)
    keys = {v.name: v.key for v in stored.variants}
    assert set(keys) == {"thumbnail", "optimized", "large"}
    assert re.fullmatch(r"thumbnails/17895695668004550_[0-9a-f]{12}\.webp", keys["thumbnail"])
    assert keys["optimized"].startswith("optimized/")
    assert keys["large"].startswith("large/")
    assert await storage.read(stored.original_key) == data
    for variant, stored_variant in zip(processed.variants, stored.variants, strict=True):
        assert await storage.read(stored_variant.key) == variant.data
        assert (stored_variant.width, stored_variant.height) == (variant.width, variant.height)
        assert stored_variant.size == len(variant.data)
    assert (stored.width, stored.height) == (1800, 1200)
    assert stored.content_hash == processed.content_hash
    assert stored.blurhash == processed.blurhash
    assert stored.srcset == {"thumbnail": 300, "optimized": 800, "large": 1080}
    assert stored.key_for("optimized") == keys["optimized"]
    assert storage.accel_redirect(keys["optimized"]) == f"/_media/{keys['optimized']}"
    assert storage.local_path(keys["optimized"]) == storage.root / keys["optimized"]

    # the same image again (a second sync): same names, nothing written
    before = {p: p.stat().st_mtime_ns for p in files_under(storage.root)}
    again = await store_processed(storage, "17895695668004550", process_image(data, ImageOptions()))
    assert again == stored
    assert {p: p.stat().st_mtime_ns for p in files_under(storage.root)} == before

    assert await remove_files(storage, [*stored.keys, None, ""]) == 4
    assert files_under(storage.root) == []
    assert await remove_files(storage, stored.keys) == 0


async def test_avif_variants_go_to_their_own_folder(storage: LocalStorage) -> None:
    processed = process_image(
        fixture_bytes("pillow/orientation/hopper.jpg"), ImageOptions(avif=True)
    )
    stored = await store_processed(storage, "42", processed)
    avif_keys = [v.key for v in stored.variants if v.format == "avif"]
    if not avif_keys:
        pytest.skip("Pillow without AVIF")
    assert all(
        re.fullmatch(r"avif/(thumbnails|optimized)/42_[0-9a-f]{12}\.avif", k) for k in avif_keys
    )


async def test_bad_media_ids_never_reach_a_path(storage: LocalStorage) -> None:
    processed = process_image(fixture_bytes("pillow/orientation/hopper.jpg"), ImageOptions())
    for media_id in ("../1", "1/2", "", "1.2", "a" * 65):
        with pytest.raises(InvalidKey):
            await store_processed(storage, media_id, processed)
    assert files_under(storage.root.parent) == []


async def test_remove_files_checks_every_key_first(storage: LocalStorage) -> None:
    await storage.save("optimized/1_abc.webp", b"x")
    with pytest.raises(InvalidKey):
        await remove_files(storage, ["optimized/1_abc.webp", "../../etc/passwd"])
    assert await storage.exists("optimized/1_abc.webp")
