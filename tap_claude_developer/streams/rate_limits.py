"""Rate limits: the organization's, and every workspace's effective ones (admin-api.md §5.10, §5.11).

Full-table snapshots, so both streams send ACTIVATE_VERSION after a complete sync and a group or
override that disappears is marked deleted by the target. Two entry shapes are documented
(CONFLICT, admin-api.md §10.2): the newest has ``group`` {type, id, display_name}, the Aug-2026
one a bare ``group_type``. Both give the same ``group_type`` column; ``group_id`` and
``group_display_name`` exist only in the newest shape. The raw objects are kept as served.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from tap_claude_developer.pagination import Chain
from tap_claude_developer.streams.base import JSON_OBJECT, ORG_ID, AdminStream, page_items
from tap_claude_developer.streams.directory import workspace_ids

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

_GROUP = th.Property(
    "group", JSON_OBJECT, description="The API's group object {type, id, display_name}; null in the older shape."
)
_GROUP_COLUMNS = (
    th.Property(
        "group_type",
        th.StringType,
        description="model_group, batch, files, skills, token_count or web_search (open enum); either shape.",
    ),
    th.Property("group_id", th.StringType, description="rlg_... id, the same in every organization (newest shape)."),
    th.Property("group_display_name", th.StringType, description="e.g. 'Claude Sonnet 4.x' (model groups only)."),
    th.Property("models", th.ArrayType(th.StringType), description="Models and aliases; null unless a model group."),
)


def group_columns(item: dict[str, t.Any]) -> dict[str, t.Any]:
    """``group_type``, ``group_id``, ``group_display_name`` from either documented entry shape."""
    group = item.get("group")
    if isinstance(group, dict):
        return {
            "group_type": group.get("type"),
            "group_id": group.get("id"),
            "group_display_name": group.get("display_name"),
        }
    return {"group_type": item.get("group_type"), "group_id": None, "group_display_name": None}


class RateLimitsStream(AdminStream):
    """``GET /v1/organizations/rate_limits``: every entry in one page (no ``limit`` means all of them)."""

    name = "rate_limits"
    feature = True
    path = "/v1/organizations/rate_limits"
    cursor = "token"
    shows_deletions = True
    primary_keys = ("organization_id", "id")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("id", th.StringType, required=True, description="The entry's id, different in every organization."),
        th.Property("type", th.StringType, description="Always 'rate_limit'."),
        *_GROUP_COLUMNS,
        th.Property(
            "limits",
            th.ArrayType(th.ObjectType(th.Property("type", th.StringType), th.Property("value", th.IntegerType))),
            description="Limiter values, e.g. requests_per_minute, output_tokens_per_minute (open enum).",
        ),
        _GROUP,
    ).to_dict()

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        for item in page_items(page, chain.path):
            yield {**item, "organization_id": org.id, **group_columns(item)}


class WorkspaceRateLimitsStream(AdminStream):
    """``GET /v1/organizations/workspaces/{id}/rate_limits?include_inherited=true`` for every workspace.

    With ``include_inherited`` every limiter that applies to the workspace is listed, each with its
    ``source`` (workspace = an override, organization = inherited, then ``value`` = ``org_limit``):
    the effective limits a FinOps user asks about, and the overrides alone are
    ``source.type = 'workspace'``. Without it, a workspace with no override would have no rows
    at all. A 404 (the Default Workspace has no entries; a workspace deleted mid-run) means
    "nothing to sync", not a failure.
    """

    name = "workspace_rate_limits"
    feature = True
    path = "/v1/organizations/workspaces/{workspace_id}/rate_limits"
    cursor = "token"
    shows_deletions = True
    primary_keys = ("organization_id", "workspace_id", "rate_limit_id")
    schema = th.PropertiesList(
        ORG_ID,
        th.Property("workspace_id", th.StringType, required=True),
        th.Property(
            "rate_limit_id",
            th.StringType,
            required=True,
            description="The organization's entry this applies to (rate_limits.id).",
        ),
        th.Property("type", th.StringType, description="Always 'workspace_rate_limit'."),
        *_GROUP_COLUMNS,
        th.Property(
            "has_workspace_override",
            th.BooleanType,
            description="True when at least one limiter is set by the workspace itself (source 'workspace').",
        ),
        th.Property(
            "limits",
            th.ArrayType(
                th.ObjectType(
                    th.Property("type", th.StringType),
                    th.Property("value", th.IntegerType, description="The value in force for the workspace."),
                    th.Property("org_limit", th.IntegerType, description="The organization's value; null if none."),
                    th.Property("source", th.ObjectType(th.Property("type", th.StringType))),
                )
            ),
            description="Every limiter in force: source.type 'workspace' (an override) or 'organization' (inherited).",
        ),
        _GROUP,
    ).to_dict()

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        for workspace_id, is_default in workspace_ids(self, org):
            # The Default Workspace has no entries (admin-api.md §5.11): its 404 means "none";
            # another workspace's 404 fails the stream, so its limits are not marked deleted.
            path = self.path.format(workspace_id=workspace_id)
            params = (("include_inherited", "true"),)
            yield Chain(org.index, path, params, self.cursor, missing_ok=is_default, label=workspace_id)

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        for item in page_items(page, chain.path):
            limits = item.get("limits")  # not a list: RecordShape names the field in its error
            yield {
                **item,
                "organization_id": org.id,
                "workspace_id": item.get("workspace_id") or chain.label,
                **group_columns(item),
                "has_workspace_override": isinstance(limits, list)
                and any(_source(limit) == "workspace" for limit in limits),
            }


def _source(limit: object) -> object:
    source = limit.get("source") if isinstance(limit, dict) else None
    return source.get("type") if isinstance(source, dict) else None


RATE_LIMIT_STREAMS: tuple[type[AdminStream], ...] = (RateLimitsStream, WorkspaceRateLimitsStream)
