"""The `Simulator`: organizations' state, the simulated clock, mutators and server lifecycle.

One re-entrant lock guards all state; request handlers hold it while they read, mutators while
they write (copy-on-write, see data.py), so tests can mutate data while clients are paging.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from . import analytics as _analytics  # noqa: F401  (registers the Usage and Cost Analytics API)
from . import claude_code as _claude_code  # noqa: F401  (registers the Claude Code report)
from . import directory as _directory  # noqa: F401  (registers the directory routes)
from . import rate_limits as _rate_limits  # noqa: F401  (registers the rate-limit routes)
from . import usage_cost as _usage_cost  # noqa: F401  (registers the messages usage and cost reports)
from .data import (
    ApiKeyShape,
    Json,
    OrgSpec,
    OrgState,
    RateLimitShape,
    default_org_specs,
    fmt_ts,
    generate_org,
    hashed_id,
    insert_sorted,
    key_hint,
    make_invite,
    make_member,
    make_user,
    make_workspace,
    refresh_statuses,
    utc,
)
from .server import Fault, RecordedRequest, SimulatorHTTPServer


class Simulator:
    """A local, deterministic stand-in for the Anthropic Admin API (see admin-api.md).

    `now` fixes the simulated clock (UTC); None follows real time. Data is generated relative
    to the UTC midnight of that instant, so it is identical for the same seed on the same day.
    """

    def __init__(
        self,
        orgs: Sequence[OrgSpec] | None = None,
        *,
        seed: int = 7,
        api_key_shape: ApiKeyShape = "current",
        rate_limit_shape: RateLimitShape = "current",
        latency: float = 0.0,
        now: datetime | None = None,
        cache_responses: bool = False,
    ) -> None:
        if api_key_shape not in ("current", "legacy"):
            raise ValueError("api_key_shape must be 'current' or 'legacy'")
        if rate_limit_shape not in ("current", "legacy"):
            raise ValueError("rate_limit_shape must be 'current' or 'legacy'")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self.seed = seed
        self.api_key_shape: ApiKeyShape = api_key_shape
        self.rate_limit_shape: RateLimitShape = rate_limit_shape
        self.latency = latency
        # Benchmarks only: answers are frozen at their first serving (the clock, mutations and
        # faults no longer change them), so generating big reports costs once, not once a run.
        self.response_cache: dict[tuple[object, ...], bytes] | None = {} if cache_responses else None
        self.lock = threading.RLock()
        self._clock = utc(now) if now is not None else None
        start = self.now()
        self.anchor = start.replace(hour=0, minute=0, second=0, microsecond=0)
        specs = list(orgs) if orgs is not None else default_org_specs()
        self._orgs = [generate_org(spec, seed=seed, index=i, anchor=self.anchor) for i, spec in enumerate(specs)]
        self._by_key = {org.key: org for org in self._orgs}
        self._next_expiry: datetime | None = start
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._request_ids = itertools.count(1)
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self.tick()

    # ----------------------------------------------------------------- lifecycle

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Bind (port 0 = a free port), serve in a daemon thread, return the base URL."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        server = SimulatorHTTPServer((host, port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},  # how quickly stop() returns
            name="admin-api-simulator",
            daemon=True,
        )
        self._thread.start()
        self._url = f"http://{host}:{server.server_address[1]}"
        return self._url

    def stop(self) -> None:
        """Stop serving and close every connection, idle keep-alives included."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("simulator not started")
        return self._url

    # ----------------------------------------------------------------- state access

    @property
    def orgs(self) -> list[OrgState]:
        return list(self._orgs)

    @property
    def admin_keys(self) -> list[str]:
        return [org.key for org in self._orgs]

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self.lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self.lock:
            self._requests.clear()

    @property
    def faults(self) -> list[Fault]:
        with self.lock:
            return list(self._faults)

    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    # ----------------------------------------------------------------- clock

    def now(self) -> datetime:
        clock = self._clock
        return clock if clock is not None else datetime.now(timezone.utc)

    def set_clock(self, when: datetime) -> None:
        """Fix the simulated clock; invites and keys whose expiry has passed become `expired`."""
        with self.lock:
            self._clock = utc(when)
            self._next_expiry = self._clock
            self.tick()

    def tick(self) -> None:
        """Apply expiries due at `now()`; cheap unless something is due (caller may hold lock)."""
        with self.lock:
            now = self.now()
            if self._next_expiry is None or now < self._next_expiry:
                return
            upcoming = [refresh_statuses(org, now) for org in self._orgs]
            pending = [t for t in upcoming if t is not None]
            self._next_expiry = min(pending) if pending else None

    # ----------------------------------------------------------------- Backend protocol

    def org_for_key(self, key: str) -> OrgState | None:
        return self._by_key.get(key)

    def claim_fault(self, path: str, org_index: int | None) -> Fault | None:
        """The first fault that fires for this request (each matching fault counts it)."""
        with self.lock:
            for fault in self._faults:
                if fault.claim(path, org_index):
                    return fault
        return None

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)

    def next_request_id(self) -> str:
        with self.lock:
            return hashed_id("req", self.seed, next(self._request_ids))

    # ----------------------------------------------------------------- mutators

    def org(self, org_index: int) -> OrgState:
        return self._orgs[org_index]

    def _bury(self, org: OrgState, collection: str, item_id: str) -> None:
        org.tombstones.setdefault(collection, set()).add(item_id)

    def add_user(self, org_index: int, **fields: Any) -> Json:
        """Add a user who joins now (fields override the generated ones); returns the record."""
        with self.lock:
            org = self._orgs[org_index]
            name = fields.pop("name", None) or f"New User {len(org.users) + 1}"
            email = fields.pop("email", None) or (
                f"{'.'.join(name.lower().split())}.{org.rng.randint(100, 999)}@{org.domain}"
            )
            added = fields.pop("added_at", None)
            when = utc(added) if isinstance(added, datetime) else self.now()
            user = make_user(org.ids, name=name, email=email, role="user", added_at=when)
            if isinstance(added, str):
                user["added_at"] = added
            user.update(fields)
            org.users = insert_sorted(org.users, user)
            return user

    def update_user(self, org_index: int, user_id: str, **fields: Any) -> Json:
        """Change fields of a user (e.g. `role`); returns the new record."""
        with self.lock:
            org = self._orgs[org_index]
            user = {**self._get(org.users, user_id), **fields}
            org.users = [user if u["id"] == user_id else u for u in org.users]
            return user

    def remove_user(self, org_index: int, user_id: str) -> None:
        """Remove a user and their workspace memberships; their API keys survive (§5.6)."""
        with self.lock:
            org = self._orgs[org_index]
            self._get(org.users, user_id)
            org.users = [u for u in org.users if u["id"] != user_id]
            self._bury(org, "users", user_id)
            for ws_id, members in list(org.members.items()):
                if any(m["user_id"] == user_id for m in members):
                    self._drop_member(org, ws_id, user_id)

    def add_invite(self, org_index: int, **fields: Any) -> Json:
        """Add a pending invite sent now (fields override); returns the record."""
        with self.lock:
            org = self._orgs[org_index]
            email = fields.pop("email", None) or f"invitee.{org.rng.randint(1000, 9999)}@{org.domain}"
            role = fields.pop("role", "user")
            invite = make_invite(org.ids, email=email, role=role, invited_at=self.now(), status="pending")
            invite.update(fields)
            org.invites = insert_sorted(org.invites, invite)
            self._next_expiry = self.now()  # re-evaluate expiries including this invite
            return invite

    def remove_invite(self, org_index: int, invite_id: str) -> None:
        """Withdraw an invite: it vanishes from lists (UNCERTAIN, admin-api.md §5.3)."""
        with self.lock:
            org = self._orgs[org_index]
            self._get(org.invites, invite_id)
            org.invites = [i for i in org.invites if i["id"] != invite_id]
            self._bury(org, "invites", invite_id)

    def add_workspace(self, org_index: int, name: str, **fields: Any) -> Json:
        """Create a workspace now (fields override); it starts with no members."""
        with self.lock:
            org = self._orgs[org_index]
            workspace = make_workspace(org.rng, org.ids, name=name, created_at=self.now())
            workspace.update(fields)
            org.workspaces = insert_sorted(org.workspaces, workspace)
            org.members = {**org.members, workspace["id"]: []}
            return workspace

    def archive_workspace(self, org_index: int, workspace_id: str) -> Json:
        """Archive now; archiving revokes the workspace's keys (their status becomes `archived`,
        a guess: the resulting status is undocumented, admin-api.md §12.14)."""
        with self.lock:
            org = self._orgs[org_index]
            workspace = {
                **self._get(org.workspaces, workspace_id),
                "archived_at": fmt_ts(self.now()),
            }
            org.workspaces = [workspace if w["id"] == workspace_id else w for w in org.workspaces]
            org.api_keys = [
                {**k, "status": "archived"} if k["scope"].get("workspace_id") == workspace_id else k
                for k in org.api_keys
            ]
            return workspace

    def add_member(
        self,
        org_index: int,
        workspace_id: str,
        user_id: str,
        workspace_role: str = "workspace_user",
    ) -> Json:
        """Add (or change the role of) a user's membership in a workspace."""
        with self.lock:
            org = self._orgs[org_index]
            if workspace_id not in org.members:
                raise KeyError(f"workspace {workspace_id} has no member list")
            self._get(org.users, user_id)
            member = make_member(workspace_id, user_id, workspace_role)
            rest = [m for m in org.members[workspace_id] if m["user_id"] != user_id]
            org.members = {**org.members, workspace_id: insert_sorted(rest, member, "user_id")}
            return member

    def remove_member(self, org_index: int, workspace_id: str, user_id: str) -> None:
        with self.lock:
            org = self._orgs[org_index]
            self._get(org.members.get(workspace_id, []), user_id, "user_id")
            self._drop_member(org, workspace_id, user_id)

    def _drop_member(self, org: OrgState, workspace_id: str, user_id: str) -> None:
        members = [m for m in org.members[workspace_id] if m["user_id"] != user_id]
        org.members = {**org.members, workspace_id: members}
        self._bury(org, f"members:{workspace_id}", user_id)

    def add_api_key(self, org_index: int, name: str, **fields: Any) -> Json:
        """A key created now in the Default Workspace unless `scope` etc. are given."""
        with self.lock:
            org = self._orgs[org_index]
            now = self.now()
            key: Json = {
                "id": org.ids.new("apikey", now),
                "type": "api_key",
                "name": name,
                "status": "active",
                "created_at": fmt_ts(now),
                "expires_at": None,
                "partial_key_hint": key_hint(org.rng),
                "created_by": None,
                "principal": None,
                "scope": {"type": "workspace", "workspace_id": org.default_workspace_id},
            }
            key.update(fields)
            org.api_keys = insert_sorted(org.api_keys, key)
            self._next_expiry = now
            return key

    def update_api_key(self, org_index: int, api_key_id: str, **fields: Any) -> Json:
        """Rename or change status, as `POST /api_keys/{id}` would; returns the new record."""
        with self.lock:
            org = self._orgs[org_index]
            key = {**self._get(org.api_keys, api_key_id), **fields}
            org.api_keys = [key if k["id"] == api_key_id else k for k in org.api_keys]
            return key

    def remove_api_key(self, org_index: int, api_key_id: str) -> None:
        with self.lock:
            org = self._orgs[org_index]
            self._get(org.api_keys, api_key_id)
            org.api_keys = [k for k in org.api_keys if k["id"] != api_key_id]
            self._bury(org, "api_keys", api_key_id)

    @staticmethod
    def _get(items: Sequence[Json], item_id: str, id_key: str = "id") -> Json:
        for item in items:
            if item[id_key] == item_id:
                return item
        raise KeyError(item_id)
