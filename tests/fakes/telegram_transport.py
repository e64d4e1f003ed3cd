"""How PTB reaches the fake Telegram: in process, or over real HTTP on loopback.

Owns `FakeRequest` (a `telegram.request.BaseRequest` that hands each call straight to the fake)
and `FakeBotApiHttpServer` (a tornado server speaking the Bot API's HTTP dialect, so PTB's own
`HTTPXRequest` is the client). Both turn a `Reply` into what the client would see, including a
timeout. They know nothing of Bot API methods; `BotApiEndpoint.handle` does.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from typing import Any, Protocol

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakes.telegram_objects import JSON, UploadedFile

#: Parameters whose value is a string even when it looks like JSON (HTTP form values are all
#: strings; PTB JSON-encodes everything that is not a string already).
_STRING_PARAMETERS: frozenset[str] = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "document",
        "photo",
        "voice",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
    }
)


@dataclass(frozen=True)
class Reply:
    """The fake's answer to one request, before a transport delivers it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    timed_out: bool = False  # the client must see a timeout instead of this answer
    delay: float | None = None  # HTTP mode: seconds to hold a timed-out answer (None: default)

    @classmethod
    def with_json(cls, status: int, payload: JSON, **kwargs: Any) -> Reply:
        """A JSON answer."""
        return cls(status=status, body=json.dumps(payload).encode("utf-8"), **kwargs)


class BotApiEndpoint(Protocol):
    """What a transport needs from the fake: one awaitable answer per request."""

    async def handle(self, url: str, params: JSON, files: dict[str, UploadedFile]) -> Reply:
        """Answer one request to `url` (the method is its last path segment)."""
        ...


class FakeRequest(BaseRequest):
    """A PTB request class that answers from the fake, with no network in between."""

    def __init__(self, endpoint: BotApiEndpoint, *, read_timeout: float | None = 5.0) -> None:
        self._endpoint = endpoint
        self._read_timeout = read_timeout
        self._initialized = False

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout in seconds (PTB adds the long-poll timeout to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Mark the request ready; there are no connections to open."""
        self._initialized = True

    async def shutdown(self) -> None:
        """Mark the request closed; later calls fail like a closed HTTPXRequest."""
        self._initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Hand the call to the fake; raise TimedOut where a real client would time out."""
        if not self._initialized:
            raise RuntimeError("This FakeRequest is not initialized!")
        params: JSON = dict(request_data.parameters) if request_data else {}
        files = _files_from(request_data) if request_data else {}
        reply = await self._endpoint.handle(url, params, files)
        if reply.timed_out:
            raise TimedOut
        return reply.status, reply.body


def _files_from(request_data: RequestData) -> dict[str, UploadedFile]:
    files: dict[str, UploadedFile] = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        files[name] = UploadedFile(filename=filename, content=data, mime_type=mime_type)
    return files


class FakeBotApiHttpServer:
    """The fake served over HTTP on loopback, for tests that keep PTB's HTTPXRequest."""

    def __init__(self, endpoint: BotApiEndpoint, *, timeout_delay: float) -> None:
        self._endpoint = endpoint
        self._timeout_delay = timeout_delay
        self._server: tornado.httpserver.HTTPServer | None = None
        self._stopping = asyncio.Event()

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port (0 picks a free port); return the port."""
        if self._server is not None:
            raise RuntimeError("the fake Telegram HTTP server is already running")
        application = tornado.web.Application(
            [(r"/(.*)", _BotApiHandler, {"server": self})],
            log_function=lambda _handler: None,
        )
        sockets = tornado.netutil.bind_sockets(port, address=host, family=socket.AF_INET)
        self._server = tornado.httpserver.HTTPServer(application)
        self._server.add_sockets(sockets)
        self._stopping.clear()
        bound_port: int = sockets[0].getsockname()[1]
        return bound_port

    async def stop(self) -> None:
        """Stop listening, release held answers, and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.stop()
        await server.close_all_connections()

    async def answer(self, handler: _BotApiHandler) -> None:
        """Answer one HTTP request through the endpoint."""
        request = handler.request
        params = _http_params(request)
        files = {
            name: UploadedFile(
                filename=uploads[0].filename,
                content=uploads[0].body,
                mime_type=uploads[0].content_type,
            )
            for name, uploads in request.files.items()
            if uploads
        }
        reply = await self._endpoint.handle(request.full_url(), params, files)
        if reply.timed_out:
            await self._hold(handler, reply.delay)
            if handler.client_gone.is_set() or self._stopping.is_set():
                return
        handler.set_status(reply.status)
        handler.set_header("Content-Type", reply.content_type)
        handler.finish(reply.body)

    async def _hold(self, handler: _BotApiHandler, delay: float | None) -> None:
        """Hold an answer past the client's timeout, ending early on disconnect or stop."""
        waits = [
            asyncio.ensure_future(handler.client_gone.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(
                waits,
                timeout=self._timeout_delay if delay is None else delay,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)


class _BotApiHandler(tornado.web.RequestHandler):
    """Every path: a Bot API method (or a file) under the fake's token."""

    def initialize(self, server: FakeBotApiHttpServer) -> None:
        self._fake_server = server
        self.client_gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self.client_gone.set()

    def check_xsrf_cookie(self) -> None:
        """The Bot API has no cookies."""

    async def get(self, _path: str) -> None:
        await self._fake_server.answer(self)

    async def post(self, _path: str) -> None:
        await self._fake_server.answer(self)


def _http_params(request: Any) -> JSON:
    """Parameters from the query string, a form or multipart body, or a JSON body."""
    params: JSON = {}
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and request.body:
        body = json.loads(request.body)
        if isinstance(body, dict):
            params.update(body)
    arguments = {**request.query_arguments, **request.body_arguments}
    for name, values in arguments.items():
        if values:
            params[name] = _decode_form_value(name, values[-1].decode("utf-8"))
    return params


def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMETERS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
