"""Directory endpoints (admin-api.md §5.1 to §5.6): organization, users, invites, workspaces,
workspace members and API keys. Importing this module registers them in the routing table.
"""

from __future__ import annotations

from collections.abc import Iterable

from .data import (
    API_KEY_STATUSES,
    CONSOLE_ROLES,
    INVITE_FILTER_STATUSES,
    Json,
    OrgState,
    legacy_api_key,
)
from .server import ApiError, Request, paginate, route

_ID = r"(?P<id>[^/]+)"
_WS = r"/v1/organizations/workspaces/(?P<ws>[^/]+)"
MAX_WORKSPACE_IDS = 100  # ids[] accepts at most 100 ids (admin-api.md §5.4)


def _known(org: OrgState, collection: str, items: Iterable[Json], id_key: str = "id") -> set[str]:
    return {item[id_key] for item in items} | org.tombstones.get(collection, set())


def _find(items: Iterable[Json], value: str, what: str, id_key: str = "id") -> Json:
    for item in items:
        if item[id_key] == value:
            return item
    raise ApiError(404, f"{what} {value!r} not found.")


def _email(request: Request) -> str | None:
    """The `email` filter: normalised (trimmed) and case-insensitive (admin-api.md §5.2)."""
    email = request.param("email")
    if email is None:
        return None
    if not email.strip():
        raise ApiError(400, "email: must not be empty")
    return email.strip().lower()


def _roles(request: Request) -> list[str]:
    # UNCERTAIN: the SDK says Console orgs "accept" only these five roles; we answer 400 for
    # the Enterprise-only roles (all simulated orgs are Console orgs).
    return request.array("roles", CONSOLE_ROLES)


# --------------------------------------------------------------------------- organization


@route(r"/v1/organizations/me")
def get_organization(request: Request) -> Json:
    org = request.org
    return {"id": org.id, "name": org.name, "type": "organization"}


# --------------------------------------------------------------------------- users


@route(r"/v1/organizations/users")
def list_users(request: Request) -> Json:
    org = request.org
    email, roles = _email(request), _roles(request)
    items = [
        u for u in org.users if (email is None or u["email"].lower() == email) and (not roles or u["role"] in roles)
    ]
    return paginate(request, items, known=_known(org, "users", org.users))


@route(rf"/v1/organizations/users/{_ID}")
def get_user(request: Request) -> Json:
    return _find(request.org.users, request.match["id"], "User")


# --------------------------------------------------------------------------- invites


@route(r"/v1/organizations/invites")
def list_invites(request: Request) -> Json:
    org = request.org
    email, roles = _email(request), _roles(request)
    # `deleted` is a status value but not a valid filter (admin-api.md §5.3) -> 400 here.
    statuses = request.array("statuses", INVITE_FILTER_STATUSES) or INVITE_FILTER_STATUSES
    items = [
        i
        for i in org.invites
        if i["status"] in statuses
        and (email is None or i["email"].lower() == email)
        and (not roles or i["role"] in roles)
    ]
    return paginate(request, items, known=_known(org, "invites", org.invites))


@route(rf"/v1/organizations/invites/{_ID}")
def get_invite(request: Request) -> Json:
    return _find(request.org.invites, request.match["id"], "Invite")


# --------------------------------------------------------------------------- workspaces


@route(r"/v1/organizations/workspaces")
def list_workspaces(request: Request) -> Json:
    org = request.org
    include_archived = request.boolean("include_archived")
    include_default = request.boolean("include_default")
    ids = request.array("ids")
    if len(ids) > MAX_WORKSPACE_IDS:
        raise ApiError(400, f"ids[]: at most {MAX_WORKSPACE_IDS} ids may be given")
    wanted = set(ids)
    # With ids[], include_archived and include_default still apply (SDK workspace_list_params).
    items = [
        w
        for w in org.workspaces
        if (include_archived or w["archived_at"] is None)
        and (include_default or w["id"] != org.default_workspace_id)
        and (not wanted or w["id"] in wanted)
    ]
    return paginate(request, items, known=_known(org, "workspaces", org.workspaces))


@route(rf"{_WS}")
def get_workspace(request: Request) -> Json:
    # The Default Workspace is served here although the list omits it (admin-api.md §5.4).
    return _find(request.org.workspaces, request.match["ws"], "Workspace")


# --------------------------------------------------------------------------- members


def _member_list(request: Request) -> tuple[str, list[Json]]:
    org = request.org
    workspace = _find(org.workspaces, request.match["ws"], "Workspace")
    if workspace["id"] == org.default_workspace_id:
        # UNCERTAIN: the docs say the Default Workspace "has no member list" (admin-api.md
        # §5.4) but not what the endpoint answers; we answer 404 not_found_error.
        raise ApiError(404, "The Default Workspace has no member list.")
    return workspace["id"], org.members.get(workspace["id"], [])


@route(rf"{_WS}/members")
def list_members(request: Request) -> Json:
    workspace_id, members = _member_list(request)
    # Members have no id: cursors and first_id/last_id are user ids (UNCERTAIN, admin-api.md
    # §11 examples show placeholders). Members are ordered by user id, i.e. by when the user
    # joined the organization (undocumented).
    known = _known(request.org, f"members:{workspace_id}", members, "user_id")
    return paginate(request, members, known=known, id_key="user_id")


@route(rf"{_WS}/members/{_ID}")
def get_member(request: Request) -> Json:
    _, members = _member_list(request)
    return _find(members, request.match["id"], "Workspace member", "user_id")


# --------------------------------------------------------------------------- API keys


def _shape(request: Request, key: Json) -> Json:
    if request.backend.api_key_shape == "legacy":
        return legacy_api_key(key, request.org.default_workspace_id)
    return key


@route(r"/v1/organizations/api_keys")
def list_api_keys(request: Request) -> Json:
    org = request.org
    status = request.param("status")
    if status is not None and status not in API_KEY_STATUSES:
        raise ApiError(400, f"status: expected one of {', '.join(API_KEY_STATUSES)}")
    # An unknown workspace_id or created_by_user_id just matches nothing (undocumented).
    workspace_id = request.param("workspace_id")
    creator = request.param("created_by_user_id")
    items = [
        k
        for k in org.api_keys
        if (status is None or k["status"] == status)
        and (workspace_id is None or k["scope"].get("workspace_id") == workspace_id)
        and (creator is None or (k["created_by"] is not None and k["created_by"] == {"id": creator, "type": "user"}))
    ]
    page = paginate(request, items, known=_known(org, "api_keys", org.api_keys))
    page["data"] = [_shape(request, k) for k in page["data"]]
    return page


@route(rf"/v1/organizations/api_keys/{_ID}")
def get_api_key(request: Request) -> Json:
    return _shape(request, _find(request.org.api_keys, request.match["id"], "API key"))
