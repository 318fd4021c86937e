"""A discord.py bot the e2e tests run against `ipcord fake`.

It reports what discord.py parsed (one JSON object per line, as
internal/report), sends "!say TEXT" back with channel.send, and answers
the /ping command with interaction.response.send_message. discord.py
always connects with compress=zlib-stream. It runs Debian's
python3-discord unmodified; its two settings for where Discord is, the
API base and the default gateway (2.2 does not ask GET /gateway), are
pointed at the fake.
"""
import json
import logging
import os
import signal
import sys
import urllib.request

import discord
import yarl

FAKE = os.environ["IPCORD_FAKE"]
discord.http.Route.BASE = FAKE + "/api/v10"
with urllib.request.urlopen(FAKE + "/api/v10/gateway") as resp:
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(json.load(resp)["url"] + "/")


def emit(ev, **fields):
    sys.stdout.write(json.dumps({"ev": ev, **fields}) + "\n")
    sys.stdout.flush()


intents = discord.Intents.default()
intents.members = True
intents.message_content = True
# A zombied connection (no heartbeat ACK, nothing read) is noticed after
# heartbeat_timeout; it must outlast the 5 s discord.py sleeps before a
# second IDENTIFY, during which it reads nothing.
client = discord.Client(intents=intents, heartbeat_timeout=8.0)


@client.event
async def on_ready():
    guilds = [
        {"id": str(g.id), "name": g.name, "channels": len(g.channels), "members": len(g.members)}
        for g in client.guilds
    ]
    emit("ready", user_id=str(client.user.id), guilds=guilds)


@client.event
async def on_message(m):
    emit("message", id=str(m.id), channel_id=str(m.channel.id),
         guild_id=str(m.guild.id) if m.guild else "", author_id=str(m.author.id), content=m.content)
    if m.content.startswith("!say ") and not m.author.bot:
        try:
            sent = await m.channel.send(m.content[5:])
            emit("sent", id=str(sent.id))
        except Exception as err:  # reported to the test, which fails on it
            emit("sent", id="", err=repr(err))


@client.event
async def on_interaction(i):
    if i.type != discord.InteractionType.application_command:
        return
    emit("interaction", id=str(i.id), name=i.data.get("name", ""))
    try:
        await i.response.send_message("pong")
        emit("replied", id=str(i.id))
    except Exception as err:
        emit("replied", id=str(i.id), err=repr(err))


def main():
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    client.run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
