"""One module per view; each takes the session (and shared helpers) in ``__init__``."""
