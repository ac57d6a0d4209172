"""FaceMe Desktop's window (PySide6): views on top of ``faceme_core``; no business logic lives here.

- ``app``: start-up (arguments, settings, logging, the error hook) and ``main()``
- ``session``: the open library, its revision watcher, background queries and edits
- ``tasks_qt``: the core's long tasks (progress, cancel) run on Qt's thread pool
- ``models/``: Qt item models (no widgets); ``views/``: one module per view
- ``core_queries``: read-only queries the core does not offer yet (to move into the core)
"""

__version__ = "0.1.0"
