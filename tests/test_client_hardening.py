"""The client against hostile or broken answers: redirects, drips, unsendable requests, odd bodies."""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer.client import AdminApiClient, ApiError
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tests.fakes import FakeClock
from tests.helpers import config_for, run_tap

USERS = "/v1/organizations/users"
PAGE = b'{"data": [], "has_more": false, "first_id": null, "last_id": null}'


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator([OrgSpec("Acme", users=3, invites=0, workspaces=0, api_keys=0)], seed=1) as simulator:
        yield simulator


@pytest.fixture
def clock(sim: Simulator) -> FakeClock:
    sim.clear_faults()
    sim.clear_requests()
    return FakeClock()


def make_client(api_url: str, keys: list[str], clock: FakeClock, **overrides: t.Any) -> AdminApiClient:
    settings: dict[str, t.Any] = {
        "api_url": api_url,
        "keys": keys,
        "anthropic_version": "2023-06-01",
        "user_agent": "tests",
        "timeout": 5.0,
        "max_retries": 5,
        "max_retry_wait": 120.0,
        "requests_per_minute": 1000,
        "clock": clock,
    }
    return AdminApiClient(**{**settings, **overrides})


@contextlib.contextmanager
def serve(answer: t.Callable[[BaseHTTPRequestHandler], None]) -> t.Iterator[tuple[str, list[dict[str, str]]]]:
    """A throwaway HTTP server: ``answer`` writes each response; yields its URL and the headers it saw."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            with contextlib.suppress(OSError):  # the client hung up: that is the point of some tests
                answer(self)

        def log_message(self, format: str, *args: t.Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def not_found(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(404)
    handler.send_header("content-length", "0")
    handler.end_headers()


# 1. Redirects: never followed, so the key never travels to the host a 3xx names.


def test_a_redirect_is_not_followed_and_fails_the_run_with_a_clear_line(sim: Simulator, clock: FakeClock) -> None:
    with serve(not_found) as (capture_url, captured):
        elsewhere = capture_url.replace("127.0.0.1", "localhost") + "/v1/organizations/me"
        sim.add_fault(Fault(path="/v1/organizations/me$", status=302, headers={"location": elsewhere}, times=None))
        run = run_tap(config_for(sim), streams=["organizations"])
    assert captured == []
    assert run.failures == [
        f"the 1st admin API key (ending ...{sim.admin_keys[0][-4:]}), stream 'organizations': "
        "GET /v1/organizations/me failed: HTTP 302: the API answered with a redirect to localhost. "
        "The tap never follows redirects (they could carry the key elsewhere): check api_url."
    ]
    assert [r.path for r in sim.requests] == ["/v1/organizations/me"]  # not retried


@pytest.mark.parametrize(
    ("status", "location", "said"),
    [
        (301, "https://Evil.Example/v1/organizations/users", "a redirect to evil.example"),
        (303, "/v1/elsewhere", "a redirect"),
        (307, "http://user:sk-ant-admin01-aaaaaaaaaaaaaaaaaaaa@evil.example/x", "a redirect to evil.example"),
        (308, "http://ev%0Ail.example/", "a redirect"),
        (302, "", "a redirect"),
    ],
)
def test_every_3xx_fails_at_once_naming_only_a_plain_host(
    sim: Simulator, clock: FakeClock, status: int, location: str, said: str
) -> None:
    sim.add_fault(Fault(path=USERS, status=status, headers={"location": location}, times=None))
    client = make_client(sim.url, sim.admin_keys, clock)
    with pytest.raises(ApiError) as error:
        client.get(0, USERS)
    assert str(error.value) == (
        f"GET {USERS} failed: HTTP {status}: the API answered with {said}. "
        "The tap never follows redirects (they could carry the key elsewhere): check api_url."
    )
    assert client.request_count == 1
    assert clock.waits == []


# 2. A response that drips: bounded by request_timeout as a whole, not per socket read.


def drip(handler: BaseHTTPRequestHandler) -> None:
    """Headers at once, then the body a byte every 50 ms: 10 s in all, never 0.5 s without a byte."""
    body = PAGE.ljust(200)
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    for byte in body:
        handler.wfile.write(bytes([byte]))
        time.sleep(0.05)


def test_a_dripping_response_times_out_as_a_whole(clock: FakeClock) -> None:
    with serve(drip) as (url, seen):
        client = make_client(url, ["key"], clock, timeout=0.5, max_retries=1)
        started = time.monotonic()
        with pytest.raises(ApiError) as error:
            client.get(0, USERS)
        elapsed = time.monotonic() - started
    assert str(error.value) == (
        f"GET {USERS} failed: no usable response: no complete response within request_timeout (0.5s) from {url}"
    )
    assert len(seen) == 2  # retried once, like a read timeout
    assert clock.waits == [1.0]
    assert elapsed < 3.0  # two attempts of about 0.5 s each, not 2 x 10 s


def in_pieces(handler: BaseHTTPRequestHandler) -> None:
    """A chunked body sent in three pieces with pauses, well within the timeout."""
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for piece in (PAGE[:10], PAGE[10:40], PAGE[40:], b""):
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        time.sleep(0.05)


def test_a_body_in_pieces_within_the_timeout_is_read_whole(clock: FakeClock) -> None:
    with serve(in_pieces) as (url, _):
        body = make_client(url, ["key"], clock, timeout=2.0).get(0, USERS)
    assert body.raw == PAGE
    assert clock.waits == []


# 3. Requests that can never be sent fail at once instead of being retried.


@pytest.mark.parametrize(
    ("api_url", "headers", "kind"),
    [
        ("http://[::1", (), "InvalidURL"),
        ("ftp://example.com", (), "InvalidSchema"),
        ("example.com", (), "MissingSchema"),
        ("http://" + "a" * 70 + ".example", (), "LocationParseError"),
        (None, (("anthropic-beta", " leading-space"),), "InvalidHeader"),
        (None, (("anthropic-beta", "\u2713"),), "UnicodeEncodeError"),
    ],
)
def test_an_unsendable_request_fails_at_once(
    sim: Simulator, clock: FakeClock, api_url: str | None, headers: tuple[tuple[str, str], ...], kind: str
) -> None:
    client = make_client(api_url or sim.url, sim.admin_keys, clock)
    with pytest.raises(ApiError) as error:
        client.get(0, USERS, headers=headers)
    assert str(error.value) == (
        f"GET {USERS} failed: no usable response: {kind}: a request to {client.api_url} "
        "cannot be sent as configured (not retried)"
    )
    assert client.request_count == 1
    assert clock.waits == []
    assert sim.requests == []


# 4. Retry warnings name the organization.


def test_a_retry_warning_names_the_organization(
    sim: Simulator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    error = {"type": "error", "error": {"type": "api_error", "message": "boom"}, "request_id": "req_1"}
    client = make_client(sim.url, sim.admin_keys, clock)
    with caplog.at_level(logging.WARNING, logger="tap-claude-developer"):
        sim.add_fault(Fault(path=USERS, status=500, body=json.dumps(error)))
        client.get(0, USERS)
        client.labels[0] = "organization 'Acme' (org_1)"  # as a run may, once it knows the organization
        sim.add_fault(Fault(path=USERS, status=500, body=json.dumps(error)))
        client.get(0, USERS)
    retried = f"GET {USERS} failed: HTTP 500 api_error: boom (request_id req_1)"
    assert [r.getMessage() for r in caplog.records] == [
        f"Retrying in 1.0s (attempt 2 of 6) for the 1st admin API key (ending ...{sim.admin_keys[0][-4:]}): {retried}",
        f"Retrying in 1.0s (attempt 2 of 6) for organization 'Acme' (org_1): {retried}",
    ]


# 5. A 200 whose JSON is not an object says so.


@pytest.mark.parametrize(
    ("body", "kind"),
    [("[]", "an array"), ('"hello"', "a string"), ("null", "null"), ("42", "a number"), ("true", "a boolean")],
)
def test_a_200_of_json_that_is_not_an_object_says_so(sim: Simulator, clock: FakeClock, body: str, kind: str) -> None:
    sim.add_fault(Fault(path=USERS, status=200, body=body, times=None))
    with pytest.raises(ApiError) as error:
        make_client(sim.url, sim.admin_keys, clock, max_retries=1).get(0, USERS)
    assert str(error.value) == f"GET {USERS} failed: HTTP 200: the body is JSON but not an object ({kind})"
    assert clock.waits == [1.0]


# A body beyond any real page (a gzip bomb above all): stopped at MAX_BODY_BYTES, not retried.


def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    """About 3 KB on the wire that inflate to 3 MB (the limit is patched down to 1 MB)."""
    body = gzip.compress(b'{"data": [' + b"0," * 1_500_000 + b'0], "has_more": false}')
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-encoding", "gzip")
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_body_that_inflates_beyond_the_limit_fails_without_a_retry(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by attack: a 1.5 MB gzip body inflating to 1.5 GB took 3.8 GB of memory."""
    monkeypatch.setattr(client_module, "MAX_BODY_BYTES", 1 << 20)
    with serve(gzip_bomb) as (url, seen):
        client = make_client(url, ["key"], clock)
        with pytest.raises(ApiError) as error:
            client.get(0, USERS)
    assert str(error.value) == (
        f"GET {USERS} failed: no usable response: a response body larger than 1 MB from {url} (not retried)"
    )
    assert len(seen) == 1
    assert clock.waits == []
