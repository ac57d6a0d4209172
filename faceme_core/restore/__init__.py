"""Whole-photo restoration: find the faces, decide whose references each one gets, restore, paste back."""
