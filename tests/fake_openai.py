"""A fake OpenAI-compatible LLM server for the tests: a real HTTP server on loopback.

The one stand-in the tests allow, for what cannot run here (a paid LLM API). It serves
``POST /v1/chat/completions`` (JSON, or server-sent events with ``stream: true``) and
``GET /v1/models`` like an OpenAI-compatible upstream (vLLM, Ollama, a vendor's API), and
records every request it received, so a test can prove where a prompt went and what it
carried. A model can be told to fail: answer 429 or 500, or hang until the client gives up.

The answer to a chat is ``echo: `` followed by the last user message's text (so a test can
check what the model saw and what the client got back), or a fixed ``reply`` per model.
Usage counts are computed from the texts (characters / 4, at least 1) and returned, in the
last streamed chunk too when the client asks for ``stream_options.include_usage``.

Usage::

    with FakeOpenAI() as upstream:
        upstream.url                # http://127.0.0.1:PORT/v1
        upstream.fail("gpt-4o", 429)
        ...
        upstream.requests           # [ReceivedRequest(model=..., body=..., headers=...)]
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Text every streamed answer is cut into chunks of (characters per chunk).
CHUNK_CHARACTERS = 7


@dataclass
class ReceivedRequest:
    """One request the fake received."""

    path: str
    model: str | None
    body: dict[str, Any]
    headers: dict[str, str]

    def texts(self) -> list[str]:
        """Every message content (string or text parts) the request carried."""
        out: list[str] = []
        for message in self.body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, str):
                out.append(content)
            elif isinstance(content, list):
                out.extend(p.get("text", "") for p in content if isinstance(p, dict))
            for call in message.get("tool_calls") or []:
                out.append(str((call.get("function") or {}).get("arguments", "")))
        return out


@dataclass
class Behaviour:
    """How the fake answers one model: ``status`` (200, 429, 500 ...), ``hang`` seconds
    before answering, a fixed ``reply`` instead of the echo, ``pause`` seconds between
    streamed chunks."""

    status: int = 200
    hang: float = 0.0
    reply: str | None = None
    pause: float = 0.0


@dataclass
class FakeOpenAI:
    """The server; start it with ``with`` (or :meth:`start`), read :attr:`requests`."""

    api_key: str | None = None
    requests: list[ReceivedRequest] = field(default_factory=list)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    #: ``time.monotonic()`` at the end of each stream the fake sent, in order.
    streams_finished: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        """The base URL an OpenAI client is given (ends in ``/v1``)."""
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def fail(self, model: str, status: int) -> None:
        self.behaviours[model] = Behaviour(status=status)

    def hang(self, model: str, seconds: float) -> None:
        self.behaviours[model] = Behaviour(hang=seconds)

    def reply(self, model: str, text: str) -> None:
        self.behaviours[model] = Behaviour(reply=text)

    def pause(self, model: str, seconds: float) -> None:
        """Stream ``model``'s answers with ``seconds`` between chunks."""
        self.behaviours[model] = Behaviour(pause=seconds)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.streams_finished.clear()
        self.behaviours.clear()

    def received(self, model: str | None = None) -> list[ReceivedRequest]:
        """The chat requests received (for ``model`` only, when given)."""
        with self._lock:
            chats = [r for r in self.requests if r.path.endswith("/chat/completions")]
        return [r for r in chats if model is None or r.model == model]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)


def usage_of(prompt: str, completion: str) -> dict[str, int]:
    prompt_tokens = max(1, len(prompt) // 4)
    completion_tokens = max(1, len(completion) // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOpenAI
    protocol_version = "HTTP/1.1"
    #: Headers and body go out as separate writes: without TCP_NODELAY the body would wait
    #: for the client's delayed ACK of the headers (tens of milliseconds per answer).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self.owner._record(ReceivedRequest(self.path, None, {}, dict(self.headers)))
            data = [{"id": m, "object": "model", "owned_by": "fake"} for m in self.owner.models]
            self._json(200, {"object": "list", "data": data})
            return
        self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "invalid JSON", "type": "invalid_request"}})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        model = body.get("model")
        self.owner._record(ReceivedRequest(self.path, model, body, dict(self.headers)))
        expected = f"Bearer {self.owner.api_key}"
        if self.owner.api_key is not None and self.headers.get("authorization") != expected:
            self._json(401, {"error": {"message": "bad key", "type": "auth_error"}})
            return
        behaviour = self.owner.behaviours.get(str(model), Behaviour())
        if behaviour.hang:
            time.sleep(behaviour.hang)
        if behaviour.status != 200:
            message = {429: "rate limited", 500: "upstream exploded"}.get(behaviour.status, "error")
            self._json(behaviour.status, {"error": {"message": message, "type": "upstream"}})
            return
        prompt = "\n".join(ReceivedRequest(self.path, model, body, {}).texts())
        answer = behaviour.reply if behaviour.reply is not None else "echo: " + _last_user(body)
        if body.get("stream"):
            self._stream(str(model), answer, prompt, body, behaviour.pause)
        else:
            self._json(200, _completion(str(model), answer, usage_of(prompt, answer)))

    # ------------------------------------------------------------------ answers

    def _json(self, status: int, document: dict[str, Any]) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a hang past its timeout)

    def _stream(
        self, model: str, answer: str, prompt: str, body: dict[str, Any], pause: float
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for index, chunk in enumerate(_chunks(model, answer)):
            if index and pause:
                time.sleep(pause)
            self._event(chunk)
        if (body.get("stream_options") or {}).get("include_usage"):
            final = _chunk_frame(model, None, None)
            final["choices"] = []
            final["usage"] = usage_of(prompt, answer)
            self._event(final)
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")
        with self.owner._lock:
            self.owner.streams_finished.append(time.monotonic())

    def _event(self, document: dict[str, Any]) -> None:
        self._write_chunk(f"data: {json.dumps(document)}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _completion(model: str, answer: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


def _chunk_frame(model: str, delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }


def _chunks(model: str, answer: str) -> Iterator[dict[str, Any]]:
    yield _chunk_frame(model, {"role": "assistant", "content": ""}, None)
    for start in range(0, len(answer), CHUNK_CHARACTERS):
        yield _chunk_frame(model, {"content": answer[start : start + CHUNK_CHARACTERS]}, None)
    yield _chunk_frame(model, {}, "stop")


def main() -> None:
    """``python -m tests.fake_openai``: serve on a free loopback port (its base URL is the
    first line printed) until stdin closes; ``make bench`` runs it in a process of its own."""
    import sys

    with FakeOpenAI() as fake:
        print(fake.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
