"""The organization's directory: who has access, with what role, in which workspace, with which keys.

All full-table (the API has no change feed and removed objects simply vanish), so each of these
streams sends ACTIVATE_VERSION after a complete sync and the target can mark vanished rows deleted.
"""

from __future__ import annotations

import re
import typing as t

from singer_sdk import typing as th

from tap_claude_developer.pagination import Chain
from tap_claude_developer.streams.base import JSON_OBJECT, ORG_ID, AdminStream, SchemaDriftError, page_items
from tap_claude_developer.timestamps import as_micros

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization


def _timestamp(name: str, description: str, *, required: bool = False) -> th.Property[t.Any]:
    return th.Property(name, th.DateTimeType, required=required, description=description)


class DirectoryStream(AdminStream):
    """Full-table Admin API listing whose object timestamps are normalised to microseconds, UTC."""

    shows_deletions = True
    timestamp_fields: t.ClassVar[tuple[str, ...]] = ()

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        for item in page_items(page, chain.path):
            yield self.to_record({**item, "organization_id": org.id}, chain)

    def to_record(self, record: dict[str, t.Any], chain: Chain) -> dict[str, t.Any]:
        for name in self.timestamp_fields:
            value = record.get(name)
            if value is None:
                continue
            try:
                record[name] = as_micros(value)
            except (TypeError, ValueError, AttributeError):
                raise SchemaDriftError(
                    chain.path, 200, message=f"stream '{self.name}' field '{name}' is not an RFC 3339 timestamp"
                ) from None
        return record


class OrganizationsStream(DirectoryStream):
    """``GET /v1/organizations/me``: one record per key, already fetched when the run began."""

    name = "organizations"
    path = "/v1/organizations/me"
    primary_keys = ("organization_id",)
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, description="Same as organization_id."),
        th.Property("name", th.StringType),
        th.Property("type", th.StringType, description="Always 'organization'."),
    ).to_dict()

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        return ()  # fetched once, when the run began

    def get_records(self, context: t.Any) -> t.Iterable[dict[str, t.Any]]:
        if context:
            org = self.run.organization(context["organization_id"])
            try:  # checked like every other stream's records: a wrong type names the stream and field
                yield self._shape.conform({**org.record, "organization_id": org.id}, self.path)
            except SchemaDriftError as error:
                self._give_up(org, error)


class UsersStream(DirectoryStream):
    """``GET /v1/organizations/users``: every member of the organization and their role."""

    name = "users"
    path = "/v1/organizations/users"
    primary_keys = ("organization_id", "id")
    timestamp_fields = ("added_at",)
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, required=True),
        th.Property("type", th.StringType),
        th.Property("email", th.StringType),
        th.Property("name", th.StringType),
        th.Property(
            "role",
            th.StringType,
            description=(
                "Open enum: user, developer, billing, admin, claude_code_user, managed, "
                "membership_admin, owner, primary_owner, ..."
            ),
        ),
        _timestamp("added_at", "When the user joined the organization."),
    ).to_dict()


class InvitesStream(DirectoryStream):
    """``GET /v1/organizations/invites``: every invite the API returns, in every status."""

    name = "invites"
    path = "/v1/organizations/invites"
    primary_keys = ("organization_id", "id")
    timestamp_fields = ("invited_at", "expires_at", "accepted_at")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, required=True),
        th.Property("type", th.StringType),
        th.Property("email", th.StringType),
        th.Property("role", th.StringType),
        th.Property("status", th.StringType, description="pending, accepted, expired or deleted (open enum)."),
        _timestamp("invited_at", "When the invite was sent."),
        _timestamp("expires_at", "Invites expire 21 days after they are sent."),
        _timestamp("accepted_at", "Null until accepted."),
        th.Property(
            "rbac_group_ids", th.ArrayType(th.StringType), description="Enterprise groups assigned on acceptance."
        ),
    ).to_dict()


def workspace_listing(org_index: int, page_size: int) -> Chain:
    """Every workspace of an organization, archived ones and the Default Workspace included."""
    params = (("include_archived", "true"), ("include_default", "true"), ("limit", str(page_size)))
    return Chain(org_index, "/v1/organizations/workspaces", params, "id")


def workspace_ids(stream: AdminStream, org: Organization) -> t.Iterator[tuple[str, bool]]:
    """``(id, is_default)`` of each of ``org``'s workspaces, for streams that go workspace by workspace.

    The listing is fetched once a run, for every organization at once, and reused by the
    workspaces stream itself whichever of them syncs first. An id goes into a URL path, so
    anything but an id's characters fails the stream instead of requesting some other path.
    """
    page_size = stream.config["page_size"]
    stream.run.keep(workspace_listing(other.index, page_size) for other in stream.organizations)
    listing = workspace_listing(org.index, page_size)
    for body in stream.run.fetch(listing):
        for item in page_items(body.json(), listing.path):
            workspace_id = item.get("id")
            if not isinstance(workspace_id, str) or not _ID.fullmatch(workspace_id):
                raise SchemaDriftError(
                    listing.path, 200, message=f"stream '{stream.name}': a workspace in the listing has no usable id"
                )
            # The Default Workspace is the one named "Default" (admin-api.md §5.4); nothing else marks it.
            yield workspace_id, item.get("name") == DEFAULT_WORKSPACE_NAME


#: What workspace ids are made of (``wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ``).
_ID = re.compile(r"[A-Za-z0-9_\-]{1,200}")
DEFAULT_WORKSPACE_NAME = "Default"


class WorkspacesStream(DirectoryStream):
    """``GET /v1/organizations/workspaces``: archived ones and the Default Workspace included."""

    name = "workspaces"
    path = "/v1/organizations/workspaces"
    primary_keys = ("organization_id", "id")
    timestamp_fields = ("created_at", "archived_at")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, required=True),
        th.Property("type", th.StringType),
        th.Property("name", th.StringType),
        _timestamp("created_at", "When the workspace was created."),
        _timestamp("archived_at", "Null unless archived (archiving is irreversible)."),
        th.Property("display_color", th.StringType),
        th.Property("tags", JSON_OBJECT, description="Free-form string tags (a JSON object)."),
        th.Property("compartment_id", th.StringType),
        th.Property("external_key_id", th.StringType),
        th.Property("user_profile_id", th.StringType),
        th.Property(
            "data_residency",
            JSON_OBJECT,
            description=(
                "{workspace_geo, default_inference_geo, allowed_inference_geos}; allowed_inference_geos "
                "is a list of geos or the string 'unrestricted'."
            ),
        ),
    ).to_dict()

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        yield workspace_listing(org.index, self.config["page_size"])


class WorkspaceMembersStream(DirectoryStream):
    """``GET /v1/organizations/workspaces/{id}/members`` for every workspace, concurrently."""

    name = "workspace_members"
    path = "/v1/organizations/workspaces/{workspace_id}/members"
    primary_keys = ("organization_id", "workspace_id", "user_id")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("workspace_id", th.StringType, required=True),
        th.Property("user_id", th.StringType, required=True),
        th.Property("type", th.StringType),
        th.Property(
            "workspace_role",
            th.StringType,
            description=(
                "workspace_user, workspace_developer, workspace_restricted_developer, "
                "workspace_admin, workspace_billing (open enum)."
            ),
        ),
    ).to_dict()

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        limit = ("limit", str(self.config["page_size"]))
        for workspace_id, is_default in workspace_ids(self, org):
            # The Default Workspace has no member list (admin-api.md §5.4): its 404 means "no
            # members". Any other workspace's 404 fails the stream for this organization, so
            # that its members are not marked deleted (UNCERTAIN: what an archived workspace
            # answers is undocumented; the simulator serves its members).
            path = self.path.format(workspace_id=workspace_id)
            yield Chain(org.index, path, (limit,), "id", missing_ok=is_default, label=workspace_id)


class ApiKeysStream(DirectoryStream):
    """``GET /v1/organizations/api_keys``: keys in every status, both documented object shapes.

    Newest shape: ``scope`` {type, workspace_id} and ``principal`` {type: user_actor, user_id} or
    {type: service_account_actor, service_account_id}. Older shape: top-level ``workspace_id``
    (null = Default Workspace) and ``principal`` {id, type: user | service_account}. Raw objects
    are kept; ``workspace_id``, ``scope_type``, ``principal_type`` and ``principal_id`` are the
    same in both.
    """

    name = "api_keys"
    path = "/v1/organizations/api_keys"
    primary_keys = ("organization_id", "id")
    timestamp_fields = ("created_at", "expires_at")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, required=True),
        th.Property("type", th.StringType),
        th.Property("name", th.StringType),
        th.Property("status", th.StringType, description="active, inactive, archived or expired (open enum)."),
        _timestamp("created_at", "When the key was created."),
        _timestamp("expires_at", "Null when the key never expires."),
        th.Property(
            "partial_key_hint", th.StringType, description="The API's own redacted hint, e.g. sk-ant-api03-R2D...igAA."
        ),
        th.Property("created_by", JSON_OBJECT, description="{id, type: user | service_account}, or null."),
        th.Property(
            "principal",
            JSON_OBJECT,
            description=(
                "Raw, either shape: {type: user_actor, user_id} | {type: service_account_actor, "
                "service_account_id} (newest) or {id, type: user | service_account} (older); or null."
            ),
        ),
        th.Property(
            "scope",
            JSON_OBJECT,
            description="Raw (newest shape): {type: workspace, workspace_id} or {type: organization}.",
        ),
        th.Property(
            "workspace_id",
            th.StringType,
            description=(
                "Workspace of the key, either shape; null for an organization-scoped key or "
                "(older shape) the Default Workspace."
            ),
        ),
        th.Property(
            "scope_type", th.StringType, description="workspace or organization (older shape: always workspace)."
        ),
        th.Property(
            "principal_type", th.StringType, description="user or service_account, either shape; null when unbound."
        ),
        th.Property(
            "principal_id", th.StringType, description="user_... or svac_... id, either shape; null when unbound."
        ),
    ).to_dict()

    def to_record(self, record: dict[str, t.Any], chain: Chain) -> dict[str, t.Any]:
        record = super().to_record(record, chain)
        principal = record.get("principal")
        if isinstance(principal, dict) and not isinstance(principal.get("type"), (str, type(None))):
            raise SchemaDriftError(chain.path, 200, message="stream 'api_keys' field 'principal.type' is not a string")
        scope = record.get("scope")
        if isinstance(scope, dict):
            record["workspace_id"] = scope.get("workspace_id")
            record["scope_type"] = scope.get("type")
        else:
            record["scope_type"] = "workspace"
        record["principal_type"], record["principal_id"] = _principal(principal)
        return record


_ACTOR_TYPES = {"user_actor": ("user", "user_id"), "service_account_actor": ("service_account", "service_account_id")}


def _principal(principal: object) -> tuple[str | None, str | None]:
    """(type, id) from either principal shape; unknown actor types pass through as they are."""
    if not isinstance(principal, dict):
        return None, None
    kind = principal.get("type")
    if kind in _ACTOR_TYPES:
        plain, id_field = _ACTOR_TYPES[kind]
        return plain, principal.get(id_field)
    return kind, principal.get("id")


DIRECTORY_STREAMS: tuple[type[AdminStream], ...] = (
    OrganizationsStream,
    UsersStream,
    InvitesStream,
    WorkspacesStream,
    WorkspaceMembersStream,
    ApiKeysStream,
)
