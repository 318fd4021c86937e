#!/usr/bin/env python3
"""Write the checked-in seed corpora under fuzz/ (run from testdata/).

Seeds come from the recorded session (session.jsonl, session.zlib*.bin) and
from the zstd command-line tool; `go test` runs them on every CI run.
"""
import os
import struct
import subprocess
import zlib


def goquote(b):
    out = []
    for c in b:
        if c == 0x22:
            out.append('\\"')
        elif c == 0x5c:
            out.append('\\\\')
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append('\\x%02x' % c)
    return '"' + ''.join(out) + '"'


def write(target, name, data):
    d = os.path.join("fuzz", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        f.write("go test fuzz v1\n[]byte(%s)\n" % goquote(data))


def records(path):
    b = open(path, "rb").read()
    recs = []
    while b:
        n = struct.unpack(">I", b[:4])[0]
        recs.append(b[4:4 + n])
        b = b[4 + n:]
    return recs


def wsframe(op, payload):
    n = len(payload)
    if n < 126:
        h = bytes([0x80 | op, n])
    elif n < 65536:
        h = bytes([0x80 | op, 126]) + struct.pack(">H", n)
    else:
        h = bytes([0x80 | op, 127]) + struct.pack(">Q", n)
    return h + payload


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout


msgs = [l.rstrip(b"\n") for l in open("session.jsonl", "rb")]
small = [m for m in msgs if len(m) < 600]

# FuzzEnvelope: real messages, the d-first and spaced ones, and edge cases.
for i, m in enumerate(small[:6] + small[-4:]):
    write("FuzzEnvelope", "session%02d" % i, m)
for i, m in enumerate([b'{"t":"A\\u0042","s":1,"op":0,"d":1}', b'{"t":null,"s":null,"op":11,"d":null}',
                       b'{"t":"X","s":0012,"op":0,"d":{}}', b'{"t":"X","s":1,"op":0,"d": }',
                       b'{"op":0,"t":"X","s":1,"d":[1,{"a":"}"}]}', b'{"t":"X","s":1,"op":0,"d":{}}x',
                       b'{"t":"X","s":1,"op":0,"d":{},"e":1}']):
    write("FuzzEnvelope", "edge%02d" % i, m)

# FuzzZlibInflate: the start of each recorded stream.
for level in (0, 1, 6, 9):
    recs = records("session.zlib%d.bin" % level)
    write("FuzzZlibInflate", "level%d" % level, b"".join(r for r in recs if len(r) < 2000)[:4000])
c = zlib.compressobj(9)
write("FuzzZlibInflate", "repeat", c.compress(b"ab" * 500) + c.flush(zlib.Z_SYNC_FLUSH) + c.compress(b"ab" * 500) + c.flush(zlib.Z_SYNC_FLUSH))

# FuzzZstdInflate: byte 0 is the cut point.
write("FuzzZstdInflate", "two-frames", b"\x80" + zstd(small[0]) + zstd(small[1]))
write("FuzzZstdInflate", "one-frame", b"\x00" + zstd(b"".join(small[:5])))
write("FuzzZstdInflate", "empty", b"\x10")

# FuzzConn: byte 0 picks compression (mod 3) and split size (>>2).
plain = b"".join(wsframe(1, m) for m in small[:8])
plain += wsframe(9, b"ping") + wsframe(8, struct.pack(">H", 4000) + b"bye")
write("FuzzConn", "none", bytes([0x00]) + plain)
write("FuzzConn", "none-bytewise", bytes([0x03]) + plain)
zrecs = records("session.zlib6.bin")
write("FuzzConn", "zlib", bytes([0x01]) + b"".join(wsframe(2, r) for r in zrecs[:2]))
write("FuzzConn", "zstd", bytes([0x02 | 0x40]) + wsframe(2, zstd(small[0])))
write("FuzzConn", "masked", bytes([0x00]) + bytes([0x81, 0x82, 1, 2, 3, 4, 0x7a, 0x7f]))

# FuzzDispatchDecode: d of real dispatches, and values the discord types refuse.
import json
i = 0
for m in msgs:
    d = json.loads(m)
    if d.get("t") in ("MESSAGE_CREATE", "GUILD_CREATE") and len(m) < 3000:
        write("FuzzDispatchDecode", "dispatch%02d" % i, json.dumps(d["d"], ensure_ascii=False).encode())
        i += 1
    if i >= 4:
        break
for j, s in enumerate([b'{"id":"12","roles":["1",2],"joined_at":"2024-05-01T12:00:00Z"}', b'{"id":"x"}',
                       b'{"timestamp":"not a time"}', b'null', b'[]', b'{"author":{"id":18446744073709551616}}']):
    write("FuzzDispatchDecode", "edge%02d" % j, s)
