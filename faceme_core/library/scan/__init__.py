"""`faceme scan`: find the photos under album folders, analyse new ones, group their faces into people.

Stages, one module each (``run.scan_folders`` runs them in order):

1. ``lock``: one scan per library at a time; the album folders are registered (``albums``).
2. ``inventory`` ("walking"): one ``os.scandir`` walk plus one SELECT sort files into unchanged (same
   size and mtime: nothing else happens) and to-do.
3. ``photo_loop`` ("analysing"): each to-do photo is hashed (``files``), recognised as moved (same
   content at a new path: keeps its faces, people, references) or analysed (``decide``); analyses
   (``analysis``: decode, detect, embed, thumbnails) run in worker processes; each photo is committed
   on its own (``photo_writes``, ``face_rows``), so a killed scan loses at most the photo in progress
   and a re-run finishes the job; an edited photo keeps the faces found again where they were (with
   every decision about them).
4. ``finish``: photos no longer on disk are marked missing (never forgotten).
5. ``embed_stage`` ("embedding"): faces of present photos under the scanned folders lacking an
   embedding of the analyzer's model get one (all of them with ``reembed``, after which the library
   switches to that model); a meta flag (``keys``) skips this step's query once every face has one.
6. ``finish`` ("grouping"): new faces join people.
"""

from faceme_core.library.scan.analysis import Analyzer
from faceme_core.library.scan.face_rows import insert_faces, thumbnails_of, unused_thumbnails, update_faces
from faceme_core.library.scan.files import content_hash
from faceme_core.library.scan.keys import ACTIVE_MODEL_KEY, EMBEDDINGS_COMPLETE_KEY, GROUPING_PENDING_KEY
from faceme_core.library.scan.photo_writes import retired_path
from faceme_core.library.scan.run import scan_folders

__all__ = [
    "ACTIVE_MODEL_KEY",
    "EMBEDDINGS_COMPLETE_KEY",
    "GROUPING_PENDING_KEY",
    "Analyzer",
    "content_hash",
    "insert_faces",
    "retired_path",
    "scan_folders",
    "thumbnails_of",
    "unused_thumbnails",
    "update_faces",
]
