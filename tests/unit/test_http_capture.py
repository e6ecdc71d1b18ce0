"""vcrpy's patches are installed once and handed from cassette to cassette while they
linger; without lingering, or once released, the HTTP clients are their own again."""

from __future__ import annotations

import httpx
import pytest
from fake_server import running_fake_server

from pyagent_trace.exceptions import ConfigError
from pyagent_trace.http import HttpCassette
from pyagent_trace.http._capture import CAPTURE

ORIGINAL = httpx.HTTPTransport.handle_request


@pytest.fixture(autouse=True)
def fresh_capture():
    CAPTURE.release()
    CAPTURE.linger = False
    yield
    CAPTURE.linger = False
    CAPTURE.release()


def test_without_linger_each_cassette_installs_and_removes_the_patches():
    before = CAPTURE.installs
    for _ in range(3):
        with HttpCassette([], mode="none"):
            assert httpx.HTTPTransport.handle_request is not ORIGINAL
        assert httpx.HTTPTransport.handle_request is ORIGINAL
    assert CAPTURE.installs - before == 3


def test_lingering_patches_are_installed_once_for_consecutive_cassettes_then_released():
    CAPTURE.linger = True
    before = CAPTURE.installs
    for _ in range(3):
        with HttpCassette([], mode="none"):
            pass
    assert CAPTURE.installs - before == 1
    assert httpx.HTTPTransport.handle_request is not ORIGINAL

    CAPTURE.release()

    assert httpx.HTTPTransport.handle_request is ORIGINAL


def test_with_no_cassette_attached_lingering_patches_let_requests_through_unrecorded(fake_server_url):
    CAPTURE.linger = True
    with HttpCassette([], mode="all") as http:
        pass
    with httpx.Client() as client:
        reply = client.post(f"{fake_server_url}/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": []})
    assert reply.status_code == 200
    assert http.recorded == []


def test_two_cassettes_cannot_be_attached_at_once():
    with HttpCassette([], mode="none", source="a.jsonl"), pytest.raises(ConfigError, match="already attached to a"):
        HttpCassette([], mode="none", source="b.jsonl").__enter__()


@pytest.fixture
def fake_server_url():
    for server in running_fake_server():
        yield server.url
