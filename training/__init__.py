"""Training both FaceMe stages on accelerate, on top of faceme_core.engine (see training/README.md)."""
