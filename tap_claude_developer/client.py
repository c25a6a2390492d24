"""Every HTTP request the tap makes goes through here.

One place owns what must never vary: GET only, the headers, which key goes with which
organization, the per-organization request budget, retries (honouring ``retry-after``), and
error messages that are one line long and never contain a key.
"""

from __future__ import annotations

import collections
import decimal
import email.utils
import logging
import random
import re
import threading
import time
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec
import requests
import urllib3

from tap_claude_developer.settings import key_label

LOGGER = logging.getLogger("tap-claude-developer")

#: Anything that looks like an Anthropic key, wherever it appears in text we log or raise
#: (real keys run to about 100 characters; prefixes such as "sk-ant-admin" alone are not keys).
KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,}")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
#: Retries for a 429 that carries no retry-after (a spend cap does not lift by waiting).
BARE_429_RETRIES = 2
_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)
#: The largest body read (after decompression). The largest real pages are tens of MB (a month of
#: daily usage grouped by key, model and tier); beyond this a body is a fault, not a page.
MAX_BODY_BYTES = 512 << 20
#: Bytes asked of the socket per read: large, so a normal body arrives in a few reads.
CHUNK_SIZE = 1 << 20
#: Failures building or sending the request that no retry can cure (the URL or a header value).
UNSENDABLE = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    urllib3.exceptions.LocationValueError,
    UnicodeError,
)
#: A host name safe to repeat in a message (a Location could hold anything).
_SAFE_HOST = re.compile(r"[a-z0-9.\-]{1,253}")


class PageMarks(msgspec.Struct):
    """The paging fields of a response. Reading only these still checks that the body is JSON."""

    has_more: t.Any = None
    last_id: t.Any = None
    next_page: t.Any = None


_MARKS = msgspec.json.Decoder(PageMarks)


@dataclass(frozen=True)
class Body:
    """A response body kept as bytes until it is read: pages waiting in buffers stay small."""

    raw: bytes
    marks: PageMarks
    path: str = ""

    def json(self) -> t.Any:
        """The body, with floats as Decimal so money stays exact.

        Reading only the paging fields (in ``get``) checks the body's JSON structure but not the
        text inside strings, so a body can still turn out unreadable here: then it is an ApiError
        (that organization's stream fails with a clear line), never a crash of the run.
        """
        try:
            return _DECODER.decode(self.raw)
        except (msgspec.DecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            raise ApiError(self.path, 200, message=f"unreadable JSON body ({reason})") from None


class KnownKeys:
    """The configured keys, so an echo of one is caught in any form: cut short, upper-cased, spaced out.

    KEY_PATTERN needs the literal ``sk-ant-`` in front. This also replaces any run of key
    characters that holds WINDOW consecutive characters of a known key's secret part (case
    ignored); 12 characters of a random key never occur in text by chance. A key shorter than
    that (settings refuse them) adds nothing: its windows would match ordinary words. The
    windows are a set, not one regular expression: a test process knows thousands of keys.
    """

    WINDOW = 12

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._windows: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, keys: t.Iterable[object]) -> None:
        new = {key for key in keys if isinstance(key, str)} - self._keys
        if not new:
            return
        with self._lock:
            self._keys |= new
            windows = set(self._windows)
            for key in new:
                secret = _secret(key).lower()
                windows.update(secret[i : i + self.WINDOW] for i in range(len(secret) - self.WINDOW + 1))
            self._windows = frozenset(windows)

    def scrub(self, text: str) -> str:
        """``text`` with every key, and every piece of a known key, replaced by a marker."""
        text = KEY_PATTERN.sub("[redacted key]", text)
        return _KEY_RUN.sub(self._replace, text) if self._windows else text

    def _replace(self, run: re.Match[str]) -> str:
        low, windows, width = run.group().lower(), self._windows, self.WINDOW
        if any(low[i : i + width] in windows for i in range(len(low) - width + 1)):
            return "[redacted key]"
        return run.group()


def _secret(key: str) -> str:
    """What is secret in a key: all of it but the prefix every Admin key shares."""
    return key.strip().removeprefix("sk-ant-admin")


def echo_parts(key: str) -> tuple[bytes, ...]:
    """Three pieces of a key's secret: a page that echoes most of the key holds at least one."""
    secret = _secret(key).encode()
    third = len(secret) // 3
    parts = (secret[:third], secret[third : 2 * third], secret[2 * third :])
    return tuple(part for part in parts if len(part) >= KnownKeys.WINDOW)


#: A run of the characters keys are made of, long enough to hold a window of one.
_KEY_RUN = re.compile(r"[A-Za-z0-9_\-]{12,}")


#: Filled by every client (and the tap's settings): what ``redact`` and the log filter look for.
KNOWN_KEYS = KnownKeys()


def redact(text: str) -> str:
    """Replace anything key-shaped with a marker; fold the text onto one line, control characters escaped."""
    folded = " ".join(KNOWN_KEYS.scrub(text).split())
    return folded if folded.isprintable() else "".join(c if c.isprintable() else ascii(c)[1:-1] for c in folded)


class ReadOnlyViolation(RuntimeError):
    """The tap tried to send something other than GET; it never should."""


def _refuse_unless_get(method: str | bytes | None) -> None:
    verb = (method.decode() if isinstance(method, bytes) else method or "").upper()
    if verb != "GET":
        raise ReadOnlyViolation(f"refused to send {verb}: the tap is read-only")


class ReadOnlySession(requests.Session):
    """A session that sends only GET and never follows a redirect, whatever its caller asks.

    requests would resend our headers, the key among them, to whatever host a 3xx names.
    """

    def request(self, method: str | bytes, url: str | bytes, *args: t.Any, **kwargs: t.Any) -> requests.Response:
        _refuse_unless_get(method)
        return super().request(method, url, *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        _refuse_unless_get(request.method)
        kwargs["allow_redirects"] = False  # every request, and every redirect, passes here
        return super().send(request, **kwargs)


@dataclass
class ApiError(Exception):
    """A request that failed for good. ``str()`` is one line and safe to log."""

    path: str
    status: int | None
    error_type: str | None = None
    message: str = ""
    request_id: str | None = None
    error_code: str | None = None
    #: For a 429: the wait the server asked for (None when it sent no retry-after).
    retry_after: float | None = None

    def __post_init__(self) -> None:
        # Every text field may come from the API's error body, which may echo the request.
        self.message = redact(self.message)
        self.error_type = None if self.error_type is None else redact(self.error_type)
        self.request_id = None if self.request_id is None else redact(self.request_id)
        self.error_code = None if self.error_code is None else redact(self.error_code)

    @property
    def hint(self) -> str:
        """The next step for the person reading the error, where there is one."""
        if self.status == 401:
            return (
                "The key was revoked or is not an Admin key: create an Admin key in the "
                "Claude Console under Settings > Admin Keys."
            )
        if self.status == 403:
            return "The key lacks permission for this endpoint."
        if self.error_code == "organization_type_not_supported":
            return "This stream does not exist for this organization type."
        if self.error_code == "parent_organization_required":
            return "This stream exists only for a parent organization."
        if self.status == 429 and self.retry_after is None:
            return (
                "Rate limited without retry-after: the organization may have reached its "
                "spend limit, or other tools share its request budget."
            )
        if self.status == 429:
            return "Still rate limited after every retry: lower concurrency or max_requests_per_minute."
        if self.status and 300 <= self.status < 400:
            return "The tap never follows redirects (they could carry the key elsewhere): check api_url."
        return ""

    @property
    def fatal_for_organization(self) -> bool:
        """Whether every later request with this key is bound to fail the same way."""
        return self.status == 401

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, hint: bool = True) -> str:
        """One line: endpoint, status, the API's error type and message, request id, next step."""
        what = f"HTTP {self.status}" if self.status else "no usable response"
        if self.error_type:
            what += f" {self.error_type}"
        text = f"GET {self.path} failed: {what}"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" (request_id {self.request_id})"
        if hint and self.hint:
            text += f". {self.hint}"
        return text


class Clock:
    """Time as the client sees it. Tests put a fake in ``SYSTEM_CLOCK``'s place to see exact waits."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, interrupt: threading.Event | None = None) -> None:
        """Wait ``seconds``, or less once ``interrupt`` is set (the run is stopping)."""
        if interrupt is None:
            time.sleep(seconds)
        else:
            interrupt.wait(seconds)

    def jitter(self, wait: float) -> float:
        """Up to a quarter of ``wait`` on top of it: spreads retries, never shortens a wait."""
        return random.uniform(0, wait / 4)


SYSTEM_CLOCK = Clock()


class RequestBudget:
    """At most ``per_minute`` requests to one organization in any rolling 60 seconds.

    A rolling window (not a token bucket) never exceeds the documented per-minute limit
    however the server counts its minutes. ``hold_until`` lets a 429's retry-after pause
    every thread that talks to the same organization, not just the one that got it.
    """

    def __init__(self, per_minute: int, clock: Clock, stopping: threading.Event | None = None) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._stopping = stopping
        self._sent: collections.deque[float] = collections.deque()
        self._not_before = 0.0
        self._lock = threading.Lock()

    def hold_until(self, moment: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, moment)

    def acquire(self) -> None:
        while True:
            if self._stopping is not None and self._stopping.is_set():
                raise RunStopping
            with self._lock:
                now = self._clock.now()
                while self._sent and self._sent[0] <= now - 60:
                    self._sent.popleft()
                wait = self._not_before - now
                if len(self._sent) >= self.per_minute:
                    wait = max(wait, self._sent[0] + 60 - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
            self._clock.sleep(wait, self._stopping)


def parse_retry_after(headers: t.Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, retry-after seconds or HTTP date."""
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def _error_fields(body: bytes) -> tuple[str | None, str, str | None, str | None]:
    """(type, message, request_id, error_code) from the documented error body, if it is one."""
    try:
        data = _DECODER.decode(body)
    except msgspec.DecodeError:
        return None, "", None, None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None, "", None, None
    error = data["error"]
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    return (
        error.get("type") if isinstance(error.get("type"), str) else None,
        str(error.get("message", ""))[:500],
        data.get("request_id") if isinstance(data.get("request_id"), str) else None,
        details.get("error_code") if isinstance(details.get("error_code"), str) else None,
    )


class AdminApiClient:
    """GETs JSON from the Admin API for organizations identified by the position of their key.

    ``timeout`` (the ``request_timeout`` setting) bounds each whole response, from connecting to
    its last byte, not only each socket read.
    """

    def __init__(
        self,
        *,
        api_url: str,
        keys: t.Sequence[str],
        anthropic_version: str,
        user_agent: str,
        timeout: float,
        max_retries: int,
        max_retry_wait: float,
        requests_per_minute: int,
        pool_size: int = 8,
        clock: Clock | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._keys = tuple(keys)
        KNOWN_KEYS.add(self._keys)
        self._echo_parts = [echo_parts(key) for key in self._keys]
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_retry_wait = max_retry_wait
        self.clock = clock or SYSTEM_CLOCK
        #: Set when the run stops early (a signal): waits end, and nothing more is sent.
        self.stopping = threading.Event()
        self._budgets = [RequestBudget(requests_per_minute, self.clock, self.stopping) for _ in self._keys]
        self.session = ReadOnlySession()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "anthropic-version": anthropic_version,
                "user-agent": user_agent,
                "accept": "application/json",
            }
        )
        self.request_count = 0
        self._count_lock = threading.Lock()
        #: How retry warnings name each key's organization: its key's label until the run knows the
        #: organization, which may then put the organization's own label in its place.
        self.labels = [key_label(index, key) for index, key in enumerate(self._keys)]

    def close(self) -> None:
        self.session.close()

    def backoff(self, attempt: int) -> float:
        """Exponential wait before retry ``attempt`` (1-based): 1, 2, 4 ... seconds, plus jitter."""
        wait = min(2.0 ** (attempt - 1), self._max_retry_wait)
        return min(wait + self.clock.jitter(wait), self._max_retry_wait)

    def get(
        self,
        key_index: int,
        path: str,
        params: t.Sequence[tuple[str, str]] = (),
        headers: t.Sequence[tuple[str, str]] = (),
    ) -> Body:
        """GET ``path`` with the key at ``key_index`` (and extra ``headers``, e.g. anthropic-beta).

        Retries what can succeed later; raises :class:`ApiError` for everything else.
        """
        url = f"{self.api_url}{path}"
        request_headers = {**dict(headers), "x-api-key": self._keys[key_index]}
        budget = self._budgets[key_index]
        attempt = 0
        while True:
            attempt += 1
            try:
                budget.acquire()
            except RunStopping:
                raise ApiError(path, None, message="not sent: the run is stopping") from None
            with self._count_lock:
                self.request_count += 1
            failure: ApiError
            wait: float | None = None
            try:
                response, content = self._send(url, params, request_headers)
            except UNSENDABLE as exc:
                message = (
                    f"{type(exc).__name__}: a request to {self.api_url} cannot be sent as configured (not retried)"
                )
                raise ApiError(path, None, message=message) from None
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                failure = ApiError(path, None, message=f"{type(exc).__name__} talking to {self.api_url}")
            except _TooLarge:
                message = f"a response body larger than {MAX_BODY_BYTES >> 20} MB from {self.api_url} (not retried)"
                raise ApiError(path, None, message=message) from None
            except _TooSlow:
                message = f"no complete response within request_timeout ({self._timeout:g}s) from {self.api_url}"
                failure = ApiError(path, None, message=message)
            else:
                if response.status_code == 200:
                    if any(part in content for part in self._echo_parts[key_index]):  # echoed: never into a record
                        content = KNOWN_KEYS.scrub(content.decode("utf-8", "replace")).encode()
                    try:
                        return Body(content, _MARKS.decode(content), path)
                    except (msgspec.DecodeError, RecursionError):
                        failure = ApiError(path, 200, message=_unreadable(content, response.headers))
                elif 300 <= response.status_code < 400:
                    raise ApiError(path, response.status_code, message=_redirect(response.headers))
                else:
                    error_type, message, request_id, error_code = _error_fields(content)
                    failure = ApiError(
                        path,
                        response.status_code,
                        error_type,
                        message or response.reason or "",
                        request_id or response.headers.get("request-id"),
                        error_code,
                    )
                    if response.status_code not in RETRY_STATUSES or response.headers.get("x-should-retry") == "false":
                        raise failure
                    wait = failure.retry_after = parse_retry_after(response.headers)
                    if response.status_code == 429 and wait is None and attempt > BARE_429_RETRIES:
                        raise failure
            if attempt > self._max_retries:
                raise failure
            if wait is None:
                wait = self.backoff(attempt)
            else:
                wait = min(wait + self.clock.jitter(min(wait, 1.0)), self._max_retry_wait)
                budget.hold_until(self.clock.now() + wait)
            LOGGER.warning(
                "Retrying in %.1fs (attempt %d of %d) for %s: %s",
                wait,
                attempt + 1,
                self._max_retries + 1,
                self.labels[key_index],
                failure.describe(hint=False),
            )
            self.clock.sleep(wait, self.stopping)

    def _send(
        self, url: str, params: t.Sequence[tuple[str, str]], headers: dict[str, str]
    ) -> tuple[requests.Response, bytes]:
        """The response and its whole body, or :class:`_TooSlow` once ``request_timeout`` has passed.

        The socket timeout alone bounds each read, so a server dripping a byte at a time would
        hold the request forever. ``read1`` returns whatever has arrived (urllib3 2), so the
        deadline is checked as bytes come; a read that stalls still ends at the socket timeout.
        Wall time, not ``self.clock``: this measures the network.
        """
        deadline = time.monotonic() + self._timeout
        with self.session.get(
            url, params=list(params), headers=headers, timeout=self._timeout, stream=True
        ) as response:
            chunks = []
            size = 0
            while chunk := response.raw.read1(CHUNK_SIZE, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise _TooSlow
                if size > MAX_BODY_BYTES:  # counted after decompression: a gzip bomb stops here too
                    raise _TooLarge
        return response, b"".join(chunks)


class RunStopping(Exception):
    """The run is stopping: a request waiting for its turn is not sent."""


class _TooLarge(Exception):
    """The body (decompressed) outgrew MAX_BODY_BYTES."""


class _TooSlow(Exception):
    """The whole response took longer than ``request_timeout``."""


def _unreadable(content: bytes, headers: t.Mapping[str, str]) -> str:
    """Why a 200's body is no page: not JSON at all, or JSON of the wrong shape."""
    try:
        value = _DECODER.decode(content)
    except (msgspec.DecodeError, RecursionError):
        return f"unreadable JSON body ({headers.get('content-type', 'unknown content type')})"
    kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(type(value), "a number")
    return f"the body is JSON but not an object ({kind})"


def _redirect(headers: t.Mapping[str, str]) -> str:
    """Say a redirect came, naming where to only when that is a plain host name."""
    try:
        host = urlsplit(headers.get("location", "")).hostname or ""
    except ValueError:
        host = ""
    where = f" to {host}" if _SAFE_HOST.fullmatch(host) else ""
    return f"the API answered with a redirect{where}"
