"""Faces in whole photos: detection, embeddings, quality, alignment and paste-back."""
