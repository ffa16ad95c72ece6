"""The error an OpenAI-compatible endpoint returns: an HTTP status and OpenAI's error body.

Why a module of its own: the request checks (:mod:`aie.offline.validation`), the API
(:mod:`aie.offline.api`) and the HTTP server all raise or send it.
"""

from __future__ import annotations

import json


class APIError(Exception):
    """A refused request: ``status`` plus the ``{"error": {message, type, param, code}}`` body."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code

    def body(self) -> bytes:
        return json.dumps({"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}).encode()
