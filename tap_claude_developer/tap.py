"""tap-claude-developer: Anthropic's Admin API (Claude Developer Platform) as Singer streams."""

from __future__ import annotations

import contextlib
import decimal
import gc
import json
import logging
import sys
import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import (
    AbortedSyncFailedException,
    AbortedSyncPausedException,
    ConfigValidationError,
    MapExpressionError,
    StreamMapConfigError,
)
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.tap_base import CliTestOptionValue

from tap_claude_developer import settings
from tap_claude_developer.client import KNOWN_KEYS, AdminApiClient, redact
from tap_claude_developer.output import BufferedMsgSpecWriter
from tap_claude_developer.prefetch import Prefetcher
from tap_claude_developer.streams.analytics import ANALYTICS_STREAMS
from tap_claude_developer.streams.base import AdminStream
from tap_claude_developer.streams.claude_code import ClaudeCodeUsageStream
from tap_claude_developer.streams.directory import DIRECTORY_STREAMS
from tap_claude_developer.streams.rate_limits import RATE_LIMIT_STREAMS
from tap_claude_developer.streams.usage_cost import USAGE_COST_STREAMS
from tap_claude_developer.sync_run import SyncRun

if t.TYPE_CHECKING:
    from types import FrameType

    import click
    from singer_sdk import Stream


#: Every stream, in the order a run syncs them (the directory first: reports need its workspaces).
STREAMS: tuple[type[AdminStream], ...] = (
    *DIRECTORY_STREAMS,
    ClaudeCodeUsageStream,
    *RATE_LIMIT_STREAMS,
    *USAGE_COST_STREAMS,
    *ANALYTICS_STREAMS,  # opt-in: not selected by default
)


class _RedactKeys(logging.Filter):
    """Last line of defence: nothing key-shaped reaches a log handler, whoever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (scrubbed := KNOWN_KEYS.scrub(message)) != message:
            record.msg, record.args = scrubbed, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, KNOWN_KEYS.scrub(text)
        return True


class _QuietDryRunStops(logging.Filter):
    """--test stops each stream at its first record, and the SDK logs that stop as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        stopped = isinstance(sys.exc_info()[1], (AbortedSyncFailedException, AbortedSyncPausedException))
        return not (stopped and record.msg == "An unhandled error occurred while syncing '%s'")


class TapClaudeDeveloper(Tap):
    """Syncs one or many organizations, each reached with its own Admin API key."""

    name = "tap-claude-developer"
    package_name = "tap-claude-developer"
    config_jsonschema = settings.SETTINGS
    message_writer_class = BufferedMsgSpecWriter
    capabilities: t.ClassVar[list[t.Any]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        TapCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
    ]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, _RedactKeys) for f in handler.filters):
                handler.addFilter(_RedactKeys())
        super().__init__(*args, **kwargs)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Our own checks first: they never echo a value, unlike JSON Schema's messages."""
        keys = self.config.get("admin_api_keys")
        KNOWN_KEYS.add(keys if isinstance(keys, list) else [])  # before anything can log them
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        errors = settings.validate(self.config, schema)
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors or super()._validate_config(raise_errors=raise_errors)

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:
        """The SDK finds the variables (and loads .env); we parse them, one clear line per bad value."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        properties: dict[str, t.Any] = schema["properties"]
        # Declared as strings, every variable comes back as its raw text.
        raw = parse_environment_config(
            {"properties": {name: {"type": "string"} for name in properties}}, cls._env_var_prefix
        )
        config: dict[str, t.Any] = {}
        errors: list[str] = []
        for name, text in raw.items():
            try:
                config[name] = settings.from_env(text, properties[name])
            except ValueError as problem:
                errors.append(f"environment variable {cls._env_var_prefix}{name.upper()} {problem}.")
        if errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return config

    def discover_streams(self) -> list[Stream]:
        return [stream_class(tap=self) for stream_class in STREAMS]

    @cached_property
    def run(self) -> SyncRun:
        """Created on first use during a sync: discovery and --about make no request."""
        keys: list[str] = list(self.config["admin_api_keys"])
        concurrency = int(self.config["concurrency"])
        client = AdminApiClient(
            api_url=self.config["api_url"],
            keys=keys,
            anthropic_version=self.config["anthropic_version"],
            user_agent=self.config.get("user_agent") or f"{self.name}/{self.plugin_version}",
            timeout=float(self.config["request_timeout"]),
            max_retries=int(self.config["max_retries"]),
            max_retry_wait=float(self.config["max_retry_wait"]),
            requests_per_minute=int(self.config["max_requests_per_minute"]),
            pool_size=2 * concurrency,  # the shared workers, and those that prefetch workspace listings
        )
        labels = [settings.key_label(index, key) for index, key in enumerate(keys)]
        return SyncRun(client, Prefetcher(concurrency), labels)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT: stop sending, end the run with 128 + the signal's number (the SDK exits 0).

        Every STATE sent so far is good to resume from; records after the last one are re-read.
        """
        self.logger.error(
            "Stopped by signal %d: the run did not complete; the next run resumes from the last STATE sent.",
            signum,
        )
        run = self.__dict__.get("run")  # the cached property, if a sync began
        if run is not None:
            run.client.stopping.set()
        sys.exit(128 + signum)

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> _ConfigInput:
        """As the SDK's (files merged in order, ENV = read the environment), but a bad file is one line."""
        config: dict[str, t.Any] = {}
        for path in value:
            if path != "ENV":
                try:
                    with open(path, encoding="utf-8") as handle:
                        # Decimal floats, as the SDK reads config files.
                        config |= _read_file(handle, "--config", _config_problem, parse_float=decimal.Decimal)
                except OSError as error:
                    cls.logger.error("--config %s: cannot be read (%s).", path, error.strerror or error)
                    ctx.exit(1)
                except ValueError as problem:
                    cls.logger.error("%s", problem)
                    ctx.exit(1)
        return _ConfigInput(config=config, parse_env="ENV" in value)

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """As the SDK's, but a bad config is clear lines, only selected streams are tried (one record
        each), and a failed organization makes --test exit 1."""
        if value == CliTestOptionValue.Disabled.value:
            return
        config: _ConfigInput = ctx.params.get("config", _ConfigInput())
        try:
            tap = cls(config=config.config, parse_env_config=config.parse_env, validate_config=True)
        except ConfigValidationError as invalid:
            for error in [*invalid.errors, "Config validation failed"]:
                cls.logger.error("%s", error)
            ctx.exit(1)
        if value == CliTestOptionValue.Schema.value:
            tap.write_schemas()
            ctx.exit()
        quiet = _QuietDryRunStops()
        handlers = logging.getLogger().handlers
        for handler in handlers:
            handler.addFilter(quiet)
        try:
            # The SDK's run_connection_test forces every stream on, the opt-in ones included.
            tap.run_sync_dry_run(dry_run_record_limit=1, streams=[s for s in tap.streams.values() if s.selected])
        finally:
            tap.run.close()
            for handler in handlers:
                handler.removeFilter(quiet)
        if tap.run.failures:
            cls.logger.error("%s", tap.run.summary())
            ctx.exit(1)
        ctx.exit()

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """As the SDK's, then: a failed organization or stream ends the run with exit code 1.

        By then every other organization and stream has synced and its STATE has been sent.
        """
        super(Tap, cls).invoke(about=about, about_format=about_format)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        try:
            state_value = None if state is None else _read_file(state, "--state", _state_problem)
            catalog_value = None if catalog is None else _read_file(catalog, "--catalog", _catalog_problem)
        except ValueError as problem:
            cls.logger.error("%s", problem)
            sys.exit(1)
        try:
            tap = cls(
                config=config.config,
                state=state_value,
                catalog=catalog_value,
                parse_env_config=config.parse_env,
                validate_config=True,
            )
            try:
                with _collector_kept_off_startup_objects():
                    tap.sync_all()
            finally:
                tap.run.close()
        except (MapExpressionError, StreamMapConfigError) as error:  # the user's stream_maps, not the tap
            cls.logger.error("stream_maps: %s", redact(str(error) or type(error).__name__))
            sys.exit(1)
        if tap.run.failures:
            cls.logger.error("%s", tap.run.summary())
            sys.exit(1)


@contextlib.contextmanager
def _collector_kept_off_startup_objects() -> t.Iterator[None]:
    """Python's cyclic garbage collector, tuned for millions of short-lived acyclic records.

    With the default thresholds a full collection walks every object the imports created every
    few thousand records: a sixth of a large sync's time. Frozen, those objects are skipped.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _read_file(
    handle: t.IO[str],
    option: str,
    problem: t.Callable[[t.Any], str | None],
    parse_float: t.Callable[[str], t.Any] = float,
) -> t.Any:
    """A --config, --state or --catalog file as JSON, or one clear line (raised as ValueError) saying what is wrong."""
    try:
        value = json.loads(handle.read(), parse_float=parse_float, parse_constant=_no_constant)
    except ValueError as error:  # also UnicodeDecodeError and JSONDecodeError
        raise ValueError(f"{option} {handle.name}: not a JSON file ({error}).") from None
    if (found := problem(value)) is not None:
        raise ValueError(f"{option} {handle.name}: {found}.")
    return value


def _no_constant(name: str) -> t.NoReturn:
    """Python's json reads NaN and Infinity; JSON has neither, and no setting or bookmark can be one."""
    raise ValueError(f"{name} is not JSON")


def _config_problem(config: t.Any) -> str | None:
    return None if isinstance(config, dict) else "the settings must be a JSON object"


def _state_problem(state: t.Any) -> str | None:
    if not isinstance(state, dict):
        return "a Singer STATE must be a JSON object"
    if state.get("type") == "STATE":
        # The SDK would read it as a state without bookmarks: every report re-read from start_date.
        return "this is a whole Singer STATE message: pass only its 'value' (the object holding 'bookmarks')"
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict) or not all(isinstance(entry, dict) for entry in bookmarks.values()):
        return "'bookmarks' must be an object of one object per stream"
    for stream, entry in bookmarks.items():
        partitions = entry.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, dict) and isinstance(p.get("context"), dict) for p in partitions
        ):
            return f"the partitions of stream '{stream}' must be objects with a 'context'"
        if not all(isinstance(part.get("progress_markers", {}), dict) for part in [entry, *partitions]):
            return f"the progress_markers of stream '{stream}' must be objects"
    return None


def _catalog_problem(catalog: t.Any) -> str | None:
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        return "a Singer catalog must be a JSON object with a 'streams' list"
    if not all(isinstance(entry, dict) and isinstance(entry.get("tap_stream_id"), str) for entry in catalog["streams"]):
        return "every catalog stream must be an object with a 'tap_stream_id'"
    # A stream class sets its key as a str; full-table streams keep the SDK's property (no key).
    own: dict[str, str | None] = {
        stream.name: key if isinstance(key := stream.replication_key, str) else None  # type: ignore[misc]
        for stream in STREAMS
    }
    for entry in catalog["streams"]:
        name = entry["tap_stream_id"]
        if not isinstance(entry.get("schema", {}), dict):
            return f"the schema of stream '{name}' must be an object"
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, list) or not all(
            isinstance(m, dict) and isinstance(m.get("breadcrumb"), list) and isinstance(m.get("metadata"), dict)
            for m in metadata
        ):
            return f"the metadata of stream '{name}' must be a list of objects with a 'breadcrumb' and a 'metadata'"
        if name in own:
            # The SDK's rule: the entry's own key, else the stream's metadata (breadcrumb []).
            root: dict[str, t.Any] = next((m["metadata"] for m in metadata if m["breadcrumb"] == []), {})
            found = entry.get("replication_key") or root.get("replication-key")
            if found != own[name]:
                return (
                    f"the replication key of stream '{name}' is fixed ({_named(own[name])}), "
                    f"but the catalog gives {_named(found)}"
                )
    return None


def _named(key: object) -> str:
    return f"'{key}'" if key else "none"
