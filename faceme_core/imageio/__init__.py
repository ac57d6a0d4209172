"""Image I/O: photos in (any common format, upright, 8/16-bit, gray, alpha) and out (atomic, marked).

See load.py and save.py for the rules; the ``Photo`` convention is in faceme_core/image_types.py.
"""

from faceme_core.imageio.formats import SUPPORTED_SUFFIXES
from faceme_core.imageio.load import MAX_PIXELS, MIN_SIDE, PhotoInfo, load_photo, probe_photo
from faceme_core.imageio.mark import is_faceme_output
from faceme_core.imageio.metadata import date_taken
from faceme_core.imageio.save import save_photo

__all__ = [
    "MAX_PIXELS",
    "MIN_SIDE",
    "SUPPORTED_SUFFIXES",
    "PhotoInfo",
    "date_taken",
    "is_faceme_output",
    "load_photo",
    "probe_photo",
    "save_photo",
]
