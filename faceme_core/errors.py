"""Errors a user can act on.

Anything raised as a ``FaceMeError`` is shown to the user as one line (the CLI exits with code 2, the
desktop app shows a message box); anything else is a bug and keeps its traceback.

An error carries its parts as fields so that each front end can word them its own way:

- ``what``: what is wrong, as a plain phrase ("is inside the album folder /photos").
- ``subject``: the file, folder, photo or thing it is about (shown before ``what``).
- ``setting``: the core name of the option at fault ("out_dir", "reembed", "device"); the CLI maps it
  to its flag (``--out-dir``), the GUI to the field it highlights. Never a CLI flag name.
- ``value``: the value the setting had.
- ``details``: the items it lists, one per entry (each missing model component...), shown as a list.
- ``hint``: what to do, in plain words, naming no command or flag.
- ``action``: the core name of the step that fixes it (one of ``ACTIONS``); the CLI turns it into a
  command to type, the GUI may offer it as a button.

``str(error)`` is one plain sentence built from those fields, so code that only wants a message (and
errors built from one message, ``FaceMeError("...")``) keeps working.
"""

from __future__ import annotations

from pathlib import Path

# Steps an error can point to. Keep in sync with the CLI's table (faceme_core/cli/error_text.py).
ACTIONS = frozenset(
    {
        "scan",  # scan the album folder (again)
        "reembed",  # rescan with the new embedding model
        "list_people",  # look up people and face ids
        "move_face",  # move a face to a person
        "list_references",  # look up a person's references
        "list_jobs",  # look up restore jobs
        "download_models",  # download the model components
        "download_antelopev2",  # download insightface's antelopev2 pack
        "import_models",  # import model files copied from elsewhere
        "verify_models",  # check the installed model files in detail
        "align",  # cut the faces out of a photo (aligned-faces folder)
        "use_cpu",  # restore on the CPU in float32, or with another sampler
        "resume_job",  # resume the album job
    }
)


class FaceMeError(Exception):
    """Base class for user-facing errors: what is wrong, about which input or setting, and what to do."""

    def __init__(
        self,
        what: str,
        *,
        subject: str | Path | None = None,
        setting: str | None = None,
        value: object = None,
        details: tuple[str, ...] = (),
        hint: str | None = None,
        action: str | None = None,
    ) -> None:
        if action is not None and action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; add it to faceme_core.errors.ACTIONS")
        super().__init__(what)
        self.what = what
        self.subject = subject
        self.setting = setting
        self.value = value
        self.details = tuple(details)
        self.hint = hint
        self.action = action

    def __str__(self) -> str:
        return plain_sentence(self)


def plain_sentence(
    error: FaceMeError, *, subject: str | None = None, hint: str | None = None, details_as_list: bool = False
) -> str:
    """``subject: what: detail; detail; hint``, with the subject and hint replaceable (the CLI words them
    its way); ``details_as_list`` puts each detail on its own line instead."""
    shown_subject = subject if subject is not None else _default_subject(error)
    shown_hint = hint if hint is not None else error.hint
    text = f"{shown_subject}: {error.what}" if shown_subject else error.what
    if error.details and details_as_list:
        text += ":" + "".join(f"\n  - {detail}" for detail in error.details)
        return f"{text}\n{shown_hint[:1].upper()}{shown_hint[1:]}" if shown_hint else text
    if error.details:
        text += ": " + "; ".join(error.details)
    return f"{text}; {shown_hint}" if shown_hint else text


def _default_subject(error: FaceMeError) -> str | None:
    if error.subject is not None:
        return str(error.subject)
    if error.setting is not None and isinstance(error.value, (str, Path)):
        return str(error.value)  # e.g. the out_dir folder itself
    return None


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

