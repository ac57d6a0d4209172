"""The FaceMe restoration engine: identity encoder, prompt surgery and sampling (torch, no Qt)."""
