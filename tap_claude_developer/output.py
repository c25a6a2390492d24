"""Singer messages out: the SDK's msgspec writer, records batched, flushed only at checkpoints."""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import RecordMessage

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

#: Records encoded together (msgspec's encode_lines): a few hundred KB at most.
BATCH = 256


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Records are encoded in batches and written through stdout's buffer; any other message
    (STATE above all) first writes the records before it, then itself, then flushes.

    A flush per record is a system call per record. Ordering is unchanged, and a STATE never
    reaches the target before the records it covers; a run killed between two STATEs loses
    only records that the next run re-reads from the earlier STATE.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[dict[str, t.Any]] = []

    def write_message(self, message: Message) -> None:
        if isinstance(message, RecordMessage):
            self._pending.append(message.to_dict())
            if len(self._pending) >= BATCH:
                self._write_pending()
            return
        self._write_pending()
        sys.stdout.buffer.write(self.format_message(message))
        sys.stdout.flush()

    def write_record(
        self, stream: str, record: dict[str, t.Any], version: int | None, time_extracted: dt.datetime
    ) -> None:
        """A RECORD exactly as ``RecordMessage(...).to_dict()`` gives it, without building the message.

        ``time_extracted`` must be in UTC already (RecordMessage would convert it).
        """
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = time_extracted
        self._pending.append(message)
        if len(self._pending) >= BATCH:
            self._write_pending()

    def _write_pending(self) -> None:
        if self._pending:
            sys.stdout.buffer.write(encoder.encode_lines(self._pending))
            self._pending.clear()
