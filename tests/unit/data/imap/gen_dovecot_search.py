#!/usr/bin/env python3
"""gen_dovecot_search.py: records Dovecot's answers to SEARCH, SORT and
THREAD over the messages of this directory, for
tests/unit/test_imap_search_eval.c and test_imap_sort.c.

Runs Debian's dovecot-imapd preauthenticated on a private Maildir in a
temporary directory (no listener, no system service; as in
gen_dovecot_fetch.py), APPENDs the messages below with their flags and
internal dates, then writes one JSON line per message ({"message": file,
"flags": ..., "internaldate": ...}, in sequence order, UID = sequence
number) and one per command ({"command": wire form, "result": the
numbers Dovecot answered, or "thread": the THREAD answer}).
With --thread it does the same for the threading mailbox (thread/*.eml:
replies, missing parents, duplicate and looping Message-IDs, subject
merging) and THREAD and SORT SUBJECT commands only.
Usage: gen_dovecot_search.py > dovecot-search.jsonl
       gen_dovecot_search.py --thread > dovecot-thread.jsonl
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_dovecot_fetch import CONF, HERE, Session  # noqa: E402

import shutil  # noqa: E402
import tempfile  # noqa: E402

MESSAGES = [
    ("search/s01.eml", r"\Seen", "02-Mar-2026 09:00:00 +0000"),
    ("search/s02.eml", r"\Seen \Answered", "03-Mar-2026 22:30:00 +0000"),
    ("search/s03.eml", r"\Flagged $Label1", "04-Mar-2026 12:00:01 +0000"),
    ("search/s04.eml", "", "05-Mar-2026 00:00:00 +0000"),
    ("search/s05.eml", r"\Deleted", "05-Mar-2026 23:59:59 +0000"),
    ("search/s06.eml", r"\Draft NonJunk", "06-Mar-2026 08:00:00 +0000"),
    ("search/s07.eml", r"\Seen $label1", "07-Mar-2026 10:00:00 +0000"),
    ("search/s08.eml", "", "08-Mar-2026 07:00:00 +0000"),
    ("search/s09.eml", r"\Seen", "09-Mar-2026 10:00:00 +0000"),
    ("search/s10.eml", r"\Flagged", "10-Mar-2026 10:00:00 +0000"),
    ("multipart.eml", r"\Seen", "11-Mar-2026 10:00:00 +0000"),
    ("encodings.eml", "", "12-Mar-2026 10:00:00 +0000"),
    ("crlf.eml", r"\Answered", "13-Mar-2026 10:00:00 +0000"),
    ("nested.eml", "", "14-Mar-2026 10:00:00 +0000"),
    ("headeronly.eml", "", "15-Mar-2026 10:00:00 +0000"),
]

SEARCHES = [
    "ALL", "ANSWERED", "UNANSWERED", "DELETED", "UNDELETED", "DRAFT",
    "UNDRAFT", "FLAGGED", "UNFLAGGED", "SEEN", "UNSEEN",
    "KEYWORD $Label1", "KEYWORD $LABEL1", "KEYWORD NonJunk",
    "UNKEYWORD $Label1", "KEYWORD nosuch",
    "FROM joerg", "FROM jörg", "FROM JÖRG", "FROM müller", "FROM example.com",
    "FROM \"West Coast\"", "TO anna", "TO second-to", "TO a2@", "CC carl",
    "CC \"Carl Copy\"", "BCC hidden", "SUBJECT résumé", "SUBJECT resume",
    "SUBJECT RESUME", "SUBJECT \"hello world\"", "SUBJECT \"meeting agenda\"",
    "SUBJECT привет", "SUBJECT ПРИВЕТ", "SUBJECT innersubject",
    "SUBJECT \"\"", "HEADER X-Mailer \"\"", "HEADER X-Mailer testmailer",
    "HEADER x-priority highest", "HEADER Message-ID s05@",
    "HEADER References <s02@", "HEADER Subject caf",
    "BODY café", "BODY cafe", "BODY CAFÉ", "BODY überraschung",
    "BODY \"ende der zeile\"", "BODY Gruß", "BODY καλημέρα", "BODY ΚΑΛΗΜΕΡΑ",
    "BODY rareword42", "BODY secretword", "BODY innerbody",
    "BODY innersubject", "BODY \"МИР\"", "BODY мир", "BODY strasse",
    "BODY fullwidth", "BODY \"cafe\u0301\"", "BODY agenda",
    "BODY \"inner text\"", "BODY hello", "BODY \"soft=break\"",
    "BODY \"line two\"",
    "TEXT innersubject", "TEXT rareword42", "TEXT testmailer",
    "TEXT \"content-type: text/html\"", "TEXT boss", "TEXT nosuchword",
    "TEXT multipart/alternative",
    "BEFORE 5-Mar-2026", "ON 5-Mar-2026", "SINCE 5-Mar-2026",
    "SINCE 16-Mar-2026", "BEFORE 1-Jan-2000",
    "SENTBEFORE 5-Mar-2026", "SENTON 5-Mar-2026", "SENTSINCE 5-Mar-2026",
    "SENTON 3-Mar-2026", "SENTON 6-Mar-2026", "SENTON 8-Mar-2026",
    "SENTBEFORE 1-Jan-2026",
    "LARGER 1000", "SMALLER 400", "LARGER 5000",
    "OLDER 3600", "YOUNGER 3600",
    "1:3", "2,4,6:*", "*", "UID 3:5", "UID 14:*", "UID 100:*",
    "NOT SEEN", "NOT NOT SEEN", "OR SEEN FLAGGED", "OR FROM boss TO bob",
    "(SEEN FLAGGED)", "SEEN NOT ANSWERED", "OR (SEEN ANSWERED) DRAFT",
    "NOT (OR BODY cafe SUBJECT meeting)", "UNSEEN BODY order",
    "OR BODY nosuch OR SUBJECT nosuch UID 2",
]

THREAD_MESSAGES = [("thread/t%02d.eml" % i, "", "%02d-Feb-2026 10:00:00 +0000" % i)
                   for i in range(1, 20)]

SORTS = [
    "(ARRIVAL)", "(REVERSE ARRIVAL)", "(DATE)", "(REVERSE DATE)", "(SIZE)",
    "(REVERSE SIZE)", "(SUBJECT)", "(REVERSE SUBJECT)", "(FROM)", "(TO)",
    "(CC)", "(DISPLAYFROM)", "(DISPLAYTO)", "(SUBJECT DATE)",
    "(FROM REVERSE DATE)", "(REVERSE SIZE ARRIVAL)",
]


def wire(search):
    """Quoted strings holding 8-bit text become {n+} literals."""
    out, i = [], 0
    while i < len(search):
        c = search[i]
        if c == '"':
            j = search.index('"', i + 1)
            text = search[i + 1:j]
            raw = text.encode()
            if any(b >= 0x80 for b in raw):
                out.append("{%d+}\r\n%s" % (len(raw), text))
            else:
                out.append(search[i:j + 1])
            i = j + 1
            continue
        if ord(c) >= 0x80 or (c not in ' ()' and any(ord(x) >= 0x80 for x in search[i:].split(' ')[0])):
            word = search[i:].split(' ')[0]
            raw = word.encode()
            out.append("{%d+}\r\n%s" % (len(raw), word))
            i += len(word)
            continue
        out.append(c)
        i += 1
    return "".join(out)


def main():
    out = sys.stdout
    threading = "--thread" in sys.argv
    messages = THREAD_MESSAGES if threading else MESSAGES
    searches = [] if threading else SEARCHES
    sorts = ["(SUBJECT)", "(DATE)", "(REVERSE SUBJECT)"] if threading else SORTS
    d = tempfile.mkdtemp(prefix="dvsearch.")
    try:
        os.chmod(d, 0o755)
        with open(d + "/dovecot.conf", "w") as f:
            f.write(CONF.format(d=d))
        for sub in ("run", "state", "Maildir/cur", "Maildir/new",
                    "Maildir/tmp"):
            os.makedirs(d + "/" + sub)
        for root, dirs, files in os.walk(d + "/Maildir"):
            for x in dirs:
                os.chown(os.path.join(root, x), 65534, 65534)
        os.chown(d + "/Maildir", 65534, 65534)
        os.chown(d + "/state", 65534, 65534)
        s = Session(d)
        for name, flags, date in messages:
            with open(os.path.join(HERE, name), "rb") as f:
                data = f.read()
            cmd = 'APPEND INBOX (%s) "%s" {%d+}\r\n' % (flags, date, len(data))
            untagged, status = s.command(cmd.encode() + data)
            if not status.startswith("OK"):
                raise SystemExit("APPEND %s: %s" % (name, status))
            out.write(json.dumps({"message": name, "flags": flags,
                                  "internaldate": date}) + "\n")
        s.command("SELECT INBOX")
        for search in searches:
            w = wire(search)
            untagged, status = s.command("SEARCH CHARSET UTF-8 " + w)
            nums = [u for u in untagged if u.startswith(b"* SEARCH")]
            rec = {"command": "SEARCH", "args": "CHARSET UTF-8 " + w,
                   "status": status.split(" ")[0]}
            rec["result"] = nums[0][8:].decode().strip() if nums else ""
            out.write(json.dumps(rec) + "\n")
        for crit in sorts:
            untagged, status = s.command("SORT %s UTF-8 ALL" % crit)
            nums = [u for u in untagged if u.startswith(b"* SORT")]
            out.write(json.dumps({"command": "SORT", "args": crit + " UTF-8 ALL",
                                  "status": status.split(" ")[0],
                                  "result": nums[0][6:].decode().strip()
                                  if nums else ""}) + "\n")
        for algo in ("ORDEREDSUBJECT", "REFERENCES"):
            untagged, status = s.command("THREAD %s UTF-8 ALL" % algo)
            th = [u for u in untagged if u.startswith(b"* THREAD")]
            out.write(json.dumps({"command": "THREAD", "args": algo + " UTF-8 ALL",
                                  "status": status.split(" ")[0],
                                  "result": th[0][8:].decode().strip()
                                  if th else ""}) + "\n")
        s.close()
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
