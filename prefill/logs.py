"""Structured JSON logs. Records carry the request id; never personal values (callers log codes only)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from prefill.middleware import request_id_var

# Attributes every LogRecord has; anything else was passed with `extra=` and is worth keeping.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(
            {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != "color_message"}
        )
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False, default=str)


# Libraries that log every outbound call at INFO (httpx: one line per department request, nine a
# prefill). The connectors log failed reads themselves; these speak up from WARNING unless DEBUG is asked.
_CHATTY_LIBRARIES = ("httpx", "httpcore")


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(level if level == "DEBUG" else "WARNING")
