"""How much memory opening a photo takes, estimated from its header before any pixel is decoded.

The pixel limit alone let a 1.1 MB 16-bit PNG declaring 149 megapixels (RGBA) take several GB: the
decoded samples, the separate colour and alpha planes and any turned copy all live at once. The
estimate below follows what ``load_photo`` really allocates (a test measures it), and photos whose
estimate exceeds ``MAX_LOAD_BYTES`` are refused from the header.
"""

from __future__ import annotations

from faceme_core.imageio.deep import SWAP_BAND_BYTES

# 150 MP of 8-bit RGB (a 1200 dpi A4 scan) needs about 1.05 GB, 150 MP of 16-bit RGB 0.9 GB; 16-bit
# RGBA or turned 16-bit photos that large do not fit.
MAX_LOAD_BYTES = 1_500_000_000


def load_peak_bytes(width: int, height: int, *, bands: int, deep: bool, alpha: bool, turned: bool) -> int:
    """Peak bytes of ``load_photo`` for a ``width`` x ``height`` image stored with ``bands`` samples a
    pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), ``deep`` = 16 bits a sample, ``turned`` = EXIF
    orientation other than 1."""
    pixels = width * height
    sample = 2 if deep else 1
    final = pixels * sample * (3 + (1 if alpha else 0))  # the Photo's colour and alpha planes
    turned_copy = final if turned else 0
    if deep:
        # OpenCV decodes gray+alpha as 4 channels; RGB is put in RGB order in place and kept as is.
        decoded = pixels * 2 * (4 if bands == 2 else bands)
        swap = SWAP_BAND_BYTES if bands != 1 else 0  # red and blue swapped a band of rows at a time
        if bands == 3 and not turned:
            return decoded + swap  # the decoded array is the photo's pixels
        # Otherwise the planes are copied out once (turning, if needed, makes that copy); a turned
        # gray plane is copied once more before it is spread to three channels.
        gray_turned = pixels * 2 if bands == 1 and turned else 0
        return decoded + swap + final + gray_turned
    decoded = pixels * (1 if bands == 1 else 4)  # Pillow holds 1 byte (L) or 4 bytes (all else) a pixel
    return decoded + final + turned_copy
