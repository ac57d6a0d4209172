"""Errors a user can act on.

Anything raised as a ``FaceMeError`` is shown to the user as one line (the CLI exits with code 2, the
desktop app shows a message box); anything else is a bug and keeps its traceback.
"""


class FaceMeError(Exception):
    """Base class for user-facing errors: the message must say what is wrong and what to do."""


class ImageLoadError(FaceMeError):
    """A photo could not be read (missing, unreadable, corrupt, unsupported, too large...)."""


class ImageSaveError(FaceMeError):
    """An output could not be written, or writing it would overwrite something it must not."""


class ModelMissingError(FaceMeError):
    """A model component the operation needs is not installed."""


class ModelFormatError(FaceMeError):
    """A model file exists but does not match what the engine expects."""


class LibraryError(FaceMeError):
    """The album library cannot do what was asked (unknown person, newer schema, ...)."""

