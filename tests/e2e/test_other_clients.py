"""Other chat clients against a real ``assistant serve --mcp --auth …`` process: the ``mcp`` client lists and calls
the tools ``ask`` and ``search``; the ``openai`` client calls ``/v1/chat/completions`` (plain and streaming). Both
get the citations back, and both are refused without the login."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, served_env, stop, wait_until_listening

pytestmark = [pytest.mark.server]

ASSISTANT = Path(sys.executable).parent / "assistant"
LOGIN = "reader:s3cret-pw"
QUESTION = "Who moderated the discussion between Putin and Tokayev?"  # answered from 002_…
MODERATOR_SOURCE = "002_8786f87fdba344cb.txt"


@pytest.fixture(scope="module")
def server(settings, built_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clients")
    env = served_env(tmp)
    env.update(ASSISTANT_ARTICLES_DIR=str(settings.articles_dir), ASSISTANT_INDEX_DIR=str(settings.index_dir),
               ASSISTANT_AUTH=LOGIN, ASSISTANT_DATA_DIR=str(tmp / "data"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "serve", "--read-only", "--mcp", "--port", str(port)], env=env,
                                cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url + "/", log_path, 300)
        yield url
    finally:
        stop(proc)
        assert LOGIN.split(":")[1] not in log_path.read_text(errors="replace"), "the password reached the log"


def test_openai_client_gets_the_answer_with_markers_and_its_citations(server):
    from openai import AuthenticationError, OpenAI

    client = OpenAI(base_url=server + "/v1", api_key=LOGIN, max_retries=0)
    assert [m.id for m in client.models.list()] == ["article-assistant"]
    reply = client.chat.completions.create(model="article-assistant", messages=[{"role": "user", "content": QUESTION}])
    text = reply.choices[0].message.content or ""
    citations = reply.model_extra["citations"]
    assert "[1]" in text and citations, (text, citations)
    assert citations[0]["n"] == 1 and citations[0]["source"] == MODERATOR_SOURCE and citations[0]["quote"]
    assert reply.model_extra["passages"] and reply.choices[0].finish_reason == "stop"
    # streaming: the text arrives in chunks, the last chunk carries the citations
    stream = client.chat.completions.create(model="article-assistant", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert [c["source"] for c in chunks[-1].model_extra["citations"]] == [c["source"] for c in citations]
    # a follow-up carries the conversation so far
    follow = client.chat.completions.create(model="article-assistant", messages=[
        {"role": "user", "content": QUESTION}, {"role": "assistant", "content": text},
        {"role": "user", "content": "Where did they meet?"}])
    assert follow.choices[0].message.content
    # the login applies: no key, a wrong key
    for key in ("", "reader:wrong"):
        with pytest.raises(AuthenticationError):
            OpenAI(base_url=server + "/v1", api_key=key or "x", max_retries=0).chat.completions.create(
                model="article-assistant", messages=[{"role": "user", "content": QUESTION}])
    bad = httpx.post(server + "/v1/chat/completions", json={"messages": []},
                     headers={"Authorization": f"Bearer {LOGIN}"})
    assert bad.status_code == 400 and "messages" in bad.json()["error"]["message"]


def test_mcp_client_lists_and_calls_ask_and_search(server):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def session_calls(headers: dict[str, str]) -> tuple[list[str], dict, dict]:
        async with streamablehttp_client(server + "/gradio_api/mcp/", headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = sorted(t.name for t in (await session.list_tools()).tools)
                asked = await session.call_tool("ask", {"question": QUESTION})
                found = await session.call_tool("search", {"query": "Putin Tokayev moderator", "top_k": 3})
                assert not asked.isError and not found.isError
                return tools, json.loads(asked.content[0].text), json.loads(found.content[0].text)

    tools, asked, found = asyncio.run(session_calls({"Authorization": f"Bearer {LOGIN}"}))
    assert tools == ["ask", "search"], tools  # the UI's own endpoints are not tools
    assert "[1]" in asked["answer"] and asked["citations"][0]["source"] == MODERATOR_SOURCE
    assert asked["citations"][0]["quote"] and not asked["abstained"]
    assert 1 <= len(found["passages"]) <= 3 and found["passages"][0]["text"]
    # without the login the MCP endpoint answers 401
    started = time.monotonic()
    plain = httpx.post(server + "/gradio_api/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                       headers={"Accept": "application/json, text/event-stream"})
    assert plain.status_code == 401 and time.monotonic() - started < 10


def test_the_ask_api_still_works_beside_the_mcp_server(server):
    from gradio_client import Client

    client = Client(server + "/", auth=tuple(LOGIN.split(":")), verbose=False, download_files=False)
    assert client.predict(QUESTION, api_name="/ask")["citations"]
