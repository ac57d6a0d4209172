"""FaceMe Desktop core: image I/O, faces, restoration engine, model store and album library.

This package never imports Qt: the desktop app (``faceme_desktop``) and ``training`` build on it.
"""

__version__ = "0.1.0"
