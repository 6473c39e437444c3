"""process_image on every fixture image, plus the conversions one by one."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import blurhash
import numpy as np
import pytest
from PIL import Image, ImageOps

from instagram_service.media.errors import ImageRejected
from instagram_service.media.imaging import (
    HEIF_SUPPORTED,
    ImageOptions,
    ProcessedImage,
    VariantSpec,
    _to_rgb,
    avif_supported,
    process_image,
)
from instagram_service.settings import Settings
from tests.media.conftest import (
    FIXTURES,
    decode,
    fixture_bytes,
    grey,
    jpeg_bytes,
    mean_abs_diff,
    riff_chunks,
)

OPTIONS = ImageOptions()
ALL_FILES = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.is_file())

# Files that must be rejected, and the reason they must give.
BAD = {
    "pillow/bombs/decompression_bomb.gif": r"4365 megapixels, over the 50 MP limit",
    "pillow/bombs/decompression_bomb_extents.gif": r"4308 megapixels, over the 50 MP limit",
    "pillow/bombs/decompression_bomb.ico": r"not an image in a supported format",
    "pillow/bombs/png_decompression_dos.png": r"corrupt \(Decompressed data too large",
    "pillow/corrupt/broken.png": r"corrupt \(unreadable PNG data\)",
    "pillow/corrupt/unknown_compression_method.png": r"corrupt \(unreadable PNG data\)",
    "pillow/corrupt/truncated_image.png": r"image is truncated \(",
    "pillow/corrupt/zero_width.gif": r"zero width or height",
    "pillow/jpeg/truncated_jpeg.jpg": r"image is truncated \(",
    "pillow/jpeg/ultrahdr_pixel6_truncated.jpg": r"image is truncated \(",
    "pillow-heif/empty.heic": r"image is empty \(0 bytes\)",
    "pillow-heif/corrupted.heic": r"HEIC|corrupt",
    "pillow-heif/truncated.heic": r"HEIC|truncated|corrupt",
}
HEIF_FILES = {path for path in ALL_FILES if path.endswith((".heic", ".heif"))}
UNSUPPORTED = set() if HEIF_SUPPORTED else HEIF_FILES - set(BAD)


def check_variants(result: ProcessedImage) -> None:
    """Boxes fitted, nothing upscaled, aspect kept, metadata gone, decodable as stated."""
    width, height = result.width, result.height
    names = {v.name for v in result.variants if v.format == "webp"}
    expected = {"thumbnail", "optimized"} | ({"large"} if max(width, height) > 800 else set())
    assert names == expected
    boxes = {"thumbnail": 300, "optimized": 800, "large": 1080}
    for variant in result.variants:
        box = boxes[variant.name]
        assert variant.width <= min(box, width)
        assert variant.height <= min(box, height)
        assert max(variant.width, variant.height) == min(box, max(width, height))
        assert abs(variant.width / variant.height - width / height) < 2 / min(
            variant.width, variant.height
        )
        img = decode(variant.data)
        assert img.size == (variant.width, variant.height)
        assert img.format == variant.format.upper()
        assert getattr(img, "n_frames", 1) == 1
        if variant.format == "webp":
            assert not {b"EXIF", b"XMP ", b"ICCP", b"ANIM"} & set(riff_chunks(variant.data))
        assert not img.info.get("exif")
    assert result.srcset == {v.name: v.width for v in result.variants if v.format == "webp"}
    assert re.fullmatch(r"#[0-9a-f]{6}", result.dominant_color)
    assert blurhash.is_valid_blurhash(result.blurhash)
    assert result.content_hash == hashlib.sha256(result.original).hexdigest()


@pytest.mark.parametrize("relative", ALL_FILES)
def test_every_fixture_image(relative: str) -> None:
    data = fixture_bytes(relative)
    if relative in BAD or relative in UNSUPPORTED:
        with pytest.raises(ImageRejected) as caught:
            process_image(data, OPTIONS)
        expected = BAD.get(relative, r"HEIC/HEIF images are not supported")
        assert re.search(expected, caught.value.reason), caught.value.reason
        return
    result = process_image(data, OPTIONS)
    assert result.original is data
    check_variants(result)


EXIF_SETS = [(name, n) for name in ("Landscape", "Portrait") for n in range(2, 9)]


@pytest.mark.parametrize(("name", "orientation"), EXIF_SETS)
def test_exif_orientation_examples_come_out_upright(name: str, orientation: int) -> None:
    reference = process_image(fixture_bytes(f"exif-orientation-examples/{name}_1.jpg"), OPTIONS)
    result = process_image(
        fixture_bytes(f"exif-orientation-examples/{name}_{orientation}.jpg"), OPTIONS
    )
    assert (result.width, result.height) == (reference.width, reference.height)
    for variant in reference.variants:
        other = result.variant(variant.name)
        assert other is not None
        assert (other.width, other.height) == (variant.width, variant.height)
        upright, candidate = grey(variant.data), grey(other.data)
        wrong = grey(decode(variant.data).transpose(Image.Transpose.ROTATE_180))
        mirrored = grey(decode(variant.data).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
        assert mean_abs_diff(upright, candidate) < 2
        assert mean_abs_diff(upright, candidate) * 4 < mean_abs_diff(upright, wrong)
        assert mean_abs_diff(upright, candidate) * 4 < mean_abs_diff(upright, mirrored)


@pytest.mark.parametrize(
    "relative",
    [
        f"pillow/orientation/hopper_orientation_{n}.{ext}"
        for n in range(2, 9)
        for ext in ("jpg", "webp")
    ],
)
def test_hopper_orientations_match_the_upright_hopper(relative: str) -> None:
    reference = process_image(fixture_bytes("pillow/orientation/hopper.jpg"), OPTIONS)
    upright = grey(reference.variants[0].data)
    wrong = grey(decode(reference.variants[0].data).transpose(Image.Transpose.TRANSPOSE))
    result = process_image(fixture_bytes(relative), OPTIONS)
    assert mean_abs_diff(upright, grey(result.variants[0].data)) < 4
    assert mean_abs_diff(wrong, grey(result.variants[0].data)) > 12


@pytest.mark.parametrize("rot", range(4))
@pytest.mark.parametrize("mir", range(2))
def test_avif_rotation_boxes_are_applied(rot: int, mir: int) -> None:
    reference = process_image(fixture_bytes("pillow/orientation/avif_rot0mir0.avif"), OPTIONS)
    result = process_image(fixture_bytes(f"pillow/orientation/avif_rot{rot}mir{mir}.avif"), OPTIONS)
    assert (result.width, result.height) == (reference.width, reference.height) == (640, 427)
    upright = grey(reference.variants[0].data)
    wrong = grey(decode(reference.variants[0].data).transpose(Image.Transpose.ROTATE_180))
    # the labels in the middle name each file's boxes, so allow for them
    assert mean_abs_diff(upright, grey(result.variants[0].data)) * 3 < mean_abs_diff(upright, wrong)


def test_orientation_swaps_width_and_height() -> None:
    result = process_image(fixture_bytes("pillow/orientation/orientation_rectangle.jpg"), OPTIONS)
    assert (result.width, result.height) == (1, 2)
    assert (result.variants[0].width, result.variants[0].height) == (1, 2)


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth picture with an asymmetric feature, so rotations are told apart."""
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    arr = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], -1)
    arr[: height // 5, : width // 4] = [250, 20, 20]
    arr = arr + rng.normal(0, 3, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def test_draft_decode_then_rotation_gives_the_same_picture_as_a_full_decode() -> None:
    stored = photo(4000, 3000)  # stored sideways; orientation 6 turns it to 3000 x 4000
    exif = Image.Exif()
    exif[0x0112] = 6
    data = jpeg_bytes(stored, quality=92, exif=exif.tobytes())
    result = process_image(data, OPTIONS)
    assert (result.width, result.height) == (3000, 4000)
    large = result.variant("large")
    assert large is not None
    assert (large.width, large.height) == (810, 1080)
    truth = ImageOps.exif_transpose(decode(data)).resize((810, 1080), Image.Resampling.LANCZOS)
    assert mean_abs_diff(grey(truth), grey(large.data)) < 2
    wrong = truth.transpose(Image.Transpose.ROTATE_180)
    assert mean_abs_diff(grey(wrong), grey(large.data)) > 20


def test_cmyk_is_converted_not_inverted() -> None:
    result = process_image(fixture_bytes("pillow/jpeg/pil_sample_cmyk.jpg"), OPTIONS)
    img = decode(result.variant("optimized").data).convert("RGB")  # type: ignore[union-attr]
    red, green, blue = img.getpixel((0, 0))  # type: ignore[misc]
    assert red > 180  # Pillow's own test: the top left is red
    assert max(green, blue) < 80
    assert max(img.getpixel((img.width - 1, img.height - 1))) < 60  # type: ignore[arg-type]


TRANSPARENT = [
    "pillow/png/pil123p_palette_trns.png",
    "pillow/png/p_trns_single.png",
    "pillow/png/transparent_rgba.png",
    "pillow/png/l_trns.png",
    "pillow/png/rgb_trns_colorkey.png",
    "pillow/png/1bit_trns.png",
    "pillow/png/i_trns_16bit_gray.png",
    "pillow/gif/transparent.gif",
    "pillow/webp/transparent.webp",
    "pillow/avif/transparency.avif",
]


@pytest.mark.parametrize("relative", TRANSPARENT)
def test_transparency_is_flattened_on_the_background(relative: str) -> None:
    source = decode(fixture_bytes(relative))
    alpha = np.asarray(source.convert("RGBA").getchannel("A"))
    clear = alpha == 0
    assert clear.any()
    options = ImageOptions(background=(0, 255, 0))
    flat, _ = _to_rgb(source, options)  # before lossy WebP: exact
    assert flat.mode == "RGB"
    assert np.all(np.asarray(flat)[clear] == [0, 255, 0])
    if relative.endswith("1bit_trns.png"):
        return  # a 1-pixel checkerboard: lossy WebP averages it away
    result = process_image(fixture_bytes(relative), options)
    out = np.asarray(decode(result.variants[0].data).convert("RGB").resize(source.size)).astype(int)
    # after WebP: fully transparent pixels still show the background (median: edges blur)
    assert np.median(out[clear], axis=0).tolist() == pytest.approx([0, 255, 0], abs=12)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = (np.arange(256 * 64, dtype=np.uint32).reshape(64, 256) * 4 % 65536).astype(np.uint16)
    img = Image.fromarray(ramp)
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    assert decode(buffer.getvalue()).mode.startswith("I")
    result = process_image(buffer.getvalue(), OPTIONS)
    out = np.asarray(decode(result.variants[0].data).convert("L"), dtype=float)
    expected = ramp.astype(float) / 257
    assert np.abs(out - expected).mean() < 4  # clipping would make almost all of it 255


def test_sixteen_bit_grey_fixture_keeps_its_tones() -> None:
    data = fixture_bytes("pillow/png/i_trns_16bit_gray.png")
    values = np.asarray(decode(data), dtype=float)
    transparent = decode(data).info["transparency"]
    opaque = values != transparent
    out = np.asarray(decode(process_image(data, OPTIONS).variants[0].data).convert("L"), float)
    assert np.abs(out[opaque] - values[opaque] / 257).mean() < 4


@pytest.mark.parametrize(
    "relative",
    [
        "pillow/gif/chi_animated_31frames.gif",
        "pillow/webp/iss634_animated_42frames.webp",
        "pillow/png/apng_delay_5frames.png",
        "pillow/avif/star_animated.avifs",
        "pillow/jpeg/frozenpond_nintendo3ds.mpo",
    ],
)
def test_animations_are_reduced_to_their_first_frame(relative: str) -> None:
    source = decode(fixture_bytes(relative))
    assert getattr(source, "n_frames", 1) > 1
    first = source.convert("RGBA")
    flat = Image.new("RGB", first.size, (255, 255, 255))
    flat.paste(first, mask=first.getchannel("A"))
    source.seek(source.n_frames - 1)
    last = source.convert("RGB")
    result = process_image(fixture_bytes(relative), OPTIONS)
    out = decode(result.variant("optimized").data)  # type: ignore[union-attr]
    assert getattr(out, "n_frames", 1) == 1
    size = (64, 64)
    assert mean_abs_diff(grey(flat, size), grey(out, size)) < 8
    if mean_abs_diff(grey(flat, size), grey(last, size)) > 20:
        assert mean_abs_diff(grey(last, size), grey(out, size)) > 10


def test_metadata_is_stripped_and_icc_converted_or_kept() -> None:
    data = fixture_bytes("pillow/jpeg/icc_profile_big_progressive.jpg")
    assert decode(data).info.get("icc_profile")
    converted = process_image(data, OPTIONS)
    kept = process_image(data, ImageOptions(keep_icc=True))
    assert b"ICCP" not in riff_chunks(converted.variants[0].data)
    assert b"ICCP" in riff_chunks(kept.variants[0].data)
    assert decode(kept.variants[0].data).info["icc_profile"] == decode(data).info["icc_profile"]
    exif_data = fixture_bytes("exif-orientation-examples/Landscape_3.jpg")
    assert decode(exif_data).info.get("exif")
    for variant in process_image(exif_data, ImageOptions(keep_icc=True)).variants:
        assert not {b"EXIF", b"XMP "} & set(riff_chunks(variant.data))


def test_identical_input_gives_identical_output() -> None:
    data = fixture_bytes("derived-instagram-sizes/ig_portrait_4x5_1080x1350.jpg")
    first, second = process_image(data, OPTIONS), process_image(bytes(data), OPTIONS)
    assert first == second
    assert first.content_hash == hashlib.sha256(data).hexdigest()


def test_too_many_pixels_is_rejected_with_the_count() -> None:
    data = jpeg_bytes(Image.new("RGB", (3000, 3000), (10, 20, 30)))
    with pytest.raises(ImageRejected, match=r"image has 9\.0 megapixels, over the 5 MP limit"):
        process_image(data, ImageOptions(max_pixels=5_000_000))
    with pytest.raises(ImageRejected, match=r"over the 2 MP limit"):  # Pillow's own 2x guard
        process_image(data, ImageOptions(max_pixels=2_000_000))
    assert process_image(data, ImageOptions(max_pixels=9_000_000)).width == 3000


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", r"empty"),
        (b"<!DOCTYPE html><html><body>Not found</body></html>", r"not an image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, r"corrupt|truncated"),
        (fixture_bytes("pillow/jpeg/hopper_gray.jpg")[:1500], r"truncated"),
    ],
)
def test_non_images_and_broken_images_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected, match=reason):
        process_image(data, OPTIONS)


def test_small_images_are_never_upscaled_and_large_only_when_bigger_than_800() -> None:
    cases = [((640, 480), (640, 480), False), ((800, 800), (800, 800), False)]
    cases.append(((801, 300), (800, 300), True))
    for size, fitted, has_large in cases:
        result = process_image(jpeg_bytes(photo(*size)), OPTIONS)
        assert (result.variant("large") is not None) is has_large
        optimized = result.variant("optimized")
        assert optimized is not None
        assert (optimized.width, optimized.height) == fitted


@pytest.mark.skipif(not avif_supported(), reason="Pillow without AVIF")
def test_avif_variants_when_enabled() -> None:
    result = process_image(fixture_bytes("pillow/orientation/hopper.jpg"), ImageOptions(avif=True))
    avif = [v for v in result.variants if v.format == "avif"]
    assert [v.name for v in avif] == ["thumbnail", "optimized"]
    for variant in avif:
        img = decode(variant.data)
        assert img.format == "AVIF"
        assert img.size == (variant.width, variant.height)
        assert not img.info.get("exif")


def test_options_from_settings_and_custom_variants() -> None:
    settings = Settings(webp_quality=70, image_background="#102030", keep_icc_profile=True)
    options = ImageOptions.from_settings(settings)
    assert options.webp_quality == 70
    assert options.background == (16, 32, 48)
    assert options.keep_icc
    assert options.webp_method == 1
    custom = ImageOptions(variants=(VariantSpec("optimized", 800), VariantSpec("thumbnail", 300)))
    result = process_image(fixture_bytes("exif-orientation-examples/Landscape_1.jpg"), custom)
    assert result.srcset == {"optimized": 800, "thumbnail": 300}


def test_fixture_list_is_complete() -> None:
    assert len(ALL_FILES) > 90
    assert all((FIXTURES / path).is_file() for path in BAD)
    assert Path(FIXTURES / "exif-orientation-examples").is_dir()
