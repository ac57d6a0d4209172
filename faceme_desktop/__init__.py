"""FaceMe Desktop's window (PySide6): views on top of ``faceme_core``; no business logic lives here.

- ``app``: start-up (arguments, settings, logging, the error hook, the theme watcher) and ``main()``
- ``session``: the open library, its revision watcher, background reads and ordered edits, undo/redo
- ``tasks_qt`` / ``core_tasks`` / ``scan_controller``: the core's long tasks (progress, cancel) on Qt's
  thread pool, and the status bar part that follows them (``status_progress``)
- ``models/``: paged Qt item models over the core's queries (no widgets); ``pager`` feeds them
- ``views/``: one module per view or dialog; ``main_window`` only wires them together
- ``core_queries``: read-only compositions of core calls that one view shows together
- ``pyside_fixes``: work-arounds for measured bugs of the Qt binding
"""

__version__ = "0.1.0"
