"""The memory estimate of load_photo is what it really takes (16-bit photos, measured), and the limit holds."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from faceme_core.errors import ImageLoadError
from faceme_core.imageio import deep, load_photo
from faceme_core.imageio.memory import MAX_LOAD_BYTES, load_peak_bytes

W, H = 1500, 1000


def _png16(path, channels: int, turned: bool = False):
    rng = np.random.default_rng(0)
    samples = (rng.integers(0, 65535, (H, W, channels), dtype=np.uint16) & 0xFF00).astype(np.uint16)
    exif = None
    if turned:
        tags = Image.Exif()
        tags[0x0112] = 6
        exif = tags.tobytes()
    path.write_bytes(deep.encode_png16(samples, icc_profile=None, exif=exif, texts={}, dpi=None))
    return path


@pytest.mark.parametrize("channels, alpha", [(1, False), (2, True), (3, False), (4, True)])
@pytest.mark.parametrize("turned", [False, True])
def test_16_bit_estimate_covers_the_measured_peak(tmp_path, channels, alpha, turned):
    path = _png16(tmp_path / "deep.png", channels, turned)
    load_photo(path)  # warm-up: lazy imports
    data_bytes = path.stat().st_size  # the file is read into memory too
    tracemalloc.start()
    try:
        photo = load_photo(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert photo.pixels.dtype == np.uint16
    estimate = load_peak_bytes(W, H, bands=channels, deep=True, alpha=alpha, turned=turned)
    # True: never below what was used; and not a wild over-estimate either.
    assert peak - data_bytes <= estimate * 1.05, (peak, estimate)
    assert estimate <= (peak - data_bytes) * 1.6 + 1_000_000, (peak, estimate)


def test_rgb_16_bit_is_reordered_in_place():
    # 150 MP of 16-bit RGB: the decoded array is the photo (no 900 MB copy), so it stays within the limit.
    assert load_peak_bytes(10_000, 15_000, bands=3, deep=True, alpha=False, turned=False) < 905_000_000
    assert load_peak_bytes(10_000, 15_000, bands=3, deep=True, alpha=False, turned=False) <= MAX_LOAD_BYTES


def _header_only_png(path, width: int, height: int, color_type: int) -> None:
    """A tiny PNG (a few hundred bytes) declaring a huge 16-bit image."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
                     + chunk(b"IEND", b""))


def test_a_small_file_declaring_149_megapixels_of_16_bit_rgba_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.png"
    _header_only_png(path, 12_200, 12_200, color_type=6)  # 148.8 MP, 16-bit RGBA: 1.2 GB decoded + planes
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError, match="GB of memory"):
            load_photo(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # refused before decoding anything
