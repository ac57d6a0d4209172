"""Age-aware reference choice: a person's references closest in time to the photo being restored.

People change over a lifetime: a child's face restored with the adult's references turns into
someone else. When the photo's year is known (EXIF date taken, or the user's estimate for a scanned
print) and some references are dated, the references taken closest to that year are used; the
difference in years between two photos of one person is their difference in age. Without dates the
person's references are used as they are (oldest first, the library's order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

# FaceMe takes any number of references; a handful close in age beats many spread over decades.
MAX_AGE_MATCHED_REFERENCES = 4

T = TypeVar("T")


@dataclass(frozen=True)
class DatedReference(Generic[T]):
    reference: T  # whatever the caller uses for a reference (a TaskReference, a library Reference)
    year: int | None  # when its photo was taken; None when unknown (external files, photos without EXIF)


def year_of(iso_date: str | None) -> int | None:
    """The year of an ISO 8601 date ("1987-06-01T12:00:00"), None when absent or unreadable."""
    if not iso_date or len(iso_date) < 4 or not iso_date[:4].isdigit():
        return None
    year = int(iso_date[:4])
    return year if 1800 <= year <= 2200 else None


def choose_references(
    references: Sequence[DatedReference[T]], photo_year: int | None, limit: int = MAX_AGE_MATCHED_REFERENCES
) -> tuple[T, ...]:
    """The references to restore a photo of ``photo_year`` with.

    Unknown photo year, or no dated reference: all of them, in their order. Otherwise the ``limit``
    closest in years (ties keep their order); undated ones only fill the places dated ones leave."""
    if limit < 1:
        raise ValueError(f"limit={limit!r}: must be at least 1")
    if photo_year is None or all(ref.year is None for ref in references):
        return tuple(ref.reference for ref in references)
    ranked = sorted(
        range(len(references)),
        key=lambda i: (references[i].year is None, abs((references[i].year or 0) - photo_year), i),
    )
    return tuple(references[i].reference for i in ranked[:limit])


def years_apart(reference_year: int | None, photo_year: int | None) -> int | None:
    """How many years lie between a reference and the photo (None when either is unknown): the GUI
    shows it beside each reference thumbnail."""
    if reference_year is None or photo_year is None:
        return None
    return abs(reference_year - photo_year)
