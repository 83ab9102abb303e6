#!/usr/bin/env python3
"""gen_dovecot_fetch.py: records Dovecot's answers to FETCH items for the
message files in this directory, for tests/unit/test_imap_fetch_render.c.

Runs Debian's dovecot-imapd (/usr/lib/dovecot/imap) preauthenticated on a
private Maildir in a temporary directory (no listener, no system service),
one message per mailbox, one FETCH per item, and writes one JSON line per
(file, items): the untagged FETCH response, or the tagged NO text. Needs
root (Dovecot refuses uid 0 for mail, so the Maildir belongs to nobody).
Usage: gen_dovecot_fetch.py > dovecot-fetch.jsonl
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["multipart.eml", "encodings.eml", "crlf.eml", "nested.eml",
         "headeronly.eml"]
ITEMS = [
    "BODY.PEEK[]", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "RFC822.SIZE",
    "RFC822.HEADER", "BODY", "BODYSTRUCTURE", "ENVELOPE",
    "BODY.PEEK[1]", "BODY.PEEK[1.MIME]", "BODY.PEEK[2]", "BODY.PEEK[2.MIME]",
    "BODY.PEEK[2.HEADER]", "BODY.PEEK[2.TEXT]", "BODY.PEEK[2.1]",
    "BODY.PEEK[2.2]", "BODY.PEEK[2.1.MIME]", "BODY.PEEK[2.2.MIME]",
    "BODY.PEEK[3]", "BODY.PEEK[3.HEADER]", "BODY.PEEK[3.TEXT]",
    "BODY.PEEK[3.1]", "BODY.PEEK[3.1.MIME]", "BODY.PEEK[9]", "BODY.PEEK[1.2]",
    "BODY.PEEK[1.HEADER]", "BODY.PEEK[1.TEXT]",
    "BODY.PEEK[HEADER.FIELDS (From Subject X-Folded x-last)]",
    "BODY.PEEK[HEADER.FIELDS.NOT (From Subject Content-Type)]",
    "BODY.PEEK[HEADER.FIELDS (Nothing)]",
    "BODY.PEEK[2.HEADER.FIELDS (subject)]",
    "BODY.PEEK[]<0.10>", "BODY.PEEK[]<5.1000000>", "BODY.PEEK[]<100000.5>",
    "BODY.PEEK[TEXT]<3.7>", "BODY.PEEK[1]<2.9>",
] + ["BODY.PEEK[]<%d.3>" % i for i in range(0, 40, 3)] + [
    "BINARY.PEEK[%s]" % s for s in
    ["1", "2", "3", "4", "5", "6", "2.1", "2.2", "2.2.1"]] + [
    "BINARY.SIZE[%s]" % s for s in ["1", "2", "4", "6"]] + [
    "BINARY.PEEK[1]<2.3>", "BINARY.PEEK[2]<4.100>", "BINARY.PEEK[1]<99.1>",
]

CONF = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
mail_location = maildir:{d}/Maildir
protocols = imap
ssl = no
mail_uid = 65534
mail_gid = 65534
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = root
default_login_user = root
passdb {{
  driver = static
  args = password=x
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}
}}
"""


class Session:
    def __init__(self, d):
        env = dict(os.environ, MAIL="maildir:%s/Maildir" % d, HOME=d,
                   USER="test")
        self.p = subprocess.Popen(
            ["/usr/lib/dovecot/imap", "-c", d + "/dovecot.conf"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.n = 0
        self.line()  # PREAUTH

    def line(self):
        out = b""
        while True:
            ln = self.p.stdout.readline()
            if not ln:
                raise SystemExit("dovecot closed the connection")
            out += ln
            if ln.endswith(b"}\r\n") and b"{" in ln:
                n = int(ln[ln.rindex(b"{") + 1:-3])
                out += self.p.stdout.read(n)
                continue
            return out

    def command(self, text):
        self.n += 1
        tag = b"t%d" % self.n
        if isinstance(text, str):
            text = text.encode()
        self.p.stdin.write(tag + b" " + text + b"\r\n")
        self.p.stdin.flush()
        untagged = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return untagged, ln[len(tag) + 1:].decode("latin-1").strip()
            untagged.append(ln)

    def close(self):
        self.command("LOGOUT")
        self.p.wait()


def main():
    out = sys.stdout
    for name in FILES:
        d = tempfile.mkdtemp(prefix="dvfetch.")
        try:
            os.chmod(d, 0o755)
            with open(d + "/dovecot.conf", "w") as f:
                f.write(CONF.format(d=d))
            for sub in ("run", "state", "Maildir/cur", "Maildir/new",
                        "Maildir/tmp"):
                os.makedirs(d + "/" + sub)
            shutil.copyfile(os.path.join(HERE, name),
                            d + "/Maildir/cur/1.msg:2,")
            for root, dirs, files in os.walk(d + "/Maildir"):
                for x in dirs + files:
                    os.chown(os.path.join(root, x), 65534, 65534)
            os.chown(d + "/Maildir", 65534, 65534)
            os.chown(d + "/state", 65534, 65534)
            s = Session(d)
            s.command("EXAMINE INBOX")
            for items in ITEMS:
                untagged, status = s.command("FETCH 1 (%s)" % items)
                fetch = [u for u in untagged if u.startswith(b"* 1 FETCH")]
                rec = {"file": name, "items": items}
                if status.startswith("OK"):
                    rec["response"] = b"".join(fetch).decode("latin-1")
                else:
                    rec["error"] = status.split(" (")[0]
                out.write(json.dumps(rec) + "\n")
            s.close()
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    main()
