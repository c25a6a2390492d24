"""Singer messages out: the SDK's msgspec writer, without a flush after every record."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.simple import Message


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Records go through stdout's buffer; any other message (STATE above all) flushes it.

    A flush per record is a system call per record. Flushing at each STATE keeps what matters:
    a STATE never reaches the target before the records it covers, and a run killed between
    two STATEs loses only what the next run re-reads from the earlier one.
    """

    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
