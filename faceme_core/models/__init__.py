"""The model store: what the engine needs, where it lives on disk, and how to get and check it."""
