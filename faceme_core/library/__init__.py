"""The album library: photos, faces, people, references and restore jobs in one SQLite file.

Core functions take a ``Library`` (``library.Library.open(path)``) and return frozen dataclasses
(``types``); the CLI and the desktop app are thin views on top of them. Long operations take a
``progress`` callback and a ``tasks.CancelToken`` and commit as they
go, so they can be cancelled or killed at any moment and simply run again.

- ``scan.scan_folders``: find, analyse and group album photos (incremental, move-aware, crash-safe)
- ``people``: list people; rename, merge, move, reject, hide, cover, recluster (each returns a
  ``changes.LibraryChange``: what a view must refresh)
- ``references``: per-person references (album faces, image files, checked and flagged) and suggestions
- ``undo``: undo/redo of every decision about people and references, journaled in the library
- ``queries``: paged reads for views (people, a person's faces by similarity, photos, folders)
- ``review``: review queues (same person?, unassigned faces with a suggestion, a person twice in a photo)
- ``Library.revision()``: a number that changes when anything (this process or another) changed the library
- ``jobs``: persisted restore-album jobs (create, run, pause, resume, retry failed, cancel)
- ``photo_years``: when a photo was taken (EXIF or the user's estimate), for age-aware references
- ``photos``: photos by status; forgetting missing ones
- ``grouping`` (database side) and ``clustering`` (pure numpy): automatic grouping
- ``db.schema`` / ``db.migrations``: the tables and their versioned upgrades
"""
