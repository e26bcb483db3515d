"""How ``lifecyclegraph serve`` logs: its own loggers (``lifecyclegraph.*``) and
uvicorn's, at one level, as text lines or as one JSON object a line.

>>> import io, json, logging
>>> stream = io.StringIO()
>>> handler = logging.StreamHandler(stream)
>>> handler.setFormatter(JsonFormatter())
>>> log = logging.getLogger("lifecyclegraph.example")
>>> log.addHandler(handler)
>>> log.warning("source %s is failing", "registry")
>>> record = json.loads(stream.getvalue())
>>> record["level"], record["logger"], record["message"]
('warning', 'lifecyclegraph.example', 'source registry is failing')
>>> log.removeHandler(handler)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["JsonFormatter", "log_config"]

#: uvicorn's access log record: its arguments, in order.
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``; an access log line adds ``client``, ``method``, ``path``,
    ``http_version`` and ``status``; an exception adds ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(
    level: str = "info", fmt: Literal["text", "json"] = "text", access_log: bool = True
) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for ``serve`` (uvicorn takes it as its
    ``log_config``): every record to standard error, lifecyclegraph's and uvicorn's
    loggers at ``level``, the access log on or off."""
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    )
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "lifecyclegraph": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {
                "handlers": ["stderr"],
                "level": upper if access_log else "CRITICAL",
                "propagate": False,
            },
        },
    }
