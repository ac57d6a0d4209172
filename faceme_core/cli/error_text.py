"""How the CLI words a core error: settings become its flags, actions become commands to type.

The core names no flag or command (the desktop app has neither); this table is the one place that
knows which flag sets which core setting and which command does which step.
"""

from __future__ import annotations

from faceme_core.errors import ACTIONS, FaceMeError, plain_sentence

# Core setting name -> the flag that sets it.
FLAGS: dict[str, str] = {
    "out_dir": "--out-dir",
    "output": "-o",
    "photo": "--photo",
    "library": "--library",
    "count": "--count",
    "reembed": "--reembed",
    "device": "--device",
    "offload": "--offload",
    "sampler": "--sampler",
    "steps": "--steps",
    "identity_strength": "--identity-strength",
    "seed": "--seed",
    "match_threshold": "--match-threshold",
    "component": "--component",
    "person": "--person",
    "backend": "--backend",
    "faces": "--faces",
    "others": "--others",
    "overwrite": "--overwrite",
    "file": "--file",
    "width": "--width",
    "height": "--height",
}

# Core action name -> what to type (shown after the core's plain hint, or instead of it).
COMMANDS: dict[str, str] = {
    "scan": "run 'faceme scan FOLDER'",
    "reembed": "run 'faceme scan --reembed FOLDER...'",
    "list_people": "see 'faceme people list'",
    "move_face": "'faceme people move'",
    "list_references": "see 'faceme refs list PERSON'",
    "list_jobs": "see 'faceme restore-album --list'",
    "download_models": "`faceme models download`, or `faceme models import DIR` for copied files",
    "download_antelopev2": "`faceme models download antelopev2`",
    "import_models": "`faceme models import DIR`",
    "verify_models": "details: `faceme models verify PATH`; get them again with `faceme models download` or "
                     "`faceme models import DIR`",
    "align": "'faceme align PHOTO --out-dir FOLDER'",
    "use_cpu": "try --device cpu (float32) or another --sampler",
    "resume_job": "'faceme restore-album --resume'",
}
assert set(COMMANDS) == ACTIONS, "every core action needs its CLI command"


def error_json(error: BaseException) -> dict:
    """The error for a ``--json`` report: the terminal's line plus the core's fields."""
    if not isinstance(error, FaceMeError):
        return {"message": str(error)}
    return {
        "message": describe(error), "what": error.what,
        "subject": None if error.subject is None else str(error.subject), "setting": flag_of(error.setting),
        "value": None if error.value is None else str(error.value), "details": list(error.details),
        "hint": error.hint,
    }


def flag_of(setting: str | None) -> str | None:
    return FLAGS.get(setting) if setting else None


def describe(error: BaseException) -> str:
    """The terminal's wording: ``--flag VALUE: what; hint (command)``; listed details on their own lines."""
    if not isinstance(error, FaceMeError):
        return str(error)
    flag = flag_of(error.setting)
    shown = error.value
    subject = f"{flag} {shown}" if flag and shown is not None and not isinstance(shown, bool) else None
    command = COMMANDS[error.action] if error.action else None
    extras = []
    if flag and subject is None and not (command and flag in command):  # name the flag in the hint
        extras.append(flag)
    if command:
        extras.append(command)
    if not error.hint and extras:  # "no person named 'X' (see 'faceme people list')", as before
        return f"{plain_sentence(error, subject=subject, hint='', details_as_list=True)} ({'; '.join(extras)})"
    hint = f"{error.hint} ({'; '.join(extras)})" if extras else error.hint
    return plain_sentence(error, subject=subject, hint=hint, details_as_list=True)
