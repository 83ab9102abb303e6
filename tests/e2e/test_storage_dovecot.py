"""test_storage_dovecot.py: Maildirs shared with Debian's Dovecot.

Both ways:
  * tests/data/dovecot-maildir/Maildir, written by Dovecot itself (see its
    make-fixture), opened with lib/storage/mailbox (through
    tests/helpers/mailbox_tool): the UIDVALIDITY, UIDNEXT, UIDs, flags,
    keywords, sizes and internal dates are the ones Dovecot reported;
  * a Maildir written by lib/storage/mailbox (APPEND with flags, keywords
    and dates, STORE, COPY, EXPUNGE) served by a private Dovecot
    (dovecot_imap.py): Python's imaplib sees the same UIDs, UIDVALIDITY,
    flags and keywords, and Dovecot's own later changes read back here.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from dovecot_imap import DovecotUnavailable, PrivateDovecot

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.environ.get("POSTERN_BUILDDIR", TOP)
TOOL = os.path.join(BUILDDIR, "tests", "helpers", "mailbox_tool")
FIXTURE = os.path.join(TOP, "tests", "data", "dovecot-maildir")


def tool(*args, stdin=None):
    proc = subprocess.run([TOOL, *args], input=stdin, capture_output=True,
                          timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"mailbox_tool {' '.join(args)}: "
                             f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


def listing(root, folder):
    """What lib/storage/mailbox sees: the state in make-fixture's shape."""
    lines = tool(root, folder, "list").splitlines()
    state = {"uidvalidity": int(lines[0].split()[1]),
             "uidnext": int(lines[1].split()[1]), "messages": []}
    for line in lines[2:]:
        uid, flags, size, date = line.split()
        state["messages"].append({
            "uid": int(uid), "flags": sorted(flags.split(",")) if flags != "-" else [],
            "size": int(size), "internaldate": int(date)})
    return state


def imap_state(imap, folder):
    """What Dovecot tells a client: UIDVALIDITY, UIDNEXT, UID, FLAGS."""
    typ, data = imap.status(folder, "(UIDVALIDITY UIDNEXT MESSAGES)")
    assert typ == "OK", data
    fields = dict(re.findall(r"(UIDVALIDITY|UIDNEXT|MESSAGES) (\d+)", data[0].decode()))
    typ, _ = imap.select(folder, readonly=True)
    assert typ == "OK"
    messages = []
    if int(fields["MESSAGES"]):
        typ, data = imap.fetch("1:*", "(UID FLAGS RFC822.SIZE)")
        assert typ == "OK", data
        for item in data:
            text = item.decode()
            flags = re.search(r"FLAGS \(([^)]*)\)", text).group(1).split()
            messages.append({"uid": int(re.search(r"UID (\d+)", text).group(1)),
                             "flags": sorted(f for f in flags if f != "\\Recent"),
                             "size": int(re.search(r"RFC822.SIZE (\d+)", text).group(1))})
    imap.close()
    return {"uidvalidity": int(fields["UIDVALIDITY"]),
            "uidnext": int(fields["UIDNEXT"]), "messages": messages}


def without_dates(state):
    return {**state, "messages": [{k: v for k, v in m.items() if k != "internaldate"}
                                  for m in state["messages"]]}


@unittest.skipUnless(os.access(TOOL, os.X_OK), "tests/helpers/mailbox_tool not built")
class DovecotFixture(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pt-dcfix-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.root = os.path.join(self.dir, "Maildir")
        shutil.copytree(os.path.join(FIXTURE, "Maildir"), self.root, symlinks=True)
        with open(os.path.join(FIXTURE, "expected.json")) as f:
            self.expected = json.load(f)
        # git keeps neither empty directories nor mtimes (the INTERNALDATE)
        for top in (self.root, os.path.join(self.root, ".Work")):
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(top, sub), exist_ok=True)
        for rel, mtime in self.expected["mtimes"].items():
            os.utime(os.path.join(self.root, rel), (mtime, mtime))

    def test_dovecot_fixture_opens_intact(self):
        for folder in ("INBOX", "Work"):
            with self.subTest(folder=folder):
                self.assertEqual(listing(self.root, folder), self.expected[folder])
        # opening it changed no UID: the uidlists only grew, if at all
        with open(os.path.join(FIXTURE, "Maildir", "dovecot-uidlist")) as f:
            before = f.read()
        with open(os.path.join(self.root, "dovecot-uidlist")) as f:
            self.assertEqual(f.read(), before)

    def test_new_mail_after_dovecot_continues_its_uids(self):
        out = tool(self.root, "INBOX", "append", "\\Flagged,Junk", "0",
                   stdin=b"Subject: after the move\n\nhi\n")
        self.assertEqual(out.strip(), f"uid {self.expected['INBOX']['uidnext']}")
        state = listing(self.root, "INBOX")
        self.assertEqual(state["uidvalidity"], self.expected["INBOX"]["uidvalidity"])
        self.assertEqual(state["messages"][-1]["flags"], ["Junk", "\\Flagged"])
        # Junk kept its letter: dovecot-keywords was not renumbered
        with open(os.path.join(self.root, "dovecot-keywords")) as f:
            self.assertIn("1 Junk\n", f.read())


@unittest.skipUnless(os.access(TOOL, os.X_OK), "tests/helpers/mailbox_tool not built")
class ServedByDovecot(unittest.TestCase):
    def test_postern_maildir_served_by_dovecot(self):
        work = tempfile.mkdtemp(prefix="pt-dcserve-")
        self.addCleanup(shutil.rmtree, work, True)
        root = os.path.join(work, "Maildir")
        appends = [("INBOX", "\\Seen", 1700000000),
                   ("INBOX", "\\Flagged,$Label1", 1700003600),
                   ("INBOX", "\\Answered,\\Seen,Junk,$Label1", 1700007200),
                   ("INBOX", "-", 1700010800),
                   ("Work", "\\Draft,NonJunk", 1700014400)]
        for n, (folder, flags, when) in enumerate(appends, 1):
            body = (f"From: a@example.com\r\nSubject: Postern {n}\r\n\r\n"
                    f"line one\r\nline two {n}\r\n").encode()
            tool(root, folder, "append", flags, str(when), stdin=body)
        tool(root, "INBOX", "store", "4", "\\Flagged,$Forwarded")
        tool(root, "INBOX", "store", "1", "\\Seen,\\Deleted")
        tool(root, "INBOX", "expunge", "1")
        tool(root, "INBOX", "copy", "3", "Work")
        ours = {f: listing(root, f) for f in ("INBOX", "Work")}
        self.assertEqual([m["uid"] for m in ours["INBOX"]["messages"]], [2, 3, 4])
        self.assertEqual([m["uid"] for m in ours["Work"]["messages"]], [1, 2])

        dovecot = PrivateDovecot(root)
        try:
            dovecot.start()
        except DovecotUnavailable as exc:
            self.skipTest(str(exc))
        self.addCleanup(dovecot.stop)
        imap = dovecot.login()
        try:
            for folder in ("INBOX", "Work"):
                with self.subTest(folder=folder):
                    self.assertEqual(imap_state(imap, folder),
                                     without_dates(ours[folder]), dovecot.log_text())
            # Dovecot changes the Maildir; we read its changes back
            imap.select("INBOX")
            self.assertEqual(imap.uid("STORE", "2", "+FLAGS", "(\\Seen Work)")[0], "OK")
            typ, data = imap.append("INBOX", "(\\Draft $Label1)", None,
                                    b"Subject: from Dovecot\r\n\r\nx\r\n")
            self.assertEqual(typ, "OK")
            new_uid = int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
            self.assertEqual(new_uid, ours["INBOX"]["uidnext"])
            imap.logout()
        finally:
            dovecot.stop()
        after = listing(root, "INBOX")
        self.assertEqual(after["uidvalidity"], ours["INBOX"]["uidvalidity"])
        by_uid = {m["uid"]: m["flags"] for m in after["messages"]}
        self.assertEqual(by_uid[2], ["$Label1", "Work", "\\Flagged", "\\Seen"])
        self.assertEqual(by_uid[new_uid], ["$Label1", "\\Draft"])


if __name__ == "__main__":
    unittest.main()
