"""HTTP machinery of the simulator: routing table, auth, errors, parameters, pagination, faults,
request log and latency.

Endpoint logic lives elsewhere: endpoint modules (directory.py, later reports.py) register
handlers with `route()`, so adding endpoints never means editing the request handler. Only the
standard library is used, so the simulator adds no runtime dependency to the tap.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol, cast
from urllib.parse import parse_qsl, urlsplit

import msgspec

from .data import ApiKeyShape, Json, OrgState, RateLimitShape

log = logging.getLogger(__name__)

# admin-api.md §4.1. Unlisted 4xx use invalid_request_error ("also used for other 4xx not
# listed"), unlisted 5xx use api_error.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
DEFAULT_MESSAGES = {
    400: "Invalid request.",
    401: "invalid x-api-key",
    402: "Your credit balance is too low to access the Anthropic API.",
    403: "This API key does not have permission to use the specified resource.",
    404: "Not found.",
    409: "The request conflicts with the current state of the resource.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of requests has exceeded your rate limit. Please try again later.",
    500: "Internal server error.",
    504: "Request timed out.",
    529: "Overloaded.",
}
# Versions a request may name. The docs only ever show 2023-06-01; the 2.x SDK sends
# 2026-10-21 (admin-api.md §1). UNCERTAIN which other values the server accepts; we refuse
# anything else with 400 so a typo in a client shows up.
KNOWN_VERSIONS = frozenset({"2023-01-01", "2023-06-01", "2026-10-21"})
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000
_EXTRA_REASONS = {529: "Overloaded"}  # not in http.HTTPStatus
_INT = re.compile(r"-?[0-9]+")
_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def error_type_for(status: int) -> str:
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def error_body(status: int, message: str | None, request_id: str, error_code: str | None = None) -> Json:
    """The documented error envelope (admin-api.md §2.1), `details.error_code` only if given."""
    error: Json = {
        "type": error_type_for(status),
        "message": message or DEFAULT_MESSAGES.get(status, "Error."),
    }
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    return {"type": "error", "error": error, "request_id": request_id}


class ApiError(Exception):
    """Raised by handlers and helpers; becomes an error response with the documented body."""

    def __init__(self, status: int, message: str, *, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code


FaultKind = Literal["status", "reset", "truncate", "html", "slow"]


@dataclass
class Fault:
    """A scripted failure for requests whose path matches `path` (a regex, `re.search`).

    kind: `status` answers `status` (default 500) with `body` or the documented error body;
    `reset` closes the socket without answering; `truncate` sends the normal response's headers
    with the full Content-Length and then only half of its body; `html` answers like a proxy
    (default 502, text/html); `slow` sleeps `delay` seconds, then answers normally.
    It skips the first `after` matching requests, then hits `times` of them (None = forever).
    `hits` counts how often it fired.
    """

    path: str
    status: int | None = None
    body: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: FaultKind = "status"
    delay: float = 0.0
    after: int = 0
    times: int | None = 1
    org_index: int | None = None
    error_code: str | None = None
    seen: int = field(default=0, init=False)
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in ("status", "reset", "truncate", "html", "slow"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        self._pattern = re.compile(self.path)

    def claim(self, path: str, org_index: int | None) -> bool:
        """Count a matching request and say whether this fault fires for it (caller locks)."""
        if not self._pattern.search(path):
            return False
        if self.org_index is not None and self.org_index != org_index:
            return False
        self.seen += 1
        if self.seen <= self.after or (self.times is not None and self.hits >= self.times):
            return False
        self.hits += 1
        return True


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator saw it. `status` is 0 when a `reset` fault sent nothing."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    org_id: str | None
    status: int
    time: float


class Backend(Protocol):
    """What the HTTP layer needs from the Simulator (kept narrow to avoid an import cycle)."""

    lock: threading.RLock
    latency: float
    seed: int
    #: Bodies of successful answers by query, when the simulator was made with cache_responses.
    response_cache: dict[tuple[object, ...], bytes] | None
    api_key_shape: ApiKeyShape
    rate_limit_shape: RateLimitShape

    def now(self) -> datetime: ...
    def org_for_key(self, key: str) -> OrgState | None: ...
    def claim_fault(self, path: str, org_index: int | None) -> Fault | None: ...
    def record(self, request: RecordedRequest) -> None: ...
    def next_request_id(self) -> str: ...
    def tick(self) -> None: ...


# --------------------------------------------------------------------------- routing


@dataclass
class Request:
    """What a route handler gets: the authenticated org, the path match and parsed parameters.

    Handlers run with `backend.lock` held, so they may read and return org state directly.
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    org: OrgState
    match: re.Match[str]
    backend: Backend

    def now(self) -> datetime:
        return self.backend.now()

    def param(self, name: str) -> str | None:
        """A single-valued parameter; when repeated, the last value wins.

        UNCERTAIN: how the API treats unknown parameters is undocumented; handlers ignore them
        (tests can still see exactly what was sent in `Simulator.requests`).
        """
        value = None
        for key, val in self.query:
            if key == name:
                value = val
        return value

    def array(self, name: str, allowed: Collection[str] | None = None) -> list[str]:
        """Values of `name[]` (bracket notation, repeatable, admin-api.md §2).

        UNCERTAIN: the unbracketed form (`roles=admin`) is undocumented; like other unknown
        parameters it is ignored.
        """
        values = [val for key, val in self.query if key == f"{name}[]"]
        for val in values:
            if val == "" or (allowed is not None and val not in allowed):
                choices = ", ".join(sorted(allowed)) if allowed else "a non-empty value"
                raise ApiError(400, f"{name}[]: invalid value {val!r}; expected one of {choices}")
        return values

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.param(name)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(400, f"{name}: expected true or false, got {value!r}")

    def limit(self, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
        value = self.param("limit")
        if value is None:
            return default
        if not _INT.fullmatch(value) or not 1 <= int(value) <= maximum:
            raise ApiError(400, f"limit: Input should be an integer from 1 to {maximum}, got {value!r}")
        return int(value)


Handler = Callable[[Request], Json]
ROUTES: list[tuple[re.Pattern[str], Handler]] = []


def route(pattern: str) -> Callable[[Handler], Handler]:
    """Register a GET handler for paths that fully match `pattern` (named groups welcome)."""

    def register(handler: Handler) -> Handler:
        ROUTES.append((re.compile(pattern), handler))
        return handler

    return register


def paginate(
    request: Request,
    items: Sequence[Json],
    *,
    known: Collection[str],
    id_key: str = "id",
) -> Json:
    """Id-cursor page of `items` (sorted by `id_key`) per admin-api.md §3.1.

    `known` are the ids a cursor may name (current and removed items of the whole collection,
    not just the filtered `items`), so a cursor stays valid after its item is deleted.
    Ordering is undocumented (admin-api.md §3.1): we serve oldest first, and ids sort in
    creation order, so id order is creation order.
    """
    limit = request.limit()
    after, before = request.param("after_id"), request.param("before_id")
    if after is not None and before is not None:
        raise ApiError(400, "Only one of after_id and before_id may be provided.")
    for name, cursor in (("after_id", after), ("before_id", before)):
        # Undocumented: what the API does with an id it has never issued. We answer 400.
        if cursor is not None and cursor not in known:
            raise ApiError(400, f"{name}: no object with id {cursor!r}")
    ids = [item[id_key] for item in items]
    if before is not None:  # the `limit` items immediately before; has_more = earlier ones
        end = bisect_left(ids, before)
        start = max(0, end - limit)
        page, has_more = list(items[start:end]), start > 0
    else:
        start = bisect_right(ids, after) if after is not None else 0
        page, has_more = list(items[start : start + limit]), start + limit < len(items)
    return {
        "data": page,
        "has_more": has_more,
        "first_id": page[0][id_key] if page else None,
        "last_id": page[-1][id_key] if page else None,
    }


# --------------------------------------------------------------------------- HTTP layer


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json_bytes(payload: Json) -> bytes:
    """Compact JSON (msgspec: about five times faster than json.dumps for big report pages)."""
    return msgspec.json.encode(payload)


class SimulatorHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive with Content-Length on every response."""

    protocol_version = "HTTP/1.1"
    server_version = "anthropic-admin-simulator"
    timeout = 120  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle + delayed ACK would add
        # ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header follows the simulated clock."""
        if timestamp is None:
            timestamp = self.backend.now().timestamp()
        return super().date_time_string(timestamp)

    @property
    def backend(self) -> Backend:
        return cast(SimulatorHTTPServer, self.server).backend

    # every method goes through one path; only GET is served
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        arrived = time.monotonic()
        backend = self.backend
        split = urlsplit(self.path)
        path = split.path
        query = parse_qsl(split.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._drain_body(headers)
        request_id = backend.next_request_id()
        org = self._org_from_headers(headers)
        org_index = org.index if org else None
        if backend.latency > 0:
            time.sleep(backend.latency)

        fault = backend.claim_fault(path, org_index)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind in ("status", "html"):
            response = self._fault_response(fault, request_id)
        else:
            response = self._dispatch(path, query, headers, request_id)

        status = 0 if fault is not None and fault.kind == "reset" else response.status
        backend.record(
            RecordedRequest(
                method=self.command,
                path=path,
                query=query,
                headers=headers,
                org_id=org.id if org else None,
                status=status,
                time=arrived,
            )
        )
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        self._send(response, request_id, truncate=fault is not None and fault.kind == "truncate")

    def _drain_body(self, headers: dict[str, str]) -> None:
        """Read any request body so the connection stays usable for the next request."""
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > 0:
            self.rfile.read(int(length))

    def _org_from_headers(self, headers: dict[str, str]) -> OrgState | None:
        key = _credential(headers)
        return self.backend.org_for_key(key) if key else None

    def _dispatch(self, path: str, query: list[tuple[str, str]], headers: dict[str, str], request_id: str) -> _Response:
        backend = self.backend
        try:
            # Order of checks (method, auth, version, route) is not documented; the simulator
            # refuses writes first so a tap that tries one is told so plainly.
            if self.command != "GET":
                raise ApiError(405, f"Method {self.command} not allowed: the simulator serves GET only.")
            org = _authenticate(backend, headers)
            version = headers.get("anthropic-version")
            if not version:
                raise ApiError(400, "anthropic-version: header is required")
            if version not in KNOWN_VERSIONS:
                raise ApiError(400, f"anthropic-version: unknown version {version!r}")
            for pattern, handler in ROUTES:
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                cache = backend.response_cache
                cache_key = (org.index, path, tuple(query), headers.get("anthropic-beta"), version)
                body = cache.get(cache_key) if cache is not None else None
                if body is None:
                    with backend.lock:
                        backend.tick()
                        request = Request(self.command, path, query, headers, org, match, backend)
                        body = _json_bytes(handler(request))
                    if cache is not None:
                        cache[cache_key] = body
                return _Response(200, body, headers={"anthropic-organization-id": org.id})
            raise ApiError(404, f"Not found: {path}")
        except ApiError as exc:
            payload = error_body(exc.status, exc.message, request_id, exc.error_code)
            return _Response(exc.status, _json_bytes(payload))
        except Exception:
            log.exception("simulator handler failed for %s", path)
            return _Response(500, _json_bytes(error_body(500, None, request_id)))

    def _fault_response(self, fault: Fault, request_id: str) -> _Response:
        if fault.kind == "html":
            body = fault.body if fault.body is not None else _HTML_502
            data = body.encode() if isinstance(body, str) else body
            return _Response(fault.status or 502, data, "text/html", dict(fault.headers))
        status = fault.status or 500
        if fault.body is None:
            data = _json_bytes(error_body(status, None, request_id, fault.error_code))
        else:
            data = fault.body.encode() if isinstance(fault.body, str) else fault.body
        return _Response(status, data, headers=dict(fault.headers))

    def _send(self, response: _Response, request_id: str, *, truncate: bool) -> None:
        """Write status line, headers and body in a single write (one syscall per response)."""
        body = b"" if self.command == "HEAD" else response.body
        if truncate:
            body = body[: len(body) // 2]
            self.close_connection = True
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = _EXTRA_REASONS.get(response.status, "")
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"server: {self.server_version}",
            f"date: {self.date_time_string()}",
            f"content-type: {response.content_type}",
            f"content-length: {len(response.body)}",
            f"request-id: {request_id}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        if self.close_connection:
            lines.append("connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        self.log_request(response.status, len(response.body))

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no response at all."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _credential(headers: dict[str, str]) -> str | None:
    """`x-api-key`, else `authorization: Bearer <key>` (what the 2.x SDK sends, admin-api.md §1)."""
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _authenticate(backend: Backend, headers: dict[str, str]) -> OrgState:
    key = _credential(headers)
    if key is None:
        raise ApiError(401, "x-api-key header is required")
    if key.startswith("sk-ant-api"):
        # UNCERTAIN (admin-api.md §2.1): the status for a standard/workspace key on admin
        # endpoints is undocumented ("workspace API keys do not work"; 401 or 403). We answer 401.
        raise ApiError(
            401,
            "Admin API endpoints require an Admin API key (sk-ant-admin01-...); standard API keys are not accepted.",
        )
    org = backend.org_for_key(key)
    if org is None:
        raise ApiError(401, "invalid x-api-key")
    return org


class SimulatorHTTPServer(ThreadingHTTPServer):
    """Threaded server that tracks open connections so `stop()` can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        super().__init__(address, SimulatorHandler)
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
