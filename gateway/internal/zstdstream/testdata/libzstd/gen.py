# Writes zstd-streams (each message's length and SHA-256, then its bytes) made by libzstd (python3-zstandard): one frame per
# stream, a block flush after each message, as Discord's zstd-stream.
import hashlib, random, struct, sys, zstandard

def messages(r):
    words = ['{"id":"', '","name":"', '"channel_id"', ',"guild_id":', 'true', 'false', 'null', '},{', '"type":0', '"permissions":"', '"content":"']
    out = []
    for i in range(40):
        n = r.choice([40, 300, 1500, 4000]) if i % 20 else 60000
        b = bytearray()
        while len(b) < n:
            k = r.randrange(4)
            if k < 2:
                b += r.choice(words).encode()
            elif k == 2:
                b += str(r.getrandbits(60)).encode()
            else:
                b += bytes(r.randrange(256) for _ in range(r.randrange(3)))
        out.append(bytes(b[:n]))
    return out

for level, wlog in [(1, 17), (3, 20), (9, 20), (19, 22)]:
    r = random.Random(level)
    msgs = messages(r)
    params = zstandard.ZstdCompressionParameters.from_level(level, window_log=wlog, write_checksum=1)
    c = zstandard.ZstdCompressor(compression_params=params).compressobj()
    recs = []
    for m in msgs:
        recs.append(c.compress(m) + c.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
    with open(f"{sys.argv[1]}/level{level}.bin", "wb") as f:
        f.write(struct.pack("<I", len(msgs)))
        for m, rec in zip(msgs, recs):
            f.write(struct.pack("<I", len(m)) + hashlib.sha256(m).digest() + struct.pack("<I", len(rec)) + rec)
