"""Connects a paged model to the session: each page it needs is read on a worker thread."""

from __future__ import annotations

from functools import partial
from typing import Callable

from faceme_core.library.queries import Page
from faceme_desktop.models.paged_model import PagedListModel
from faceme_desktop.session import LibrarySession

PageQuery = Callable[..., Page]  # fn(library, *, offset, limit) -> Page


class Pager:
    """``query()`` gives the core function with the view's current filter bound (called per page)."""

    def __init__(self, session: LibrarySession, model: PagedListModel, query: Callable[[], PageQuery]):
        self.session = session
        self.model = model
        self.query = query
        model.page_needed.connect(self._on_page_needed)

    def _on_page_needed(self, generation: int, offset: int) -> None:
        fn = partial(self.query(), offset=offset, limit=self.model.page_size)
        self.session.query(fn, on_result=partial(self.model.apply_page, generation))
