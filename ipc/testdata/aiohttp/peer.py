"""A peer built on the real aiohttp, for ipc's aiohttp tests (aiohttp_test.go).

discord-ext-ipc and discord-ext-ipcx are thin layers over aiohttp's
WebSocket client and server; what this file checks is aiohttp's own
behaviour underneath them, left at aiohttp's defaults wherever the libraries
leave it there: its permessage-deflate offer and answer, its 4 MiB message
limit, its ping and close handling, and json.dumps's NaN and Infinity.

    peer.py client URL SECRET   connect to an ipcord server as an ext-ipc
                                client with compress=15 (aiohttp's offer),
                                print one JSON line of what happened
    peer.py server [HEARTBEAT]  serve ext-ipc-shaped routes on 127.0.0.1:0
                                with web.WebSocketResponse()'s defaults;
                                print {"port": N} and serve until stdin closes

It uses only aiohttp and the standard library (Debian's python3-aiohttp).
"""

import asyncio
import json
import sys

import aiohttp
from aiohttp import web


async def client(url, secret):
    out = {"aiohttp": aiohttp.__version__}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, compress=15) as ws:
            out["offered"] = "permessage-deflate; client_max_window_bits"
            out["answer"] = ws._response.headers.get("Sec-WebSocket-Extensions", "")
            out["compress"] = ws.compress
            headers = {"Authorization": secret}
            await ws.send_json({"endpoint": "big", "data": {}, "headers": headers})
            big = await ws.receive_json()
            out["big_items"] = len(big)
            # json.dumps writes NaN and the infinities as bare tokens.
            await ws.send_json({"endpoint": "floats", "data": {"x": float("nan"), "y": float("inf"), "z": float("-inf"), "a": [1]}, "headers": headers})
            out["floats"] = await ws.receive_json()
            # A route echoing its args sends them back as they came.
            await ws.send_json({"endpoint": "echo", "data": {"x": float("nan"), "y": [float("inf"), float("-inf")]}, "headers": headers})
            echoed = await ws.receive_json()
            out["nan_echo"] = [repr(echoed.get("x")), [repr(v) for v in echoed.get("y", [])]] if isinstance(echoed, dict) else echoed
            # A large request goes out compressed (aiohttp compresses every
            # message once negotiated) and comes back whole.
            payload = "guild member " * ((256 << 10) // 13)
            await ws.send_json({"endpoint": "echo", "data": {"p": payload}, "headers": headers})
            echo = await ws.receive_json()
            out["echo_ok"] = echo == {"p": payload}
            await ws.close()
            out["close_code"] = ws.close_code
    print(json.dumps(out), flush=True)


class Server:
    def __init__(self, heartbeat):
        self.heartbeat = heartbeat
        self.log = {"offers": [], "compress": [], "ended": [], "connections": 0}

    async def handle(self, request):
        ws = web.WebSocketResponse(heartbeat=self.heartbeat)
        await ws.prepare(request)
        self.log["connections"] += 1
        self.log["offers"].append(request.headers.get("Sec-WebSocket-Extensions", ""))
        self.log["compress"].append(ws.compress)
        first = None
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            req = json.loads(msg.data)
            endpoint = req.get("endpoint")
            first = first or endpoint
            if endpoint == "echo":
                await ws.send_json(req.get("data"))
            elif endpoint == "big":
                await ws.send_json(["guild member " * 8] * 8000)
            elif endpoint == "size":
                await ws.send_json({"len": len(msg.data)})
            elif endpoint == "nan":
                await ws.send_json({"ratio": float("nan"), "max": float("inf"), "min": float("-inf")})
            elif endpoint == "ipcx":
                # discord-ext-ipcx's server answers one request and closes.
                await ws.send_json("ok")
                await ws.close()
            elif endpoint == "log":
                await ws.send_json(self.log)
            else:
                await ws.send_json({"error": "Invalid or no endpoint given.", "code": 400})
        # What ended the connection: the peer's close code, or aiohttp's
        # own (1009 for a message over max_msg_size, 1006 for a heartbeat
        # that got no pong).
        self.log["ended"].append({"first": first, "close": ws.close_code})
        return ws


async def server(heartbeat):
    srv = Server(heartbeat)
    app = web.Application()
    app.router.add_get("/", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "aiohttp": aiohttp.__version__}), flush=True)
    # Serve until the test closes our stdin (or goes away).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) >= 2 and sys.argv[1] == "server":
        heartbeat = float(sys.argv[2]) if len(sys.argv) > 2 else None
        asyncio.run(server(heartbeat))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
