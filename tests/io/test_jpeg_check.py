"""The structural JPEG completeness check, independent of Pillow's LOAD_TRUNCATED_IMAGES switch."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from faceme_core.imageio.jpeg import jpeg_is_complete
from tests.io.helpers import exif_with, noise


def _jpeg(**params) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(noise((40, 56, 3), seed=11)).save(buffer, format="JPEG", **params)
    return buffer.getvalue()


@pytest.mark.parametrize("params", [{}, {"progressive": True}, {"quality": 100, "subsampling": 0}])
def test_complete_files_pass_and_every_truncation_fails(params):
    data = _jpeg(**params)
    assert jpeg_is_complete(data)
    for cut in range(0, len(data) - 1, max(1, len(data) // 97)):
        assert not jpeg_is_complete(data[:cut]), cut
    assert not jpeg_is_complete(data[:-1])


def test_end_marker_inside_metadata_does_not_count():
    # A comment (like an EXIF thumbnail) may contain the bytes FF D9: only the real end counts.
    data = _jpeg(comment=b"fake end \xff\xd9 here", exif=exif_with(original="2001:02:03 04:05:06").tobytes())
    assert jpeg_is_complete(data)
    start_of_scan = data.index(b"\xff\xda")
    assert b"\xff\xd9" in data[:start_of_scan]
    assert not jpeg_is_complete(data[: start_of_scan + 20])


def test_trailing_data_after_the_image_is_fine():
    # Cameras append preview images and vendor trailers after the end-of-image marker.
    assert jpeg_is_complete(_jpeg() + b"vendor trailer" + _jpeg())


def test_restart_markers_and_fill_bytes():
    data = _jpeg(restart_marker_blocks=1)
    assert b"\xff\xd0" in data[data.index(b"\xff\xda"):]
    assert jpeg_is_complete(data)
    assert not jpeg_is_complete(data[: len(data) * 2 // 3])
    # Fill bytes (extra 0xFF) before a marker are legal.
    sos = data.index(b"\xff\xda")
    assert jpeg_is_complete(data[:sos] + b"\xff\xff" + data[sos:])


def test_not_a_jpeg():
    assert not jpeg_is_complete(b"")
    assert not jpeg_is_complete(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert not jpeg_is_complete(b"\xff\xd8\xff")
