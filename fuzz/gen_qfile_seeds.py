#!/usr/bin/env python3
"""gen_qfile_seeds.py: writes the seed files in fuzz/corpus/qfile/.

An encoder of docs/queue-format.md written independently of lib/, so the
seeds named valid-* also check the reader against the document
(tests/unit/test_qfile.c reads them). Seeds stay under 1 KiB because the
fuzz driver mutates only the first 1 KiB of each seed."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def rec(rtype, payload=b""):
    return rtype.encode() + struct.pack(">I", len(payload)) + payload


def text16(value):
    return struct.pack(">H", len(value)) + value


def rcpt(address, orcpt=b"", original=b"", notify=0, done=False):
    payload = bytes([notify]) + text16(address) + text16(orcpt) + text16(original)
    return rec("D" if done else "R", payload)


def queue_file(before, content, after=(), flags=0, warn=0, body=None):
    """before/after: lists of encoded records around the content record."""
    head_len = 8 + 5 + 64
    pre = b"".join(before)
    content_offset = head_len + len(pre) + 5
    post = b"".join(after)
    end_offset = content_offset + len(content) + len(post)
    nrcpt = sum(1 for r in list(before) + list(after) if r[:1] in (b"R", b"D"))
    if body is None:
        idx = content.find(b"\n\n")
        body = idx + 2 if idx >= 0 else len(content)
    header = struct.pack(">IIQQQQQQQ", 1, flags, len(content), content_offset,
                         body, nrcpt, end_offset, warn, 0)
    return (b"POSTERNQ" + rec("H", header) + pre + rec("M", content) + post
            + rec("E"))


def main():
    out = os.path.join(HERE, "corpus", "qfile")
    os.makedirs(out, exist_ok=True)
    arrival = rec("T", struct.pack(">QI", 1763860000, 123456))
    content = b"From: a@example.org\nSubject: hi\n\nbody line\n"
    seeds = {
        "valid-minimal": queue_file(
            [arrival, rec("S", b"a@example.org"), rcpt(b"b@example.com")],
            content),
        "valid-full": queue_file(
            [arrival, rec("S", b""), rec("A", b"client_name=mx.example"),
             rec("A", b"verp=+="), rec("P", b"H"), rec("I", b"ENV-1"),
             rec("X", struct.pack(">I", 3)),
             rcpt(b"b@example.com", b"rfc822;b@example.com", b"bb@example.com", 6),
             rcpt(b"c@example.com", notify=1, done=True)],
            content, [rcpt(b"d@example.com")], flags=2, warn=1763870000),
        "valid-empty-content": queue_file(
            [rec("S", b"x@y"), rcpt(b"z@y")], b"", [arrival]),
        "bad-truncated": queue_file(
            [arrival, rec("S", b"a@b"), rcpt(b"c@d")], content)[:-3],
        "bad-magic": b"POSTFIXQ" + queue_file(
            [arrival, rec("S", b"a@b"), rcpt(b"c@d")], content)[8:],
        "bad-length": queue_file(
            [arrival, rec("S", b"a@b"), rcpt(b"c@d")], content).replace(
                b"S\x00\x00\x00\x03", b"S\x7f\xff\xff\xff"),
    }
    for name, data in seeds.items():
        assert len(data) < 1024, name
        with open(os.path.join(out, name), "wb") as fp:
            fp.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
