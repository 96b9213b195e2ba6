"""healthplug through the official Python MCP SDK (`mcp`, pinned in
requirements.txt): Streamable HTTP against `healthplug serve` with bearer
tokens made by the CLI, and stdio against `healthplug mcp`. Raw HTTP (httpx2,
which the SDK itself uses) for what the SDK hides: status codes and the
`WWW-Authenticate` challenge.

Needs HEALTHPLUG_BIN (the healthplug binary) and HEALTHPLUG_FIXTURES (the
fixture packages, target/wasm/packages/fixtures); run.sh beside this file
sets both.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

DAY_MS = 86_400_000
# Alice's step samples (one and two days ago) and their sum; Bob's canary.
ALICE_SAMPLES = (4111.0, 1234.0)
ALICE_TOTAL = 5345.0
BOB_STEPS = 7222.0
REFUSAL = "Conformance may not read heart-rate: the user has not granted it"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _required_path(var: str) -> Path:
    value = os.environ.get(var)
    if not value:
        pytest.fail(f"{var} is not set: run tests/python/run.sh, or set it by hand", pytrace=False)
    path = Path(value).resolve()
    if not path.exists():
        pytest.fail(f"{var}={value} does not exist", pytrace=False)
    return path


@dataclass
class Home:
    """A healthplug home directory driven through the CLI."""

    bin: Path
    path: Path

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.bin), "--home", str(self.path), *args],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        if done.returncode != 0:
            pytest.fail(f"healthplug {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def token(self, user: str, scope: str | None = None) -> dict:
        args = ["--json", "token", "create", user, "--expires", "1d", "--label", "python-sdk-tests"]
        if scope is not None:
            args += ["--scope", scope]
        created = json.loads(self.cli(*args))
        assert created["secret"].startswith("hp_"), created
        assert created["user"] == user
        return created


class Server:
    """`healthplug serve` on a free loopback port (port 0, read back from its log)."""

    def __init__(self, home: Home, log: Path, *extra: str):
        self.log = log
        self.process = subprocess.Popen(
            [str(home.bin), "--home", str(home.path), "serve", "--listen", "127.0.0.1:0", *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"healthplug serve exited at start:\n{log.read_text()}")
            found = re.search(r"listening addr=127\.0\.0\.1:(\d+)", log.read_text())
            port = found and int(found.group(1))
            time.sleep(0.05)
        if port is None:
            self.stop()
            pytest.fail(f"healthplug serve did not say where it listens:\n{log.read_text()}")
        self.base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"{self.base}/readyz never answered 200:\n{log.read_text()}")

    @property
    def mcp(self) -> str:
        return f"{self.base}/mcp"

    def stop(self) -> int:
        """SIGTERM, then the exit status (killed after 30 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail("healthplug serve outlived SIGTERM by 30 s")
        return self.process.returncode


@dataclass
class World:
    home: Home
    server: Server
    alice: str
    bob: str
    alice_list_only: str


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory):
    """A home with the conformance and probe fixtures; alice granted steps to
    both (and wrote two step samples through the probe), bob granted steps to
    the probe only (and wrote his own canary); a token each, and a list-only
    one of alice's; a server."""
    binary = _required_path("HEALTHPLUG_BIN")
    fixtures = _required_path("HEALTHPLUG_FIXTURES")
    root = tmp_path_factory.mktemp("healthplug")
    home = Home(binary, root / "home")
    for plugin in ("conformance", "probe"):
        home.cli("plugin", "add", str(fixtures / plugin), "--dev")
    for user in ("alice", "bob"):
        home.cli("user", "add", user)
        home.cli("consent", "grant", user, "probe", "--types", "steps", "--write")
    home.cli("consent", "grant", "alice", "conformance", "--types", "steps")
    now = int(time.time() * 1000)

    def write(user: str, values: tuple[float, ...]) -> None:
        samples = [
            {"type": "steps", "start": now - (i + 1) * DAY_MS, "end": now - (i + 1) * DAY_MS + 60_000, "value": v, "unit": "count"}
            for i, v in enumerate(values)
        ]
        out = json.loads(home.cli("--json", "invoke", user, "probe", "write", json.dumps({"samples": samples})))
        assert out["result"]["output"] == {"accepted": len(values), "ok": True}, out

    write("alice", ALICE_SAMPLES)
    write("bob", (BOB_STEPS,))
    server = Server(home, root / "serve.log")
    try:
        yield World(
            home=home,
            server=server,
            alice=home.token("alice")["secret"],
            bob=home.token("bob")["secret"],
            alice_list_only=home.token("alice", scope="tools:list")["secret"],
        )
    finally:
        status = server.stop()
    assert status == 0, f"healthplug serve exited {status} after SIGTERM:\n{server.log.read_text()}"


def http_client(url: str, token: str | None, **kwargs) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)), **kwargs)


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def run(coroutine):
    return asyncio.run(coroutine)


# --- Streamable HTTP, alice's token ---------------------------------------


def test_http_lists_the_tools_of_the_plugins_alice_enabled(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice) as client:
            assert client.protocol_version == "2026-07-28"
            assert client.server_info.name == "healthplug"
            return (await client.list_tools()).tools

    tools = {t.name: t for t in run(go())}
    assert set(tools) == {
        "conformance.broken-output",
        "conformance.heart-rate-peak",
        "conformance.json_schema_2020_12_tool",
        "conformance.steps-total",
        "conformance.test_error_handling",
        "conformance.test_simple_text",
        "probe.aggregate",
        "probe.flood",
        "probe.grants",
        "probe.poll",
        "probe.read",
        "probe.write",
    }
    total = tools["conformance.steps-total"]
    assert "Total steps per day" in total.description
    assert "purpose: Sum steps" in total.description
    assert total.input_schema["type"] == "object"
    assert total.output_schema["required"] == ["days", "steps"]
    assert total.annotations.read_only_hint is True
    assert tools["probe.write"].annotations.read_only_hint is False


def test_http_a_granted_tool_returns_exactly_what_was_written(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice) as client:
            return await client.call_tool("conformance.steps-total", {"days": 7})

    result = run(go())
    assert result.is_error is False, text_of(result)
    assert result.structured_content == {"days": 7, "steps": ALICE_TOTAL}
    assert json.loads(text_of(result)) == {"days": 7, "steps": ALICE_TOTAL}


def test_http_an_ungranted_type_is_a_tool_error(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice) as client:
            return await client.call_tool("conformance.heart-rate-peak", {})

    result = run(go())
    assert result.is_error is True
    assert text_of(result).startswith(REFUSAL), text_of(result)
    assert result.structured_content is None


def test_http_a_revoke_bites_on_the_next_call_of_an_open_session(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice) as client:
            before = await client.call_tool("conformance.steps-total", {"days": 7})
            world.home.cli("consent", "revoke", "alice", "conformance")
            try:
                after = await client.call_tool("conformance.steps-total", {"days": 7})
                listed = [t.name for t in (await client.list_tools()).tools]
            finally:
                world.home.cli("consent", "grant", "alice", "conformance", "--types", "steps")
            again = await client.call_tool("conformance.steps-total", {"days": 7})
            return before, after, listed, again

    before, after, listed, again = run(go())
    assert before.structured_content == {"days": 7, "steps": ALICE_TOTAL}
    assert after.is_error is True, text_of(after)
    assert "Conformance is not enabled for this user" in text_of(after), text_of(after)
    assert "5345" not in text_of(after) and after.structured_content is None
    assert not any(n.startswith("conformance.") for n in listed), listed
    assert again.structured_content == {"days": 7, "steps": ALICE_TOTAL}, "granting again restores access"


def test_http_a_2025_client_with_the_initialize_handshake_is_served(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice, mode="legacy") as client:
            version = client.protocol_version
            names = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("conformance.steps-total", {"days": 7})
            return version, names, result

    version, names, result = run(go())
    assert version == "2025-11-25"
    assert "conformance.steps-total" in names
    assert result.structured_content == {"days": 7, "steps": ALICE_TOTAL}


def test_http_a_plugins_own_endpoint_serves_bare_names(world: World):
    async def go():
        async with http_client(f"{world.server.base}/plugins/conformance/mcp", world.alice) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await client.call_tool("test_simple_text", {})

    names, result = run(go())
    assert "steps-total" in names and "probe.read" not in names and "read" not in names, names
    assert text_of(result) == "This is a simple text response for testing."


# --- The door: 401 and 403 -------------------------------------------------


def test_http_without_a_token_is_401_naming_the_resource_metadata(world: World):
    async def go():
        async with http_client(world.server.mcp, None) as client:
            await client.list_tools()

    with pytest.raises(BaseException) as raised:
        run(go())
    assert any(isinstance(e, MCPError) for e in leaves(raised.value)), raised.value

    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = httpx2.post(world.server.mcp, json=body, headers=MCP_HEADERS)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    metadata_url = f"{world.server.base}/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith(f'Bearer resource_metadata="{metadata_url}"'), challenge
    assert 'scope="tools:list tools:call"' in challenge, challenge
    metadata = httpx2.get(metadata_url).json()
    assert metadata["resource"] == world.server.mcp
    assert metadata["scopes_supported"] == ["tools:list", "tools:call"]

    forged = httpx2.post(world.server.mcp, json=body, headers={**MCP_HEADERS, "Authorization": "Bearer hp_forged"})
    assert forged.status_code == 401
    assert 'error="invalid_token"' in forged.headers["WWW-Authenticate"]


def test_http_a_revoked_token_is_401_at_once(world: World):
    created = world.home.token("alice")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {created['secret']}"}

    async def go():
        async with http_client(world.server.mcp, created["secret"]) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert "conformance.steps-total" in run(go())
    world.home.cli("token", "revoke", created["id"])
    assert httpx2.post(world.server.mcp, json=body, headers=headers).status_code == 401


def test_http_a_list_only_token_is_403_on_tools_call(world: World):
    async def go():
        async with http_client(world.server.mcp, world.alice_list_only) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            try:
                await client.call_tool("conformance.steps-total", {"days": 7})
            except BaseException as error:  # noqa: BLE001 - the SDK wraps it in exception groups
                return names, error
            return names, None

    names, error = run(go())
    assert "conformance.steps-total" in names, "listing is allowed"
    assert error is not None, "tools/call must be refused"
    assert any(isinstance(e, MCPError) for e in leaves(error)), error

    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "conformance.steps-total", "arguments": {}}}
    response = httpx2.post(
        world.server.mcp, json=call, headers={**MCP_HEADERS, "Authorization": f"Bearer {world.alice_list_only}"}
    )
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="tools:call"' in challenge, challenge
    assert "5345" not in response.text


# --- Another user ----------------------------------------------------------


def test_bob_never_sees_alices_tools_or_data(world: World):
    async def go(token: str):
        async with http_client(world.server.mcp, token) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            total = await client.call_tool("conformance.steps-total", {"days": 7})
            read = await client.call_tool("probe.read", {"types": ["steps"], "fields": ["value", "unit"]})
            return names, total, read

    names, total, read = run(go(world.bob))
    assert names == ["probe.aggregate", "probe.flood", "probe.grants", "probe.poll", "probe.read", "probe.write"]
    assert total.is_error is True
    assert text_of(total) == "Conformance is not enabled for this user: they have granted it nothing yet"
    assert read.is_error is False, text_of(read)
    values = [s["value"] for s in read.structured_content["samples"]]
    assert values == [BOB_STEPS], values

    _, _, alices = run(go(world.alice))
    assert sorted(s["value"] for s in alices.structured_content["samples"]) == sorted(ALICE_SAMPLES)


# --- stdio -----------------------------------------------------------------


def stdio(world: World, token: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(world.home.bin),
        args=["--home", str(world.home.path), "mcp"],
        env={"HEALTHPLUG_TOKEN": token, "HEALTHPLUG_LOG": "warn"},
    )


def test_stdio_lists_and_calls_the_granted_tool(world: World):
    async def go():
        async with Client(stdio(world, world.alice)) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await client.call_tool("conformance.steps-total", {"days": 7})

    names, result = run(go())
    assert "conformance.steps-total" in names and "probe.read" in names, names
    assert result.is_error is False, text_of(result)
    assert result.structured_content == {"days": 7, "steps": ALICE_TOTAL}


def test_stdio_a_list_only_token_cannot_call(world: World):
    async def go():
        async with Client(stdio(world, world.alice_list_only)) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            try:
                result = await client.call_tool("conformance.steps-total", {"days": 7})
            except MCPError as error:
                return names, error
            return names, result

    names, outcome = run(go())
    assert "conformance.steps-total" in names
    assert isinstance(outcome, MCPError), outcome
    assert "tools:call" in str(outcome), outcome


# --- SIGTERM -----------------------------------------------------------------


def test_sigterm_stops_the_server_cleanly(world: World, tmp_path: Path):
    server = Server(world.home, tmp_path / "serve.log")
    assert server.stop() == 0
    log = server.log.read_text()
    assert "shutting down" in log and "stopped" in log, log
    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"{server.base}/healthz", timeout=2)
