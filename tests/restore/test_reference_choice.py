"""Age-aware reference choice (pure): the person's references closest in time to the photo."""

from __future__ import annotations

import pytest

from faceme_core.restore.reference_choice import DatedReference, choose_references, year_of


def test_closest_years_first_undated_last_and_at_most_the_limit():
    refs = [DatedReference("adult", 1990), DatedReference("file", None), DatedReference("child", 1962),
            DatedReference("teen", 1970), DatedReference("old", 2010)]
    assert choose_references(refs, 1960, limit=2) == ("child", "teen")
    assert choose_references(refs, 2008, limit=3) == ("old", "adult", "teen")
    assert choose_references(refs, 1960, limit=5)[-1] == "file"  # undated only fills the places left


def test_unknown_photo_year_or_no_dated_reference_keeps_every_reference_in_order():
    refs = [DatedReference("a", 1990), DatedReference("b", 1960)]
    assert choose_references(refs, None) == ("a", "b")
    assert choose_references([DatedReference("a", None), DatedReference("b", None)], 1960) == ("a", "b")
    with pytest.raises(ValueError):
        choose_references(refs, 1960, limit=0)


def test_year_of_reads_iso_dates_and_ignores_junk():
    assert year_of("1987-06-01T12:00:00") == 1987
    assert [year_of(v) for v in (None, "", "0000:00:00", "abcd-01-01", "12")] == [None] * 5
