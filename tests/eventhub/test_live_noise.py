"""Malformed Socket.IO traffic: a clean error in the ack, one log line, the socket lives on."""

from __future__ import annotations

import json
import logging

import live_support
import pytest
import websocket

app_config, live_server = live_support.app_config, live_support.live_server


@pytest.fixture
def raw(live_server, create_event):
    """A raw websocket on /live (engine.io v4 framing by hand), connected to the namespace."""
    event = create_event()
    url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, origin=live_server.url, timeout=5)
    assert ws.recv().startswith("0{")
    ws.send("40/live,")
    assert ws.recv().startswith("40/live,")
    yield ws, event.id
    ws.close(timeout=0.05)


def ack(ws, frame: str, ack_id: int):
    ws.send(frame)
    while True:
        message = ws.recv()
        if message == "2":  # engine.io ping
            ws.send("3")
            continue
        prefix = f"43/live,{ack_id}"
        if message.startswith(prefix):
            return json.loads(message[len(prefix):])[0]


@pytest.mark.parametrize("frame", [
    '42/live,7["subscribe",{"event_id":1},"extra"]',
    '42/live,7["session.switch",{"session_id":1,"mode":"online"},1,2]',
    '42/live,7[1,2]',
])
def test_wrong_arguments_are_a_bad_request_in_the_ack(raw, frame, caplog):
    ws, _ = raw
    answer = ack(ws, frame, 7)
    assert answer["error"]["code"] == "bad_request"
    assert not [r for r in caplog.records if r.exc_info]


def test_garbage_frames_log_one_line_each_and_the_socket_lives_on(raw, caplog):
    ws, event_id = raw
    garbage = ['42/live,1["subscribe"', "42/live,{bad", "4z", "49", '42/live,[' * 50]
    with caplog.at_level(logging.INFO):
        for frame in garbage:
            ws.send(frame)
        answer = ack(ws, json.dumps({"event_id": event_id}).join(['42/live,9["subscribe",',
                                                                    "]"]), 9)
    assert answer["ok"] is True  # still connected and served
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    dropped = [r for r in caplog.records if "malformed Socket.IO frame" in r.getMessage()]
    assert 1 <= len(dropped) <= len(garbage)
    assert all("\n" not in r.getMessage() for r in dropped)
