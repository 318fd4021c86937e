"""Record the real Python IPC libraries talking to each other, and check
ipc's golden transcripts (testdata/{extipc,betteripc,zonis}/*.txt) against
what they really send. See testdata/README.md for the commands.

    record.py DIALECT LIBDIR [--check GOLDEN_DIR]

DIALECT is extipc, betteripc or zonis; LIBDIR is the library's unpacked
source (the directory holding discord/ or zonis/). The real server and the
real client of that library run in this process, with a relay between them
that prints every text message as a transcript line ("> " from the client,
"< " from the server). With --check, each recorded request is looked up
among the goldens' "> " lines and its reply compared with the golden's
"< " line; differences are printed, and the exit status is 1 if any is not
a deliberate difference (DELIBERATE below, each with its reason).

It needs Debian's python3-websockets, python3-aiohttp and python3-discord,
and nothing of ipcord: it checks the goldens, not ipcord.
"""

import asyncio
import importlib
import json
import os
import sys
import types

import websockets

SECRET = "s3cret"

# Where ipcord's server answers differently from the Python server on
# purpose: (dialect, route) -> why. The golden holds ipcord's answer.
DELIBERATE = {
    ("extipc", "fail"): "ipcord names the error code CamelCased where Python names the exception's type: a Go error has none",
    ("betteripc", "count"): "better-ipc's server refuses a non-dict, non-string result (500); ipcord encodes any JSON value",
    ("betteripc", "fail"): "better-ipc's server puts the exception text in error_details; ipcord sends its error code, never the text",
    ("betteripc", "coded"): "as fail",
    ("betteripc", "nope"): "better-ipc's 404 also dispatches ipc_error; the frame is the same, but the recorder compares frames only",
    ("betteripc", "floats"): "better-ipc's server refuses a list result (500); ipcord encodes any JSON value",
    ("betteripc", "whole"): "a Python route accepts any value; ipcord's typed route refuses a NaN for an int (bad_request)",
    ("extipc", "whole"): "as betteripc/whole",
    ("zonis", "whole"): "as betteripc/whole",
    ("zonis", "coded"): "ipcord's FAILURE_RESPONSE says '<code>: <message>'; a raising Zonis route sends no reply at all",
    ("zonis", "fail"): "as zonis/coded",
}


class Relay:
    """A WebSocket relay between a client and its server, printing each
    text message as a transcript line."""

    def __init__(self, upstream, headers=()):
        self.upstream = upstream
        self.headers = headers
        self.lines = []

    async def handle(self, client):
        extra = {h: client.request_headers[h] for h in self.headers if h in client.request_headers}
        async with websockets.connect(self.upstream, extra_headers=extra, compression=None, ping_interval=None) as server:
            async def pump(src, dst, mark):
                try:
                    async for msg in src:
                        self.lines.append(mark + " " + msg)
                        await dst.send(msg)
                except websockets.ConnectionClosed:
                    pass
                await dst.close()

            await asyncio.gather(pump(client, server, ">"), pump(server, client, "<"))

    async def start(self):
        self.server = await websockets.serve(self.handle, "127.0.0.1", 0, compression=None, ping_interval=None)
        return self.server.sockets[0].getsockname()[1]


def load_discord_ext(libdir, name):
    """Import discord.ext.<name> from libdir, beside Debian's discord.py."""
    import discord.ext

    discord.ext.__path__.append(os.path.join(libdir, "discord", "ext"))
    return importlib.import_module("discord.ext." + name)


class FakeBot:
    """What the ext-ipc and better-ipc servers need of a discord Bot."""

    def __init__(self, loop):
        self.loop = loop
        self.cogs = {}

    def dispatch(self, *args):
        pass


# The calls each scenario makes: (route, kwargs). They are the "> " lines
# of the goldens that a real client can send.
CALLS = [
    ("echo", {"guild_id": 1}),
    ("hello", {}),
    ("get stats", {}),
    ("guilds/count", {}),
    ("статистика", {}),
    ("nope", {}),
    ("fail", {}),
    ("floats", {"x": float("nan"), "y": float("inf"), "z": float("-inf"), "a": [1, float("nan")]}),
    ("echo", {"x": float("nan"), "y": float("inf"), "z": float("-inf"), "a": [1, float("nan")]}),
]


def routes():
    """The routes of ipc's dialectRouter, as Python functions of kwargs."""
    def fmt(x):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}.get(repr(x), repr(x))

    return {
        "echo": lambda kw: kw,
        "hello": lambda kw: "hi",
        "get stats": lambda kw: "get stats",
        "guilds/count": lambda kw: "guilds/count",
        "статистика": lambda kw: "статистика",
        "fail": lambda kw: (_ for _ in ()).throw(RuntimeError("boom: secret internals")),
        "floats": lambda kw: [fmt(kw["x"]), fmt(kw["y"]), fmt(kw["z"]), "[1 NaN]"],
    }


async def record_extipc(libdir):
    ipc = load_discord_ext(libdir, "ipc")
    loop = asyncio.get_running_loop()
    server = ipc.Server.__new__(ipc.Server)
    ipc.Server.__init__(server, FakeBot(loop), host="127.0.0.1", port=0, secret_key=SECRET, do_multicast=False)
    for name, f in routes().items():
        async def route(data, f=f):
            return f(data.to_json()["data"])
        server.endpoints[name] = route
    import aiohttp.web

    app = aiohttp.web.Application()
    app.router.add_route("GET", "/", server.handle_accept)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    relay = Relay(f"ws://127.0.0.1:{port}/")
    client = ipc.Client(host="127.0.0.1", port=await relay.start(), secret_key=SECRET)
    for route, kwargs in CALLS:
        await client.request(route, **kwargs)
    await client.session.close()
    await runner.cleanup()
    return relay.lines


async def record_betteripc(libdir):
    ipc = load_discord_ext(libdir, "ipc")
    loop = asyncio.get_running_loop()
    server = ipc.Server(FakeBot(loop), host="127.0.0.1", secret_key=SECRET, standard_port=0, do_multicast=False)
    for name, f in routes().items():
        async def route(cls, data, f=f):
            return f(data.raw.get("kwargs") or {})
        ipc.Server.route(name)(route)
    await server.start()
    port = server.servers["standard"].sockets[0].getsockname()[1]
    relay = Relay(f"ws://127.0.0.1:{port}/", headers=("ID",))
    client = ipc.Client(host="127.0.0.1", secret_key=SECRET, standard_port=await relay.start(), do_multicast=False)
    for route, kwargs in CALLS:
        await client.request(route, **kwargs)
    await client.connection.close()
    await server.stop()
    return relay.lines


class WebsocketsAsFastAPI:
    """Zonis's server drives FastAPI's WebSocket; this is websockets' under
    the same three methods."""

    def __init__(self, ws):
        self.ws = ws

    async def send_text(self, text):
        await self.ws.send(text)

    async def receive_text(self):
        return await self.ws.recv()

    async def close(self, code=1000, reason=""):
        await self.ws.close(code, reason)


async def record_zonis(libdir):
    sys.path.insert(0, libdir)
    import zonis

    server = zonis.Server(using_fastapi_websockets=True, secret_key=SECRET)
    for name, f in routes().items():
        async def route(f=f, **kw):
            return f(kw)
        server.add_route(route_name=name, callback=route)

    async def accept(ws):
        adapted = WebsocketsAsFastAPI(ws)
        first = json.loads(await ws.recv())
        try:
            await server.parse_identify(first, adapted)
        except zonis.BaseZonisException:
            return
        await ws.wait_closed()

    srv = await websockets.serve(accept, "127.0.0.1", 0, ping_interval=None)
    port = srv.sockets[0].getsockname()[1]
    relay = Relay(f"ws://127.0.0.1:{port}")
    client = zonis.Client(url=f"ws://127.0.0.1:{await relay.start()}", identifier="DEFAULT", secret_key=SECRET)

    @client.route("ping")
    async def ping():
        return "pong"

    @client.route("ratio")
    async def ratio():
        return {"ratio": float("nan"), "max": float("inf")}

    await client.start()
    for route, kwargs in CALLS:
        if route in ("fail",):
            continue  # a raising Zonis route never answers: the call would wait for ever
        try:
            await asyncio.wait_for(client.request(route, **kwargs), 5)
        except zonis.BaseZonisException:
            pass  # a FAILURE_RESPONSE
    await server.request("ping", client_identifier="DEFAULT")
    await server.request("ratio", client_identifier="DEFAULT")
    await client.close()
    srv.close()
    return relay.lines


def golden_lines(golden_dir):
    """Every "> " line of the goldens with the "< " line after it (or None)."""
    out = []
    for name in sorted(os.listdir(golden_dir)):
        if not name.endswith(".txt"):
            continue
        lines = [l.strip() for l in open(os.path.join(golden_dir, name), encoding="utf-8")]
        lines = [l for l in lines if l and not l.startswith("#")]
        for i, l in enumerate(lines):
            if l.startswith("> "):
                reply = lines[i + 1][2:] if i + 1 < len(lines) and lines[i + 1].startswith("< ") else None
                out.append((name, l[2:], reply))
    return out


def same(golden, real, binds):
    """Compares JSON values; a golden string "$name" matches anything."""
    if isinstance(golden, str) and golden.startswith("$"):
        return binds.setdefault(golden, real) == real
    if isinstance(golden, dict):
        return isinstance(real, dict) and golden.keys() == real.keys() and all(same(golden[k], real[k], binds) for k in golden)
    if isinstance(golden, list):
        return isinstance(real, list) and len(golden) == len(real) and all(same(g, r, binds) for g, r in zip(golden, real))
    if isinstance(golden, float) and golden != golden:
        return isinstance(real, float) and real != real
    return golden == real


def route_of(dialect, frame):
    d = frame.get("data", {})
    if dialect == "zonis":
        return (d.get("data") or {}).get("route") if isinstance(d.get("data"), dict) else None
    return frame.get("endpoint")


def anonymous(frame):
    """A Zonis frame with its random packet_id left out of the comparison."""
    if isinstance(frame, dict) and "packet_id" in frame:
        return dict(frame, packet_id="*")
    return frame


def check(dialect, lines, golden_dir):
    goldens = golden_lines(golden_dir)
    failed = False
    pending = {}
    replies = []
    for l in lines:
        frame = json.loads(l[2:])
        if l.startswith(">"):
            pending[frame.get("packet_id")] = frame
            replies.append([frame, None])
        else:
            for r in replies:
                if r[1] is None and (dialect != "zonis" or r[0].get("packet_id") == frame.get("packet_id")):
                    r[1] = frame
                    break
    for req, reply in replies:
        route = route_of(dialect, req)
        match = None
        for name, g_req, g_reply in goldens:
            g = json.loads(g_req)
            if same(anonymous(g), anonymous(req), {}):
                match = (name, g_reply)
                break
        if match is None:
            print(f"NEW   {dialect} {route!r}: no golden has this request: {json.dumps(req, ensure_ascii=False)}")
            continue
        name, g_reply = match
        if g_reply is None or reply is None:
            continue
        if same(anonymous(json.loads(g_reply)), anonymous(reply), {}):
            print(f"SAME  {dialect}/{name} {route!r}")
        elif (dialect, route) in DELIBERATE:
            print(f"KEPT  {dialect}/{name} {route!r}: {DELIBERATE[(dialect, route)]}\n      golden {g_reply}\n      real   {json.dumps(reply, ensure_ascii=False)}")
        else:
            failed = True
            print(f"DIFF  {dialect}/{name} {route!r}\n      golden {g_reply}\n      real   {json.dumps(reply, ensure_ascii=False)}")
    return failed


def main():
    import logging

    logging.getLogger("websockets").setLevel(logging.CRITICAL)  # teardown noise
    if len(sys.argv) < 3 or sys.argv[1] not in ("extipc", "betteripc", "zonis"):
        sys.exit(__doc__)
    dialect, libdir = sys.argv[1], os.path.abspath(sys.argv[2])
    lines = asyncio.run({"extipc": record_extipc, "betteripc": record_betteripc, "zonis": record_zonis}[dialect](libdir))
    if "--check" in sys.argv:
        sys.exit(1 if check(dialect, lines, sys.argv[sys.argv.index("--check") + 1]) else 0)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
