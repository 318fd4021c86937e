"""A gateway client that reads zstd-stream with libzstd, for the e2e tests.

No Discord library this module pins offers zstd-stream, so this script
reads it the way a Python client does: aiohttp's WebSocket (discord.py's),
one zstandard decompressobj (Debian's python3-zstandard, the libzstd
binding) for the connection, fed each binary message as it arrives; each
message must decode to one whole JSON payload on its own. It identifies
and prints each payload as a JSON line {"op", "s", "t", "d"}, until
stdin closes.
"""
import asyncio
import json
import os
import sys

import aiohttp
import zstandard


def emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n")
    sys.stdout.flush()


async def main():
    fake = os.environ["IPCORD_FAKE"]
    async with aiohttp.ClientSession() as http:
        async with http.get(fake + "/api/v10/gateway") as resp:
            url = (await resp.json())["url"]
        dobj = zstandard.ZstdDecompressor().decompressobj()
        async with http.ws_connect(url + "/?v=10&encoding=json&compress=zstd-stream") as ws:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    emit({"error": "not a binary message: %s" % msg.type})
                    return
                text = dobj.decompress(msg.data)
                try:
                    p = json.loads(text)
                except ValueError as e:
                    emit({"error": "message did not decode alone: %s: %r" % (e, text[:80])})
                    return
                emit({"op": p["op"], "s": p.get("s"), "t": p.get("t"), "d": p.get("d")})
                if p["op"] == 10:
                    await ws.send_str(json.dumps({"op": 2, "d": {
                        "token": os.environ["DISCORD_TOKEN"], "intents": 513,
                        "properties": {"os": "linux", "browser": "e2e", "device": "e2e"}}}))


asyncio.run(main())
