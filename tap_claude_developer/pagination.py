"""The Admin API's cursor schemes, and the walk along one chain of pages.

A *chain* is one first request plus the pages its cursor leads to: requests in a chain depend
on each other, requests in different chains do not (so chains may run concurrently).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_claude_developer.client import AdminApiClient, ApiError, Body, PageMarks

#: More pages than this in one chain means the API is looping (10M items at 1000 a page).
MAX_PAGES_PER_CHAIN = 10_000

Cursor = t.Literal["id", "report", "token", "none"]


@dataclass(frozen=True)
class Chain:
    """One run of dependent requests for one organization.

    ``cursor`` names the scheme (admin-api.md §3): ``id`` follows ``last_id`` as ``after_id``
    while ``has_more``; ``report`` follows ``next_page`` as ``page`` while ``has_more``;
    ``token`` follows ``next_page`` until it is null; ``none`` is a single request.
    ``missing_ok`` turns a 404 into an empty chain (the Default Workspace, which has no member
    list or rate-limit entries). ``headers`` are sent with each request (anthropic-beta).
    """

    org_index: int
    path: str
    params: tuple[tuple[str, str], ...] = ()
    cursor: Cursor = "id"
    missing_ok: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    label: str = field(default="", compare=False)


class PaginationError(ApiError):
    """The API's cursors stopped making sense (a repeat, a missing cursor, no end)."""

    def __str__(self) -> str:
        return f"GET {self.path} stopped: {self.message}; the API's paging is inconsistent"


def next_cursor(scheme: Cursor, page: PageMarks, path: str) -> tuple[str, str] | None:
    """The parameter that fetches the page after ``page``, or None at the end."""
    if scheme == "none":
        return None
    if page.has_more is not None and not isinstance(page.has_more, bool):  # "false" is truthy: it would page on
        raise PaginationError(path, None, message="has_more is not a boolean")
    if scheme == "id":
        if not page.has_more:
            return None
        if not page.last_id:
            raise PaginationError(path, None, message="the API said has_more but gave no last_id")
        return ("after_id", _text(page.last_id, "last_id", path))
    token = page.next_page
    if scheme == "report":
        if not page.has_more:
            return None
        if not token:
            raise PaginationError(path, None, message="the API said has_more but gave no next_page")
        return ("page", _text(token, "next_page", path))
    return ("page", _text(token, "next_page", path)) if token else None


def _text(cursor: object, name: str, path: str) -> str:
    """A cursor goes back into the query as it came: a string, never the repr of an object."""
    if not isinstance(cursor, str):
        raise PaginationError(path, None, message=f"{name} is not a string")
    return cursor


def walk(client: AdminApiClient, chain: Chain) -> t.Iterator[Body]:
    """Yield every page of ``chain`` (unread), stopping on a repeated cursor instead of looping."""
    params = list(chain.params)
    seen: set[str] = set()
    for _ in range(MAX_PAGES_PER_CHAIN):
        try:
            page = client.get(chain.org_index, chain.path, params, chain.headers)
        except ApiError as error:
            if chain.missing_ok and error.status == 404:
                return
            raise
        yield page
        step = next_cursor(chain.cursor, page.marks, chain.path)
        if step is None:
            return
        if step[1] in seen:
            raise PaginationError(
                chain.path, None, message=f"the API repeated a cursor ({step[0]}) after {len(seen) + 1} pages"
            )
        seen.add(step[1])
        params = [*chain.params, step]
    raise PaginationError(chain.path, None, message=f"more than {MAX_PAGES_PER_CHAIN} pages in one listing")
