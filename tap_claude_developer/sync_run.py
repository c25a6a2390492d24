"""What one run of the tap shares across streams: organizations, the HTTP client, failures.

Streams see organizations only by id (contexts, STATE and logs carry nothing else); the key
for each stays here, as the position of its key in ``admin_api_keys``.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from tap_claude_developer.client import AdminApiClient, ApiError, Body, redact
from tap_claude_developer.pagination import Chain, walk
from tap_claude_developer.prefetch import Prefetcher

if t.TYPE_CHECKING:
    from tap_claude_developer.streams.base import RunFeed

LOGGER = logging.getLogger("tap-claude-developer")


@dataclass(frozen=True)
class Organization:
    """An organization the run reached with its key (``index`` = position of that key)."""

    index: int
    id: str
    name: str
    record: dict[str, t.Any] = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        """For logs and errors: control characters in the API's name are escaped, so it cannot forge log lines."""
        return f"organization '{_printable(self.name)}' ({self.id})"


def _printable(text: str) -> str:
    return text if text.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Failure:
    """Why part of the run did not complete, in words safe to print."""

    who: str
    stream: str
    reason: str

    def __str__(self) -> str:
        return redact(f"{self.who}, stream '{self.stream}': {self.reason}")


class SyncRun:
    """Resolves each key's organization once, and keeps score of what failed."""

    def __init__(self, client: AdminApiClient, prefetcher: Prefetcher, key_labels: t.Sequence[str]) -> None:
        self.client = client
        self.prefetcher = prefetcher
        self.key_labels = list(key_labels)
        self.failures: list[Failure] = []
        self._skipped: set[tuple[str, str]] = set()
        #: Organizations whose key stopped working (a 401): their later requests are not sent.
        self._dead: dict[int, ApiError] = {}
        #: The run's ordered feed of chains, created by the first stream that syncs.
        self.feed: RunFeed | None = None
        self._organizations: list[Organization] | None = None
        self._by_id: dict[str, Organization] = {}
        #: Pages of small listings that several streams need (workspaces), fetched once a run.
        self._kept: dict[Chain, list[Body] | ApiError] = {}

    def close(self) -> None:
        self.client.stopping.set()  # workers waiting on a budget or a retry stop waiting
        self.prefetcher.close()
        self.client.close()

    @property
    def organizations(self) -> list[Organization]:
        """One per distinct organization, in key order; /me is asked once per key, concurrently."""
        if self._organizations is None:
            chains = [Chain(index, "/v1/organizations/me", cursor="none") for index in range(len(self.key_labels))]
            found: list[Organization] = []
            for chain, pages in self.prefetcher.ordered(chains, lambda c: walk(self.client, c)):
                who = self.key_labels[chain.org_index]
                try:
                    page = next(iter(pages), None)
                    body = None if page is None else page.json()
                except ApiError as error:
                    self._record(Failure(who, "organizations", str(error)))
                    continue
                record: dict[str, t.Any] = body if isinstance(body, dict) else {}
                org_id = record.get("id")
                # Every record and bookmark is keyed on this id: null, empty or an object must not become "None".
                if not isinstance(org_id, str) or not org_id.strip() or not org_id.isprintable():
                    self._record(Failure(who, "organizations", "GET /v1/organizations/me gave no organization id"))
                    continue
                name = record.get("name")
                org = Organization(chain.org_index, org_id, name if isinstance(name, str) else "", record)
                if org.id in self._by_id:
                    first = self.key_labels[self._by_id[org.id].index]
                    LOGGER.warning("%s belongs to the same %s as %s; syncing it once.", who, org.label, first)
                    continue
                self._by_id[org.id] = org
                self.client.labels[org.index] = org.label  # retry warnings name the organization from now on
                found.append(org)
            self._organizations = found
        return self._organizations

    def fetch(self, chain: Chain) -> t.Iterator[Body]:
        """The pages of ``chain``: from memory when this run already fetched them, else from the API."""
        if chain.org_index in self._dead:
            first = self._dead[chain.org_index]
            raise ApiError(chain.path, None, message=f"not sent: the key stopped working earlier in this run ({first})")
        kept = self._kept.get(chain)
        if kept is None:
            yield from walk(self.client, chain)
        elif isinstance(kept, ApiError):
            raise kept
        else:
            yield from kept

    def keep(self, chains: t.Iterable[Chain]) -> None:
        """Fetch ``chains`` concurrently (those not yet kept) and keep their pages for the run."""
        missing = [chain for chain in chains if chain not in self._kept]
        # Its own threads: the shared pool's may all be waiting for the consumer, which is here.
        helpers = Prefetcher(min(self.prefetcher.workers, max(len(missing), 1)))
        try:
            for chain, pages in helpers.ordered(missing, lambda c: walk(self.client, c)):
                try:
                    self._kept[chain] = list(pages)
                except ApiError as error:
                    self._kept[chain] = error
        finally:
            helpers.close()

    @property
    def every_organization_reached(self) -> bool:
        """True when every key led to its organization (only then can a full sync show deletions)."""
        self.organizations  # noqa: B018  resolve on first use
        return not self.failed("organizations")

    def organization(self, org_id: str) -> Organization:
        self.organizations  # noqa: B018  resolve on first use
        return self._by_id[org_id]

    def _record(self, failure: Failure) -> None:
        self.failures.append(failure)
        LOGGER.error("%s", failure)

    def fail(self, org: Organization, stream: str, error: Exception) -> None:
        self._record(Failure(org.label, stream, str(error)))
        if isinstance(error, ApiError) and error.fatal_for_organization:
            self._dead.setdefault(org.index, error)

    def skip(self, org: Organization, stream: str, reason: str) -> None:
        """A stream this organization cannot have: said once, not a failure."""
        if (org.id, stream) not in self._skipped:
            self._skipped.add((org.id, stream))
            LOGGER.warning(
                "Skipped stream '%s' for %s (its rows from earlier runs are kept; no deletions are marked in "
                "this stream this run): %s",
                stream,
                org.label,
                redact(reason),
            )

    def skipped(self, stream: str) -> bool:
        return any(name == stream for _, name in self._skipped)

    def summary(self) -> str:
        """The run's closing line when something failed: who failed, in key order, and what did not."""
        who = list(dict.fromkeys(failure.who for failure in self.failures))
        named = "; ".join(who[:5]) + (f"; and {len(who) - 5} more (each logged above)" if len(who) > 5 else "")
        reached = len(self.organizations) - sum(org.label in who for org in self.organizations)
        rest = (
            f"the {reached} other organization(s) completed every stream and their STATE was sent"
            if reached
            else "no organization completed"
        )
        return f"Sync incomplete: {len(self.failures)} failure(s) in {named}; {rest}."

    def failed(self, stream: str) -> bool:
        return any(failure.stream == stream for failure in self.failures)
