"""A loopback stand-in for a model provider's HTTP API, so a real agent client finishes a turn.

The clients are real; the model cannot run here (no network, no weights), so this answers
every request with one short assistant message in the provider's own wire format.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "done"


def _anthropic_events() -> list[tuple[str, dict[str, object]]]:
    message: dict[str, object] = {
        "id": "msg_wb", "type": "message", "role": "assistant", "model": "claude-wb",
        "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 0}}
    return [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": REPLY}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 1}}),
        ("message_stop", {"type": "message_stop"}),
    ]


class _Anthropic(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if not request.get("stream"):
            body = json.dumps({"id": "msg_wb", "type": "message", "role": "assistant",
                               "model": "claude-wb", "stop_reason": "end_turn",
                               "content": [{"type": "text", "text": REPLY}],
                               "usage": {"input_tokens": 1, "output_tokens": 1}}).encode()
            self._send("application/json", body)
            return
        stream = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n"
                         for name, data in _anthropic_events())
        self._send("text/event-stream", stream.encode())

    def _send(self, kind: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _responses_events() -> list[tuple[str, dict[str, object]]]:
    item = {"type": "message", "id": "msg_wb", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": REPLY, "annotations": []}]}
    response = {"id": "resp_wb", "object": "response", "status": "completed", "output": [item],
                "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                          "input_tokens_details": {"cached_tokens": 0},
                          "output_tokens_details": {"reasoning_tokens": 0}}}
    return [
        ("response.created", {"type": "response.created",
                              "response": {**response, "status": "in_progress", "output": []}}),
        ("response.output_item.added", {"type": "response.output_item.added",
                                        "output_index": 0, "item": item}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "item_id": "msg_wb",
                                        "output_index": 0, "content_index": 0, "delta": REPLY}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0,
                                       "item": item}),
        ("response.completed", {"type": "response.completed", "response": response}),
    ]


class _Responses(_Anthropic):
    def do_GET(self) -> None:
        self._send("application/json", json.dumps({"object": "list", "data": []}).encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        stream = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n"
                         for name, data in _responses_events())
        self._send("text/event-stream", stream.encode())


class _Gemini(_Anthropic):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if ":countTokens" in self.path:
            self._send("application/json", b'{"totalTokens": 1}')
            return
        answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": REPLY}]},
                                  "finishReason": "STOP", "index": 0}],
                  "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1,
                                    "totalTokenCount": 2}}
        if ":streamGenerateContent" in self.path:
            self._send("text/event-stream", f"data: {json.dumps(answer)}\r\n\r\n".encode())
        else:
            self._send("application/json", json.dumps(answer).encode())


@contextmanager
def gemini() -> Iterator[str]:
    """Serve the Gemini API (generateContent, streamed or not) on a free loopback port."""
    with _serve(_Gemini) as url:
        yield url


@contextmanager
def anthropic() -> Iterator[str]:
    """Serve the Messages API on a free loopback port; yields its base URL."""
    with _serve(_Anthropic) as url:
        yield url


@contextmanager
def responses() -> Iterator[str]:
    """Serve the Responses API (what Codex CLI speaks) on a free loopback port; yields /v1."""
    with _serve(_Responses) as url:
        yield f"{url}/v1"


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
