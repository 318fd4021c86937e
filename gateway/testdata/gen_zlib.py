#!/usr/bin/env python3
"""Generate the zlib-stream fixtures from C zlib (Python's zlib module).

Run once from this directory; the outputs are checked in, CI does not run
Python. session.jsonl holds one gateway message per line (the plain JSON);
session.zlib<level>.bin holds the same messages compressed as Discord does
(one zlib stream for the connection, Z_SYNC_FLUSH after each message), each
as a 4-byte big-endian length followed by that many bytes.
"""
import json
import random
import struct
import zlib

rnd = random.Random(6)


def snowflake():
    return str(rnd.randrange(1 << 40, 1 << 62))


def words(n):
    vocab = ["gateway", "shard", "resume", "heartbeat", "guild", "member",
             "emoji", "café", "naïve", "日本語", "\"quoted\"", "back\\slash",
             "line\nbreak", "tab\tchar", "🎉", "ok"]
    return " ".join(rnd.choice(vocab) for _ in range(n))


def member():
    return {"user": {"id": snowflake(), "username": words(1), "global_name": words(2),
                     "avatar": None, "bot": rnd.random() < 0.1},
            "roles": [snowflake() for _ in range(rnd.randrange(4))],
            "joined_at": "2024-05-01T12:00:00.000000+00:00", "deaf": False, "mute": False}


def dispatch(seq, name, d):
    # Discord's key order: t, s, op, d.
    return '{"t":%s,"s":%d,"op":0,"d":%s}' % (json.dumps(name), seq, json.dumps(d, ensure_ascii=False, separators=(",", ":")))


def control(op, d):
    return '{"t":null,"s":null,"op":%d,"d":%s}' % (op, json.dumps(d, separators=(",", ":")))


msgs = [control(10, {"heartbeat_interval": 41250, "_trace": ["[\"gateway-prd\"]"]})]
seq = 1
msgs.append(dispatch(seq, "READY", {"v": 10, "session_id": "9a1f2c3d4e5f", "resume_gateway_url": "wss://gateway-us-east1-b.discord.gg",
                                    "user": {"id": snowflake(), "username": "ipcord", "bot": True},
                                    "guilds": [{"id": snowflake(), "unavailable": True} for _ in range(3)],
                                    "shard": [0, 1], "application": {"id": snowflake(), "flags": 0}}))
for g in range(3):
    seq += 1
    msgs.append(dispatch(seq, "GUILD_CREATE", {"id": snowflake(), "name": words(3),
                                               "members": [member() for _ in range(150 + 100 * g)],
                                               "channels": [{"id": snowflake(), "name": words(2), "type": 0} for _ in range(40)]}))
msgs.append(control(11, None))
for i in range(40):
    seq += 1
    msgs.append(dispatch(seq, "MESSAGE_CREATE", {"id": snowflake(), "channel_id": snowflake(), "content": words(rnd.randrange(1, 60)),
                                                 "author": member()["user"], "embeds": [], "mentions": []}))
    if i % 10 == 9:
        msgs.append(control(1, None))
        msgs.append(control(11, None))
# d first: the fallback path.
seq += 1
msgs.append('{"d":{"user_id":"%s","channel_id":"%s"},"op":0,"s":%d,"t":"TYPING_START"}' % (snowflake(), snowflake(), seq))
seq += 1
msgs.append(' { "t" : "PRESENCE_UPDATE" , "s" : %d , "op" : 0 , "d" : {"status":"idle"} } ' % seq)
msgs.append(control(7, None))

with open("session.jsonl", "w", encoding="utf-8") as f:
    for m in msgs:
        assert "\n" not in m
        json.loads(m)
        f.write(m + "\n")

for level in (0, 1, 6, 9):
    c = zlib.compressobj(level)
    with open("session.zlib%d.bin" % level, "wb") as f:
        for m in msgs:
            out = c.compress(m.encode("utf-8")) + c.flush(zlib.Z_SYNC_FLUSH)
            assert out.endswith(b"\x00\x00\xff\xff")
            f.write(struct.pack(">I", len(out)) + out)
