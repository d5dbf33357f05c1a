#!/usr/bin/env python3
"""Build a confirmation token from the format documented in lib/token.h and
the man page, independently of the C code: mktoken.py KEYFILE PLANFILE
ISSUED_UNIX_TIME TTL_SECONDS. Used to test that the documented format is the
one the tool accepts, and to make tokens from the future."""
import hashlib
import hmac
import json
import os
import sys

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def b32(data):
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            out.append(ALPHABET[(acc >> (bits - 5)) & 31])
            bits -= 5
    if bits:
        out.append(ALPHABET[(acc << (5 - bits)) & 31])
    return "".join(out)


def main():
    keyfile, planfile, issued, ttl = sys.argv[1:5]
    key = open(keyfile, "rb").read().rstrip()
    plan = json.load(open(planfile))
    canonical = json.dumps(plan, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode()
    digest = hashlib.sha256(canonical).digest()
    key_id = hashlib.sha256(b"safedeploy-key-id" + key).digest()[:2]
    head = (bytes([1]) + int(issued).to_bytes(5, "big") +
            int(ttl).to_bytes(3, "big") + key_id + digest[:2] +
            os.urandom(5))
    mac = hmac.new(key, b"safedeploy-token-v1" + digest + head,
                   hashlib.sha256).digest()[:12]
    print(b32(head + mac))


main()
