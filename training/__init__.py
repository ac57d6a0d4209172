"""Training (both FaceMe stages) on top of faceme_core.engine. Not built yet: see the roadmap in README."""
