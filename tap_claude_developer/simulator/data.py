"""Seeded, deterministic data for the simulated organizations.

Every record is stored as the exact JSON dict the API serves in its newest (SDK 2.16) shape, so
tests can compute expected output straight from it. All randomness comes from `random.Random`
instances seeded from (seed, org index, purpose): the same seed and simulated day always give the
same data, and no global random state is touched.

Records are treated as immutable once created: mutators replace dicts and lists (copy-on-write)
rather than editing them, so a reader holding an old list never sees it change under it.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeVar

Json = dict[str, Any]
ApiKeyShape = Literal["current", "legacy"]
RateLimitShape = Literal["current", "legacy"]  # group{type,id,display_name} or the older group_type

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order
URL_SAFE = BASE62 + "-_"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
INVITE_LIFETIME = timedelta(days=21)  # admin-api.md §5.3: fixed, not configurable

CONSOLE_ROLES = ("user", "developer", "billing", "admin", "claude_code_user")
ORG_ROLES = (
    "admin",
    "billing",
    "claude_code_user",
    "developer",
    "managed",
    "membership_admin",
    "owner",
    "primary_owner",
    "user",
)
WORKSPACE_ROLES = (
    "workspace_admin",
    "workspace_billing",
    "workspace_developer",
    "workspace_restricted_developer",
    "workspace_user",
)
INVITE_FILTER_STATUSES = ("accepted", "expired", "pending")
API_KEY_STATUSES = ("active", "archived", "expired", "inactive")

T = TypeVar("T")


# --------------------------------------------------------------------------- small helpers


def utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime (naive input is taken to be UTC already)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def fmt_ts(dt: datetime) -> str:
    """RFC 3339 with microseconds and `Z`, the precision the API uses (admin-api.md §5)."""
    return utc(dt).strftime(TIMESTAMP_FORMAT)


def parse_ts(text: str) -> datetime:
    """Inverse of `fmt_ts` (fromisoformat: strptime is ~20x slower, and this runs per item)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def base62(number: int, width: int) -> str:
    """Fixed-width base62; because BASE62 is in ASCII order, string order = numeric order."""
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    if number:
        raise ValueError("number too large for width")
    return "".join(reversed(chars))


def random_chars(rng: random.Random, count: int, alphabet: str = BASE62) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def hashed_id(prefix: str, *parts: object) -> str:
    """A random-looking but deterministic `prefix_01…` id (used for request ids)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return f"{prefix}_01{base62(int.from_bytes(digest, 'big') % 62**22, 22)}"


def spread(rng: random.Random, count: int, weights: dict[T, float]) -> list[T]:
    """`count` weighted choices that contain every choice at least once when `count` allows.

    Guaranteed coverage keeps every enum value and nullable variant present in modest data
    sets, so contract tests and the tap's schema tests really exercise them.
    """
    choices = list(weights)
    forced = choices[:count] if count >= len(choices) else []
    rest = rng.choices(choices, weights=list(weights.values()), k=count - len(forced))
    result = forced + rest
    rng.shuffle(result)
    return result


class IdFactory:
    """Makes `prefix_01` + 22 base62 ids (admin-api.md §9) that sort in creation order.

    The first 9 characters encode the creation time in microseconds, the other 13 are random.
    Within one prefix ids are strictly increasing even for equal timestamps (a fixed simulated
    clock), so id order is always creation order.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last: dict[str, int] = {}

    def new(self, prefix: str, when: datetime) -> str:
        micros = int(utc(when).timestamp() * 1_000_000)
        micros = max(micros, self._last.get(prefix, -1) + 1)
        self._last[prefix] = micros
        return f"{prefix}_01{base62(micros, 9)}{random_chars(self._rng, 13)}"


# --------------------------------------------------------------------------- specs and state


@dataclass(frozen=True)
class OrgSpec:
    """Size of one simulated organization. `workspaces` excludes the Default Workspace."""

    name: str
    users: int = 50
    invites: int = 10
    workspaces: int = 4
    members_per_workspace: int = 5
    api_keys: int = 12
    #: Rows of the Claude Code report for each complete day (one row per actor, terminal and remote flag).
    claude_code_rows_per_day: int = 6
    #: Messages API requests a day (messages usage and cost reports); 0 = an organization without usage.
    usage_events_per_day: int = 24
    #: Code execution sessions a day (in the cost report only: the usage report does not show them).
    code_executions_per_day: int = 2
    #: Usage facts a day behind the Analytics API (one identity, key, model, ... at one instant),
    #: plus one code-execution fact per six; 0 = an organization without analytics data.
    analytics_facts_per_day: int = 12

    def __post_init__(self) -> None:
        for name in (
            "users",
            "invites",
            "workspaces",
            "members_per_workspace",
            "api_keys",
            "claude_code_rows_per_day",
            "usage_events_per_day",
            "code_executions_per_day",
            "analytics_facts_per_day",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"OrgSpec.{name} must be >= 0")


_DEFAULT_ORGS = (
    OrgSpec("Acme Analytics", users=64, invites=14, workspaces=5, members_per_workspace=8, api_keys=18),
    OrgSpec(
        "Globex Research",
        users=117,
        invites=22,
        workspaces=7,
        members_per_workspace=12,
        api_keys=30,
    ),
    OrgSpec("Initech Labs", users=41, invites=9, workspaces=3, members_per_workspace=6, api_keys=11),
)
_MORE_ORG_NAMES = ("Umbrella Health", "Stark Robotics", "Wayne Logistics", "Tyrell Systems")


def default_org_specs(count: int = 3) -> list[OrgSpec]:
    """Realistic small-company sizes that differ per org (fixed, independent of the seed)."""
    specs = list(_DEFAULT_ORGS[:count])
    for i in range(len(specs), count):
        extra = i - len(_DEFAULT_ORGS)
        name = _MORE_ORG_NAMES[extra % len(_MORE_ORG_NAMES)]
        if extra >= len(_MORE_ORG_NAMES):
            name = f"{name} {extra // len(_MORE_ORG_NAMES) + 1}"
        specs.append(
            OrgSpec(
                name,
                users=40 + (i * 37) % 81,
                invites=5 + (i * 7) % 16,
                workspaces=3 + i % 5,
                members_per_workspace=4 + (i * 3) % 9,
                api_keys=8 + (i * 11) % 23,
            )
        )
    return specs


@dataclass
class OrgState:
    """One organization's data, every item the exact JSON dict the API serves (newest shape).

    Lists are sorted by id (= creation order) and replaced, never edited, by mutators.
    `members` maps workspace id -> members sorted by `user_id`; the Default Workspace has no
    entry because it has no member list. `tombstones` remembers removed ids per collection so
    they stay valid as pagination cursors.
    """

    index: int
    id: str
    name: str
    key: str
    created_at: datetime
    default_workspace_id: str
    users: list[Json]
    invites: list[Json]
    workspaces: list[Json]
    members: dict[str, list[Json]]
    api_keys: list[Json]
    service_account_ids: list[str]
    domain: str
    spec: OrgSpec = field(repr=False)  # sizes of the lazily generated reports
    rng: random.Random = field(repr=False)
    ids: IdFactory = field(repr=False)
    tombstones: dict[str, set[str]] = field(default_factory=dict, repr=False)


def admin_key_for(seed: int, index: int) -> str:
    """`sk-ant-admin01-` + 86 url-safe chars + `-` + 4 chars + `AA`, deterministic."""
    rng = random.Random(f"{seed}:{index}:admin-key")
    return f"sk-ant-admin01-{random_chars(rng, 86, URL_SAFE)}-{random_chars(rng, 4)}AA"


def org_id_for(seed: int, index: int) -> str:
    """Organization ids are UUIDs, not prefixed ids (admin-api.md §5.1)."""
    rng = random.Random(f"{seed}:{index}:org-id")
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --------------------------------------------------------------------------- generation

_FIRST = (
    "Dana",
    "Li",
    "Sam",
    "Ana",
    "Priya",
    "Kenji",
    "Fatima",
    "Lars",
    "Noor",
    "Mateo",
    "Ingrid",
    "Tomas",
    "Aisha",
    "Hugo",
    "Mei",
    "Olu",
    "Sofia",
    "Ravi",
    "Elena",
    "Jonas",
    "Yuki",
    "Amara",
    "Diego",
    "Hana",
    "Felix",
    "Zara",
    "Omar",
    "Clara",
    "Nikolai",
    "Leila",
    "Marcus",
    "Ines",
    "Tariq",
    "Freya",
    "Pablo",
    "Ayumi",
    "Kofi",
    "Greta",
    "Arjun",
    "Lucia",
)
_LAST = (
    "Ruiz",
    "Wei",
    "Patel",
    "Okafor",
    "Schmidt",
    "Tanaka",
    "Haddad",
    "Nilsson",
    "Rossi",
    "Kowalski",
    "Dubois",
    "Silva",
    "Nakamura",
    "Mensah",
    "Novak",
    "Larsen",
    "Garcia",
    "Kim",
    "Fischer",
    "Moreau",
    "Ivanova",
    "Costa",
    "Berg",
    "Ahmed",
    "Lopez",
    "Sato",
    "Young",
    "Khan",
    "Meyer",
    "Hughes",
)
_WORKSPACE_NAMES = (
    "Production",
    "Staging",
    "Research",
    "Data Science",
    "Claude Code",
    "Support Bot",
    "Marketing",
    "Internal Tools",
    "Experiments",
    "Evaluations",
    "Search",
    "Billing Ops",
)
_COLORS = ("#6C5BB9", "#D4A27F", "#2F7D6D", "#C2410C", "#1D4ED8", "#9333EA", "#0F766E", "#B91C1C")
_TAGS: tuple[dict[str, str], ...] = (
    {},
    {"team": "platform"},
    {"team": "data", "env": "prod"},
    {"cost-center": "cc-1042"},
    {"env": "staging", "owner": "ml-infra"},
)
_KEY_PURPOSES = ("etl", "chatbot", "search", "batch", "eval", "summarizer", "ingest", "agent")
_KEY_ENVS = ("prod", "staging", "dev")


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """Uniform random instant in [start, end] with microsecond resolution."""
    if end <= start:
        return start
    span = int((end - start).total_seconds() * 1_000_000)
    return start + timedelta(microseconds=rng.randint(0, span))


def _slug(name: str) -> str:
    return "-".join(name.lower().split())


class _Emails:
    """Unique, realistic emails within one organization's domain."""

    def __init__(self, rng: random.Random, domain: str) -> None:
        self._rng = rng
        self._domain = domain
        self._used: set[str] = set()

    def person(self) -> tuple[str, str]:
        first, last = self._rng.choice(_FIRST), self._rng.choice(_LAST)
        local = f"{first}.{last}".lower()
        email, n = f"{local}@{self._domain}", 1
        while email in self._used:
            n += 1
            email = f"{local}{n}@{self._domain}"
        self._used.add(email)
        return f"{first} {last}", email


def generate_org(spec: OrgSpec, *, seed: int, index: int, anchor: datetime) -> OrgState:
    """Build one organization; every timestamp lies before `anchor` (a UTC midnight)."""
    rng = random.Random(f"{seed}:{index}:data")
    ids = IdFactory(rng)
    domain = f"{_slug(spec.name)}.example"
    emails = _Emails(rng, domain)
    created = _between(rng, anchor - timedelta(days=1100), anchor - timedelta(days=500))
    latest = anchor - timedelta(hours=1)

    users = _users(rng, ids, emails, spec.users, created, latest)
    invites = _invites(rng, ids, emails, spec.invites, users, created, anchor)
    workspaces = _workspaces(rng, ids, spec.workspaces, created, latest)
    default_ws = workspaces[0]["id"]
    members = _members(rng, spec.members_per_workspace, users, workspaces[1:])
    service_accounts = [ids.new("svac", t) for t in sorted(_between(rng, created, latest) for _ in range(3))]
    api_keys = _api_keys(rng, ids, spec.api_keys, users, workspaces, service_accounts, anchor)
    return OrgState(
        index=index,
        id=org_id_for(seed, index),
        name=spec.name,
        key=admin_key_for(seed, index),
        created_at=created,
        default_workspace_id=default_ws,
        users=users,
        invites=invites,
        workspaces=workspaces,
        members=members,
        api_keys=api_keys,
        service_account_ids=service_accounts,
        domain=domain,
        spec=spec,
        rng=rng,
        ids=ids,
    )


def make_user(ids: IdFactory, *, name: str, email: str, role: str, added_at: datetime) -> Json:
    return {
        "id": ids.new("user", added_at),
        "type": "user",
        "email": email,
        "name": name,
        "role": role,
        "added_at": fmt_ts(added_at),
    }


def _users(
    rng: random.Random,
    ids: IdFactory,
    emails: _Emails,
    count: int,
    created: datetime,
    latest: datetime,
) -> list[Json]:
    weights = {
        "developer": 0.35,
        "user": 0.25,
        "claude_code_user": 0.2,
        "admin": 0.1,
        "billing": 0.1,
    }
    roles = spread(rng, count, weights)
    if "admin" in roles:  # the founder, who created the organization, is an admin
        j = roles.index("admin")
        roles[0], roles[j] = roles[j], roles[0]
    times = sorted(_between(rng, created, latest) for _ in range(count))
    if times:
        times[0] = created + timedelta(minutes=3, microseconds=rng.randint(0, 10**6))
    result = []
    for role, when in zip(roles, times, strict=True):
        name, email = emails.person()
        result.append(make_user(ids, name=name, email=email, role=role, added_at=when))
    return result


def make_invite(
    ids: IdFactory,
    *,
    email: str,
    role: str,
    invited_at: datetime,
    status: str,
    accepted_at: datetime | None = None,
) -> Json:
    return {
        "id": ids.new("invite", invited_at),
        "type": "invite",
        "email": email,
        "role": role,
        "status": status,
        "invited_at": fmt_ts(invited_at),
        "expires_at": fmt_ts(invited_at + INVITE_LIFETIME),
        "accepted_at": fmt_ts(accepted_at) if accepted_at else None,
        "rbac_group_ids": [],  # Enterprise-only feature; `[]` when none (admin-api.md §5.3)
    }


def _invites(
    rng: random.Random,
    ids: IdFactory,
    emails: _Emails,
    count: int,
    users: list[Json],
    created: datetime,
    anchor: datetime,
) -> list[Json]:
    """Invites consistent with time: accepted ones became users, pending ones are < 21 days old.

    Pending invites are at least 2 days from expiry at `anchor`, so they stay pending for the
    whole simulated day; statuses move on only when the clock does (see `refresh_statuses`).
    """
    statuses = spread(rng, count, {"accepted": 0.4, "pending": 0.35, "expired": 0.25})
    joiners = [u for u in users[1:] if parse_ts(u["added_at"]) - created > INVITE_LIFETIME]
    rng.shuffle(joiners)
    pending: list[tuple[datetime, Json]] = []
    for status in statuses:
        if status == "accepted" and joiners:
            user = joiners.pop()
            accepted = parse_ts(user["added_at"])
            invited = accepted - timedelta(seconds=rng.uniform(600, 20 * 86400))
            pending.append(
                (
                    invited,
                    {
                        "email": user["email"],
                        "role": user["role"],
                        "status": "accepted",
                        "accepted_at": accepted,
                    },
                )
            )
            continue
        if status == "pending":
            invited = _between(rng, anchor - timedelta(days=19), anchor - timedelta(hours=1))
        else:  # expired (or accepted without a user left to match)
            status = "expired"
            invited = _between(rng, created, anchor - timedelta(days=22))
        role = rng.choices(CONSOLE_ROLES, weights=(0.35, 0.3, 0.05, 0.1, 0.2))[0]
        pending.append((invited, {"email": emails.person()[1], "role": role, "status": status}))
    pending.sort(key=lambda p: p[0])
    return [make_invite(ids, invited_at=when, **fields) for when, fields in pending]


def make_workspace(
    rng: random.Random,
    ids: IdFactory,
    *,
    name: str,
    created_at: datetime,
    archived_at: datetime | None = None,
    residency: Json | None = None,
    tags: dict[str, str] | None = None,
) -> Json:
    """A workspace with every field of admin-api.md §5.4 (`inference_data_privacy` is beta-only)."""
    return {
        "id": ids.new("wrkspc", created_at),
        "type": "workspace",
        "name": name,
        "created_at": fmt_ts(created_at),
        "archived_at": fmt_ts(archived_at) if archived_at else None,
        "display_color": rng.choice(_COLORS),
        "tags": dict(tags if tags is not None else rng.choice(_TAGS)),
        "compartment_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "external_key_id": None,
        "user_profile_id": None,
        "data_residency": residency
        or {
            "workspace_geo": "us",
            "default_inference_geo": "global",
            "allowed_inference_geos": "unrestricted",
        },
    }


def _workspaces(
    rng: random.Random,
    ids: IdFactory,
    count: int,
    created: datetime,
    latest: datetime,
) -> list[Json]:
    """The Default Workspace first (created with the org), then `count` named ones."""
    default = make_workspace(rng, ids, name="Default", created_at=created, tags={})
    residencies = spread(rng, count, {"unrestricted": 0.5, "us": 0.3, "both": 0.2})
    archived_count = max(1, count // 4) if count >= 2 else 0
    archived = set(rng.sample(range(count), archived_count))
    times = sorted(_between(rng, created + timedelta(days=1), latest - timedelta(days=1)) for _ in range(count))
    result = [default]
    for i, (kind, when) in enumerate(zip(residencies, times, strict=True)):
        name = _WORKSPACE_NAMES[i % len(_WORKSPACE_NAMES)]
        if i >= len(_WORKSPACE_NAMES):
            name = f"{name} {i // len(_WORKSPACE_NAMES) + 1}"
        # allowed_inference_geos comes in both forms: a list or the string "unrestricted"
        geos: str | list[str]
        if kind == "unrestricted":
            geos, default_geo = "unrestricted", "global"
        elif kind == "us":
            geos, default_geo = ["us"], "us"
        else:
            geos, default_geo = ["global", "us"], rng.choice(("global", "us"))
        residency = {
            "workspace_geo": "us",
            "default_inference_geo": default_geo,
            "allowed_inference_geos": geos,
        }
        archived_at = _between(rng, when + timedelta(hours=12), latest) if i in archived else None
        result.append(
            make_workspace(rng, ids, name=name, created_at=when, archived_at=archived_at, residency=residency)
        )
    return result


def make_member(workspace_id: str, user_id: str, role: str) -> Json:
    """No `id` field: a member's key is (workspace_id, user_id) (admin-api.md §5.5)."""
    return {
        "type": "workspace_member",
        "user_id": user_id,
        "workspace_id": workspace_id,
        "workspace_role": role,
    }


def _members(
    rng: random.Random,
    per_workspace: int,
    users: list[Json],
    workspaces: list[Json],
) -> dict[str, list[Json]]:
    """Explicit memberships only.

    UNCERTAIN (admin-api.md §5.5/§10.8): whether org admins, who get Workspace Admin everywhere,
    show up in member lists is undocumented; we list only sampled members (admins may be among
    them).
    """
    size = min(per_workspace, len(users))
    roles = spread(
        rng,
        size * len(workspaces),
        {
            "workspace_developer": 0.4,
            "workspace_user": 0.25,
            "workspace_restricted_developer": 0.15,
            "workspace_admin": 0.15,
            "workspace_billing": 0.05,
        },
    )
    result: dict[str, list[Json]] = {}
    for n, ws in enumerate(workspaces):
        chosen = sorted(rng.sample([u["id"] for u in users], size))
        result[ws["id"]] = [make_member(ws["id"], uid, roles[n * size + i]) for i, uid in enumerate(chosen)]
    return result


def key_hint(rng: random.Random) -> str:
    """Like `sk-ant-api03-R2D...igAA` (admin-api.md §5.6)."""
    return f"sk-ant-api03-{random_chars(rng, 3)}...{random_chars(rng, 2)}AA"


def _api_keys(
    rng: random.Random,
    ids: IdFactory,
    count: int,
    users: list[Json],
    workspaces: list[Json],
    service_accounts: list[str],
    anchor: datetime,
) -> list[Json]:
    """Keys of every status, scope, principal and creator kind (newest shape, admin-api.md §5.6).

    Expiry is consistent with `anchor`: `expired` keys expired before it, `active` keys expire
    at least two days after it (or never).
    """
    latest = anchor - timedelta(hours=1)
    kinds = spread(
        rng,
        count,
        {
            "workspace": 0.45,
            "default_workspace": 0.15,
            "user_bound": 0.15,
            "service_account": 0.1,
            "workspace_user_bound": 0.1,
            "legacy": 0.05,
        },
    )
    statuses = spread(rng, count, {"active": 0.55, "inactive": 0.15, "archived": 0.1, "expired": 0.2})
    plans = []
    for kind, status in zip(kinds, statuses, strict=True):
        ws = workspaces[0] if kind == "default_workspace" else rng.choice(workspaces[1:] or workspaces)
        start = parse_ts(ws["created_at"])
        end = parse_ts(ws["archived_at"]) if ws["archived_at"] else latest
        if kind in ("user_bound", "service_account"):
            start, end = parse_ts(workspaces[0]["created_at"]), latest
        created = _between(rng, start, end)
        if ws["archived_at"] and kind not in ("user_bound", "service_account"):
            status = "archived"  # archiving a workspace revokes its keys (admin-api.md §14)
        plans.append((created, kind, status, ws["id"]))
    plans.sort(key=lambda p: p[0])

    result = []
    joined = [(parse_ts(u["added_at"]), u) for u in users]
    for created, kind, status, ws_id in plans:
        earlier_users = [u for added, u in joined if added < created]
        creator = rng.choice(earlier_users) if earlier_users else None
        scope: Json = {"type": "workspace", "workspace_id": ws_id}
        principal: Json | None = None
        created_by: Json | None = {"id": creator["id"], "type": "user"} if creator else None
        if kind in ("user_bound", "workspace_user_bound") and creator:
            principal = {"type": "user_actor", "user_id": creator["id"]}
        if kind == "user_bound" and creator:
            scope = {"type": "organization"}  # only principal-bound keys may have this scope
        if kind == "service_account":
            svac = rng.choice(service_accounts)
            principal = {"type": "service_account_actor", "service_account_id": svac}
            scope = {"type": "organization"}
            created_by = rng.choice(({"id": svac, "type": "service_account"}, None))
        if kind == "legacy":
            created_by = None  # legacy, federated or system-created keys have no creator
        expires: datetime | None = None
        if status == "expired":
            lo, hi = created + timedelta(hours=1), anchor - timedelta(hours=2)
            if hi > lo:
                expires = _between(rng, lo, hi)
            else:  # too young to have expired already
                status = "inactive"
        elif rng.random() < 0.5:
            expires = _between(rng, anchor + timedelta(days=2), anchor + timedelta(days=365))
        result.append(
            {
                "id": ids.new("apikey", created),
                "type": "api_key",
                "name": _key_name(rng, kind, creator),
                "status": status,
                "created_at": fmt_ts(created),
                "expires_at": fmt_ts(expires) if expires else None,
                "partial_key_hint": key_hint(rng),
                "created_by": created_by,
                "principal": principal,
                "scope": scope,
            }
        )
    return result


def _key_name(rng: random.Random, kind: str, creator: Json | None) -> str:
    if kind in ("user_bound", "workspace_user_bound") and creator:
        return f"claude-code-{creator['email'].split('@')[0]}"
    if kind == "service_account":
        return f"svc-{rng.choice(_KEY_PURPOSES)}"
    return f"{rng.choice(_KEY_PURPOSES)}-{rng.choice(_KEY_ENVS)}"


# --------------------------------------------------------------------------- shapes and time


def legacy_api_key(key: Json, default_workspace_id: str) -> Json:
    """The Aug-2026 documented shape (admin-api.md §5.6, §11): `workspace_id`, `principal{id,type}`.

    CONFLICT (admin-api.md §5.6/§10.1): the Aug-2026 reference and the newest SDK disagree on the
    shape; this is the older one. `workspace_id` is null for the Default Workspace and also for
    organization-scoped keys (which that shape cannot express; the transitional SDK 1.8 type
    documents null for both).
    """
    scope = key["scope"]
    ws = scope.get("workspace_id") if scope["type"] == "workspace" else None
    principal = key["principal"]
    legacy_principal: Json | None = None
    if principal and principal["type"] == "user_actor":
        legacy_principal = {"id": principal["user_id"], "type": "user"}
    elif principal:
        legacy_principal = {"id": principal["service_account_id"], "type": "service_account"}
    result = {k: v for k, v in key.items() if k not in ("scope", "principal")}
    result["principal"] = legacy_principal
    result["workspace_id"] = None if ws == default_workspace_id else ws
    return result


def refresh_statuses(org: OrgState, now: datetime) -> datetime | None:
    """Expire pending invites and active keys whose `expires_at` has passed at `now`.

    Returns the next instant at which something will expire (None if nothing will), so callers
    can skip the scan until then.
    """
    stamp = fmt_ts(now)  # same fixed-width format: string order = time order
    upcoming: list[str] = []

    def expire(items: list[Json], live: str) -> list[Json] | None:
        changed = False
        out = []
        for item in items:
            exp = item["expires_at"]
            if item["status"] == live and exp is not None:
                if exp <= stamp:
                    item = {**item, "status": "expired"}
                    changed = True
                else:
                    upcoming.append(exp)
            out.append(item)
        return out if changed else None

    invites = expire(org.invites, "pending")
    if invites is not None:
        org.invites = invites
    keys = expire(org.api_keys, "active")
    if keys is not None:
        org.api_keys = keys
    return parse_ts(min(upcoming)) if upcoming else None


def insert_sorted(items: Sequence[Json], item: Json, key: str = "id") -> list[Json]:
    """Copy of `items` with `item` inserted in id order."""
    result = list(items)
    bisect.insort(result, item, key=lambda x: x[key])
    return result
