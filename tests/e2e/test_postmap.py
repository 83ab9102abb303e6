"""test_postmap.py: drives the built tools/postmap (POSTERN_BUILDDIR).

Covers building, querying, listing and editing, header and body queries
of a message (-h, -b, -m), -F file values, UTF-8 checks (-u, -U), and
Postfix compatibility of the on-disk form with Debian's own tools:
db5.3_dump/db5.3_load for hash:/btree: and mdb_dump/mdb_load for lmdb:
(keys and values carry a trailing NUL, as Postfix's postmap writes them).
"""
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

BUILDDIR = os.environ.get("POSTERN_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
POSTMAP = os.path.join(BUILDDIR, "tools", "postmap")


def have(tool):
    return shutil.which(tool) is not None


class PostmapTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postmap-test.")
        self.conf = os.path.join(self.dir, "conf")
        os.mkdir(self.conf)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("# test main.cf\n")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=None):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(p, mode)
        return p

    def postmap(self, *args, stdin=None, conf=None):
        cmd = [POSTMAP, "-c", conf or self.conf] + list(args)
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                              timeout=60)

    def ok(self, *args, **kw):
        r = self.postmap(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    # ---- building and querying ----

    def test_build_query_exit_codes(self):
        src = self.write("virtual", "# comment\n"
                                    "Alice@Example.COM   alice\n"
                                    "\n"
                                    "bob@example.com     bob,\n"
                                    "    robert\n")
        self.ok(src)
        self.assertTrue(os.path.exists(src + ".db"))
        r = self.ok("-q", "alice@example.com", src)
        self.assertEqual(r.stdout, "alice\n")
        r = self.ok("-q", "ALICE@EXAMPLE.COM", "hash:" + src)
        self.assertEqual(r.stdout, "alice\n")
        r = self.postmap("-q", "carol@example.com", src)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        r = self.ok("-q", "bob@example.com", src)
        self.assertEqual(r.stdout.split(), ["bob,", "robert"])
        # -q - : key<TAB>value for each key found; 1 when none is.
        r = self.ok("-q", "-", src, stdin="alice@example.com\nnobody\nbob@example.com\n")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0], "alice@example.com\talice")
        r = self.postmap("-q", "-", src, stdin="nobody\n")
        self.assertEqual(r.returncode, 1)
        # -s lists every entry.
        r = self.ok("-s", src)
        self.assertEqual(sorted(r.stdout.splitlines())[0], "alice@example.com\talice")
        self.assertEqual(len(r.stdout.splitlines()), 2)

    def test_first_table_wins_and_errors_exit_2(self):
        a = self.write("a", "k from-a\n")
        b = self.write("b", "k from-b\nonly-b yes\n")
        self.ok(a)
        self.ok(b)
        self.assertEqual(self.ok("-q", "k", a, b).stdout, "from-a\n")
        self.assertEqual(self.ok("-q", "only-b", a, b).stdout, "yes\n")
        r = self.postmap("-q", "k", self.path("missing"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.db", r.stderr)
        r = self.postmap("-q", "k", "fail:x")
        self.assertEqual(r.returncode, 2)

    def test_malformed_line_keeps_old_table(self):
        src = self.write("t", "good value\n")
        self.ok(src)
        self.write("t", "good new-value\nbroken\n")
        r = self.postmap(src)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{src}, line 2:", r.stderr)
        self.assertEqual(self.ok("-q", "good", src).stdout, "value\n")
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])

    def test_fold_duplicates_replace(self):
        src = self.write("t", "Key first\nkey second\n")
        r = self.ok(src)
        self.assertIn("duplicate entry", r.stderr)
        self.assertEqual(self.ok("-q", "KEY", src).stdout, "first\n")
        self.ok("-r", src)
        self.assertEqual(self.ok("-q", "key", src).stdout, "second\n")
        r = self.ok("-w", src)
        self.assertNotIn("duplicate", r.stderr)
        # -f keeps case in the table and in the query.
        self.ok("-f", src)
        self.assertEqual(self.ok("-f", "-q", "Key", src).stdout, "first\n")
        self.assertEqual(self.postmap("-f", "-q", "KEY", src).returncode, 1)

    def test_incremental_and_delete(self):
        for kind in ("hash", "btree", "lmdb"):
            src = self.write("t-" + kind, "a 1\nb 2\n", mode=0o640)
            spec = f"{kind}:{src}"
            self.ok(spec)
            self.ok("-i", spec, stdin="c 3\nD 4\n")
            self.assertEqual(self.ok("-q", "d", spec).stdout, "4\n")
            self.assertEqual(self.ok("-q", "a", spec).stdout, "1\n")
            self.assertEqual(self.ok("-d", "A", spec).returncode, 0)
            self.assertEqual(self.postmap("-q", "a", spec).returncode, 1)
            self.assertEqual(self.postmap("-d", "a", spec).returncode, 1)
            self.ok("-d", "-", spec, stdin="b\nc\n")
            r = self.ok("-s", spec)
            self.assertEqual(r.stdout, "d\t4\n", kind)
            suffix = ".lmdb" if kind == "lmdb" else ".db"
            mode = stat.S_IMODE(os.stat(src + suffix).st_mode)
            self.assertEqual(mode, 0o640, kind)
            leftovers = [n for n in os.listdir(self.dir) if ".tmp." in n or n.endswith("-lock")]
            self.assertEqual(leftovers, [], kind)

    def test_incremental_creates_missing_table(self):
        target = self.path("fresh")
        self.ok("-i", "btree:" + target, stdin="K v\n")
        self.assertEqual(self.ok("-q", "k", "btree:" + target).stdout, "v\n")
        r = self.postmap("-i", "btree:" + target, stdin="broken-line\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("standard input, line 1:", r.stderr)
        self.assertEqual(self.ok("-q", "k", "btree:" + target).stdout, "v\n")

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_root_builds_as_source_owner(self):
        os.chmod(self.dir, 0o777)
        src = self.write("owned", "k v\n")
        os.chown(src, 65534, 65534)
        self.ok(src)
        st = os.stat(src + ".db")
        self.assertEqual((st.st_uid, st.st_gid), (65534, 65534))
        # -o keeps root's rights.
        self.ok("-o", src)
        self.assertEqual(os.stat(src + ".db").st_uid, 0)

    def test_default_database_type_lmdb(self):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("default_database_type = lmdb\n")
        src = self.write("t", "k v\n")
        self.ok(src)
        self.assertTrue(os.path.exists(src + ".lmdb"))
        self.assertFalse(os.path.exists(src + ".db"))
        self.assertEqual(self.ok("-q", "k", src).stdout, "v\n")

    def test_text_tables_check_and_query(self):
        rx = self.write("rx", "/^(.*)@example\\.com$/  $1\nif /^x/\n/y$/ xy\nendif\n")
        self.ok("regexp:" + rx)
        self.assertEqual(self.ok("-q", "joe@EXAMPLE.com", "regexp:" + rx).stdout, "joe\n")
        self.assertEqual(self.ok("-q", "x-y", "pcre:" + rx).stdout, "xy\n")
        bad = self.write("bad", "/ok/ fine\n/(unclosed/ x\n")
        for kind in ("regexp", "pcre"):
            r = self.postmap(f"{kind}:{bad}")
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"{bad}, line 2:", r.stderr)
            r = self.postmap("-q", "ok", f"{kind}:{bad}")
            self.assertEqual(r.returncode, 2)
        cidr = self.write("cidr", "192.0.2.0/24 doc\n[2001:db8::]/32 doc6\n")
        self.assertEqual(self.ok("-q", "192.0.2.9", "cidr:" + cidr).stdout, "doc\n")
        self.assertEqual(self.ok("-q", "2001:db8::5", "cidr:" + cidr).stdout, "doc6\n")
        badcidr = self.write("badcidr", "192.0.2.1/24 x\n")
        r = self.postmap("cidr:" + badcidr)
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 1", r.stderr)
        th = self.write("th", "K v\n")
        self.assertEqual(self.ok("-q", "k", "texthash:" + th).stdout, "v\n")
        self.assertEqual(self.ok("-q", "x", "inline:{x=1, y=2}").stdout, "1\n")
        self.assertEqual(self.ok("-q", "x", "static:always").stdout, "always\n")
        r = self.postmap("-s", "regexp:" + rx)
        self.assertEqual(r.returncode, 2)

    # ---- byte compatibility with Postfix's files ----

    @unittest.skipUnless(have("db5.3_dump") and have("db5.3_load"), "db5.3-util not installed")
    def test_db_format_matches_postfix(self):
        src = self.write("aliases", "postmaster root\nAbuse  root, admin\n")
        for kind, dbtype in (("hash", "hash"), ("btree", "btree")):
            self.ok(f"{kind}:{src}")
            dump = subprocess.run(["db5.3_dump", "-p", src + ".db"], capture_output=True,
                                  text=True, check=True).stdout
            self.assertIn(f"type={dbtype}", dump)
            body = dump.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].splitlines()
            pairs = dict(zip(body[0::2], body[1::2]))
            self.assertEqual(pairs, {" postmaster\\00": " root\\00",
                                     " abuse\\00": " root, admin\\00"}, kind)
        # -n writes no NUL.
        self.ok("-n", f"hash:{src}")
        dump = subprocess.run(["db5.3_dump", "-p", src + ".db"], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn(" postmaster\n root\n", dump)

    @unittest.skipUnless(have("db5.3_load"), "db5.3-util not installed")
    def test_reads_db_made_by_db_load(self):
        # Exactly what Postfix's postmap stores: lower-case keys, NULs.
        for kind in ("hash", "btree"):
            dump = (f"VERSION=3\nformat=print\ntype={kind}\nHEADER=END\n"
                    " user@example.com\\00\n user-mailbox\\00\n"
                    " nonul\n without-nul\n"
                    "DATA=END\n")
            target = self.path(f"loaded-{kind}")
            subprocess.run(["db5.3_load", target + ".db"], input=dump, text=True,
                           check=True, capture_output=True)
            r = self.ok("-q", "User@Example.com", f"{kind}:{target}")
            self.assertEqual(r.stdout, "user-mailbox\n")
            r = self.ok("-q", "nonul", f"{kind}:{target}")
            self.assertEqual(r.stdout, "without-nul\n")
            r = self.ok("-s", f"{kind}:{target}")
            self.assertEqual(sorted(r.stdout.splitlines()),
                             ["nonul\twithout-nul", "user@example.com\tuser-mailbox"])

    @unittest.skipUnless(have("mdb_dump") and have("mdb_load"), "lmdb-utils not installed")
    def test_lmdb_format(self):
        src = self.write("t", "Key value one\n")
        self.ok("lmdb:" + src)
        dump = subprocess.run(["mdb_dump", "-p", "-n", src + ".lmdb"], capture_output=True,
                              text=True, check=True).stdout
        body = dump.split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0].splitlines()
        self.assertEqual(body, [" key\\00", " value one\\00"])
        # A file made by mdb_load in the same form is read as it is.
        target = self.path("loaded")
        data = "VERSION=3\nformat=print\ntype=btree\nHEADER=END\n a@b\\00\n x\\00\nDATA=END\n"
        subprocess.run(["mdb_load", "-n", "-f", "/dev/stdin", target + ".lmdb"], input=data,
                       text=True, check=True, capture_output=True)
        self.assertEqual(self.ok("-q", "A@B", "lmdb:" + target).stdout, "x\n")

    def test_quoted_keys(self):
        src = self.write("quoted", '"Key With Space" one\n"a \\"q\\"" two\n')
        self.ok(src)
        self.assertEqual(self.ok("-q", "key with space", src).stdout, "one\n")
        self.assertEqual(self.ok("-q", 'a "q"', src).stdout, "two\n")
        self.assertEqual(self.ok("-s", src).stdout.count("\n"), 2)

    # ---- header and body queries (-h, -b, -m) ----

    CHECKS = ("/^Subject:.*viagra/   REJECT spam subject\n"
              "/^X-Part:/            WARN part header\n"
              "/^Subject: inner/     WARN nested subject\n"
              "/^--b/                INFO boundary\n"
              "/secret/              REJECT body secret\n")
    MESSAGE = ("From: a@example.com\r\n"
               "Subject: buy viagra\r\n"
               "  now\r\n"
               "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
               "\r\n"
               "preamble secret\r\n"
               "--b\r\n"
               "X-Part: one\r\n"
               "\r\n"
               "part body secret\r\n"
               "--b\r\n"
               "Content-Type: message/rfc822\r\n"
               "\r\n"
               "Subject: inner\r\n"
               "\r\n"
               "inner secret\r\n"
               "--b--\r\n")

    def test_header_queries(self):
        checks = "regexp:" + self.write("header_checks", self.CHECKS)
        # Without -m only the message's own header; a folded header is
        # one key with its line break.
        r = self.ok("-h", "-q", "-", checks, stdin=self.MESSAGE)
        self.assertEqual(r.stdout, "Subject: buy viagra\n  now\tREJECT spam subject\n")
        r = self.ok("-hm", "-q", "-", checks, stdin=self.MESSAGE)
        self.assertEqual(r.stdout, "Subject: buy viagra\n  now\tREJECT spam subject\n"
                                   "X-Part: one\tWARN part header\n"
                                   "Subject: inner\tWARN nested subject\n")
        r = self.postmap("-h", "-q", "-", checks, stdin="Subject: fine\n\nsecret\n")
        self.assertEqual((r.returncode, r.stdout), (1, ""))

    def test_body_queries(self):
        checks = "pcre:" + self.write("body_checks", self.CHECKS)
        # Without -m every line after the header is body, MIME headers too.
        r = self.ok("-b", "-q", "-", checks, stdin=self.MESSAGE)
        self.assertEqual(r.stdout, "preamble secret\tREJECT body secret\n"
                                   "--b\tINFO boundary\n"
                                   "X-Part: one\tWARN part header\n"
                                   "part body secret\tREJECT body secret\n"
                                   "--b\tINFO boundary\n"
                                   "Subject: inner\tWARN nested subject\n"
                                   "inner secret\tREJECT body secret\n"
                                   "--b--\tINFO boundary\n")
        r = self.ok("-bm", "-q", "-", checks, stdin=self.MESSAGE)
        self.assertEqual(r.stdout, "preamble secret\tREJECT body secret\n"
                                   "--b\tINFO boundary\n"
                                   "part body secret\tREJECT body secret\n"
                                   "--b\tINFO boundary\n"
                                   "inner secret\tREJECT body secret\n"
                                   "--b--\tINFO boundary\n")
        both = self.ok("-bhm", "-q", "-", checks, stdin=self.MESSAGE).stdout
        self.assertEqual(len(both.splitlines()), 10)
        # Indexed tables work the same way; -q KEY ignores -b.
        src = self.write("words", "hello there\n")
        self.ok(src)
        r = self.ok("-b", "-q", "-", src, stdin="X: 1\n\nnothing\nHello\n")
        self.assertEqual(r.stdout, "Hello\tthere\n")
        self.assertEqual(self.ok("-b", "-q", "hello", src).stdout, "there\n")

    # ---- -F: values that carry file contents ----

    def test_file_values(self):
        self.write("cert.pem", "CERT\n")
        self.write("key.pem", "KEY")
        src = self.write("sni", f"mail.example.com {self.path('cert.pem')}, "
                                f"{self.path('key.pem')}\n")
        self.ok("-F", "lmdb:" + src)
        # Stored base64-encoded; -F decodes on query and list.
        raw = self.ok("-q", "mail.example.com", "lmdb:" + src).stdout
        self.assertEqual(raw, "Q0VSVAoKS0VZ\n")
        self.assertEqual(self.ok("-F", "-q", "mail.example.com", "lmdb:" + src).stdout,
                         "CERT\n\nKEY\n")
        self.assertEqual(self.ok("-F", "-s", "lmdb:" + src).stdout,
                         "mail.example.com\tCERT\n\nKEY\n")
        r = self.postmap("-F", "-q", "x", "inline:{x=notbase64!}")
        self.assertEqual(r.returncode, 2)
        self.assertIn("malformed BASE64 value", r.stderr)
        bad = self.write("bad", "a.example " + self.path("missing.pem") + "\n")
        r = self.postmap("-F", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad, line 1: " + self.path("missing.pem") + ": cannot open",
                      r.stderr)
        self.assertFalse(os.path.exists(bad + ".db"))

    # ---- UTF-8 (-u, -U) ----

    def raw_postmap(self, *args, stdin=b""):
        return subprocess.run([POSTMAP, "-c", self.conf] + list(args), input=stdin,
                              capture_output=True, timeout=60)

    def test_utf8_checks(self):
        src = self.path("utf8")
        with open(src, "wb") as f:
            f.write(b"caf\xe9 latin1-key\nok v\xff\nna\xc3\xafve fine\n")
        # smtputf8_enable = yes (the default): bad entries are skipped.
        r = self.raw_postmap(src)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"non-UTF-8 key \"caf\xe9\"", r.stderr)
        self.assertIn(b"key \"ok\": non-UTF-8 value", r.stderr)
        self.assertEqual(self.raw_postmap("-s", src).stdout, b"na\xc3\xafve\tfine\n")
        # -u: no checks; a lookup of a bad value then fails unless -u.
        self.assertEqual(self.raw_postmap("-u", src).returncode, 0)
        self.assertEqual(self.raw_postmap("-u", "-q", "ok", src).stdout, b"v\xff\n")
        r = self.raw_postmap("-q", "ok", src)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"non-UTF-8 value", r.stderr)
        r = self.raw_postmap("-q", b"caf\xe9", src)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"non-UTF-8 key", r.stderr)
        # Message lines are not checked unless -U.
        msg = b"Subject: x\n\nok\n"
        self.assertEqual(self.raw_postmap("-b", "-q", "-", src, stdin=msg).stdout,
                         b"ok\tv\xff\n")
        self.assertEqual(self.raw_postmap("-bU", "-q", "-", src, stdin=msg).returncode, 2)
        # With smtputf8_enable = no there are no checks.
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("smtputf8_enable = no\n")
        self.assertEqual(self.raw_postmap("-q", "ok", src).stdout, b"v\xff\n")

    def test_usage_errors(self):
        self.assertEqual(self.postmap().returncode, 2)
        self.assertEqual(self.postmap("-q", "k", "-s", "x").returncode, 2)
        r = self.postmap(self.path("no-such-source"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-source", r.stderr)


if __name__ == "__main__":
    unittest.main()
