"""FaceMe Desktop GUI (PySide6): a view on top of faceme_core. Not built yet: see the roadmap in README."""
