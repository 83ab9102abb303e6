"""test_imapd_login.py: imap-login, the handoff and the imapd worker up
to a logged-in session (docs/imapd.md), on a real instance with the auth
service and a passwd-file user, driven by Python's imaplib and a raw
socket client:

- the greeting's capabilities, LOGINDISABLED on a connection that is not
  secured (from 127.0.0.2 to 127.0.0.1), [PRIVACYREQUIRED];
- STARTTLS on the imap port and implicit TLS on the imaps port, LOGIN
  and AUTHENTICATE PLAIN (with SASL-IR and with a continuation), the
  worker's tagged "OK [CAPABILITY ...] Logged in";
- a wrong password: NO [AUTHENTICATIONFAILED], and the imap-login line
  that fail2ban's stock dovecot filter reads (fail2ban-regex);
- plain text pipelined behind STARTTLS is discarded;
- COMPRESS=DEFLATE both ways with zlib, IDLE/DONE, ENABLE, NAMESPACE,
  ID, LOGOUT's Disconnected line with in=/out= byte counts;
- as root: the worker runs as the user's uid and gid, imap-login as
  mail_owner;
- hostile input: a huge literal before login refused without a
  continuation, a flood of bad commands disconnected."""
import base64
import hashlib
import hmac
import imaplib
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import unittest
import zlib

from instance import Instance, builddir, is_root

OPENSSL = shutil.which("openssl")
FILTER = "/etc/fail2ban/filter.d/dovecot.conf"
BUILT = all(os.access(os.path.join(builddir(), d, d), os.X_OK)
            for d in ("imapd", "auth"))
USER_UID = 5001 if is_root() else os.getuid()
USER_GID = 5001 if is_root() else os.getgid()


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def close_quietly(client):
    try:
        client.shutdown()
    except OSError:
        pass


class Raw:
    """A line-exact IMAP client that can switch to TLS or DEFLATE."""

    def __init__(self, port, source="127.0.0.1", tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20,
                                             source_address=(source, 0))
        if tls:
            self.sock = client_context().wrap_socket(self.sock)
        self.buf = b""
        self.deflate = None
        self.inflate = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(
                zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        if self.inflate:
            data = self.inflate.decompress(data)
        self.buf += data

    def line(self):
        deadline = time.time() + 20
        while b"\r\n" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError(self.buf)
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def until_tagged(self, tag):
        """Lines up to and including the one tagged tag."""
        lines = []
        for _ in range(1000):
            lines.append(self.line())
            if lines[-1].startswith(tag + " "):
                return lines
        raise AssertionError(lines)

    def cmd(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.until_tagged(tag)

    def closed(self):
        """True when the server closes the connection (within 20 s)."""
        try:
            for _ in range(1000):
                self._more()
        except EOFError:
            return True
        except OSError:
            return True
        return False


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(BUILT, "imapd or auth not built")
class ImapLoginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = inst = Instance()
        try:
            cert = os.path.join(inst.etc, "cert.pem")
            key = os.path.join(inst.etc, "key.pem")
            subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", key, "-out", cert, "-days",
                            "2", "-subj", "/CN=imap.example.test"],
                           check=True, capture_output=True, timeout=60)
            os.chmod(key, 0o600)  # read as root before the drop
            home = os.path.join(inst.root, "home", "alice")
            os.makedirs(home)
            os.chown(home, USER_UID, USER_GID)
            users = os.path.join(inst.etc, "users")
            with open(users, "w") as f:
                f.write(f"alice:{{PLAIN}}secret:{USER_UID}:{USER_GID}::"
                        f"{home}::\n")
                f.write(f"low:{{PLAIN}}secret:50:50::{home}::\n")
            inst.write_main_cf({
                "smtpd_tls_cert_file": cert,   # imapd_tls_* default to these
                "smtpd_tls_key_file": key,
                "passdb": f"passwd-file:{users}",
                "auth_failure_delay": "1s",
                "auth_lockout_threshold": "0",
                "imapd_tls_loglevel": "1",
            })
            cls.port = inst.free_port()
            cls.tls_port = inst.free_port()
            inst.write_master_cf(
                inst.service(f"127.0.0.1:{cls.port}", "inet", "imap-login")
                + inst.service(f"127.0.0.1:{cls.tls_port}", "inet",
                               "imap-login",
                               args=["-o", "imapd_tls_wrappermode=yes"])
                + inst.service("imapd", "unix", "imapd", unpriv="n",
                               maxproc=1)
                + inst.service("auth", "unix", "auth", maxproc=1))
            inst.start()
        except BaseException:
            inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def raw(self, source="127.0.0.1", tls=False):
        r = Raw(self.tls_port if tls else self.port, source, tls)
        self.addCleanup(r.close)
        return r

    def log(self, pattern, timeout=10.0):
        return self.inst.wait_for_log(pattern, since=self.mark,
                                      timeout=timeout)

    def logged_in_raw(self, source="127.0.0.1"):
        r = self.raw(source)
        r.line()
        lines = r.cmd("a", "LOGIN alice secret")
        self.assertRegex(lines[-1], r"^a OK \[CAPABILITY [^]]*\] Logged in$")
        return r

    # ---- before login ----

    def test_greeting_capabilities_from_our_own_address(self):
        r = self.raw()
        greeting = r.line()
        self.assertRegex(greeting, r"^\* OK \[CAPABILITY IMAP4rev1 .*\] "
                                   r"Postern ready\.$")
        caps = greeting.split("[CAPABILITY ")[1].split("]")[0].split()
        for cap in ("IMAP4rev2", "SASL-IR", "ID", "ENABLE", "IDLE",
                    "LITERAL+", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN",
                    "AUTH=SCRAM-SHA-256"):
            self.assertIn(cap, caps)
        # rip = lip: secured, as in Dovecot.
        self.assertNotIn("LOGINDISABLED", caps)
        lines = r.cmd("c", "CAPABILITY")
        self.assertTrue(lines[0].startswith("* CAPABILITY IMAP4rev1"))
        self.assertTrue(lines[-1].startswith("c OK"))
        lines = r.cmd("i", 'ID ("name" "test<client>" "version" "1.0")')
        self.assertRegex(lines[0], r'^\* ID \("name" "Postern" "version" ')
        self.assertTrue(lines[-1].startswith("i OK"))
        self.log(r"dovecot\[\d+\]: imap-login: ID sent: name=test\?client\?, "
                 r"version=1\.0")
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        lines = r.cmd("l", "LOGOUT")
        self.assertEqual(lines[0], "* BYE Logging out")
        self.assertTrue(r.closed())
        self.log(r"imap-login: Disconnected: Logged out \(no auth attempts "
                 r"in \d+ secs\): user=<>, rip=127\.0\.0\.1, lip=127\.0\.0\.1")

    def test_logindisabled_without_tls(self):
        r = self.raw("127.0.0.2")
        caps = r.line()
        self.assertIn("LOGINDISABLED", caps)
        self.assertIn("STARTTLS", caps)
        self.assertNotIn("AUTH=PLAIN", caps)
        self.assertIn("AUTH=SCRAM-SHA-256", caps)
        lines = r.cmd("a", "LOGIN alice secret")
        self.assertTrue(lines[-1].startswith("a NO [PRIVACYREQUIRED]"))
        lines = r.cmd("b", "AUTHENTICATE PLAIN " +
                      base64.b64encode(b"\0alice\0secret").decode())
        self.assertTrue(lines[-1].startswith("b NO [PRIVACYREQUIRED]"))
        r.close()
        self.log(r"imap-login: Disconnected: Connection closed \(tried to use "
                 r"disallowed plaintext auth\): user=<alice>, "
                 r"rip=127\.0\.0\.2")

    def test_starttls_then_login_with_imaplib(self):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        self.addCleanup(close_quietly, c)
        # imaplib connects from 127.0.0.1: plaintext would be allowed;
        # STARTTLS anyway, then the capabilities lose STARTTLS.
        c.starttls(ssl_context=client_context())
        self.assertNotIn("STARTTLS", c.capabilities)
        typ, data = c.login("alice", "secret")
        self.assertEqual(typ, "OK")
        self.assertIn(b"Logged in", data[0])
        typ, data = c.capability()
        self.assertIn(b"COMPRESS=DEFLATE", data[0])
        self.assertIn(b"NAMESPACE", data[0])
        self.assertEqual(c.noop()[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")
        m = self.log(r"imap-login: Login: user=<alice>, method=PLAIN, "
                     r"rip=127\.0\.0\.1, lip=127\.0\.0\.1, mpid=(\d+), TLS, "
                     r"session=<[^>]+>")
        self.log(r"dovecot\[\d+\]: imap\(alice\)<\d+><[^>]+>: Disconnected: "
                 r"Logged out in=\d+ out=\d+ ")

    def test_starttls_from_another_address_allows_login(self):
        r = self.raw("127.0.0.2")
        r.line()
        self.assertEqual(r.cmd("s", "STARTTLS")[-1],
                         "s OK Begin TLS negotiation now.")
        r.sock = client_context().wrap_socket(r.sock)
        caps = r.cmd("c", "CAPABILITY")[0]
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertIn("AUTH=PLAIN", caps)
        self.assertNotIn("STARTTLS", caps)
        lines = r.cmd("a", "LOGIN alice secret")
        self.assertRegex(lines[-1], r"^a OK \[CAPABILITY .*\] Logged in$")
        # The worker answers through imap-login's TLS relay.
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        self.assertEqual(r.cmd("l", "LOGOUT")[-1], "l OK Logout completed.")
        self.log(r"imap-login: Login: user=<alice>, method=PLAIN, "
                 r"rip=127\.0\.0\.2, lip=127\.0\.0\.1, mpid=\d+, TLS")

    def test_implicit_tls_port(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port,
                              ssl_context=client_context(), timeout=30)
        self.addCleanup(close_quietly, c)
        self.assertNotIn("STARTTLS", c.capabilities)
        self.assertEqual(c.login("alice", "secret")[0], "OK")
        self.assertEqual(c.logout()[0], "BYE")
        self.log(r"Anonymous TLS connection established from 127\.0\.0\.1")

    def test_authenticate_plain_with_sasl_ir_and_continuation(self):
        r = self.raw()
        r.line()
        ir = base64.b64encode(b"\0alice\0secret").decode()
        lines = r.cmd("a", "AUTHENTICATE PLAIN " + ir)
        self.assertRegex(lines[-1], r"^a OK \[CAPABILITY .*\] Logged in$")
        r.cmd("l", "LOGOUT")
        # Without SASL-IR, through imaplib: "+ " then the response.
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        self.addCleanup(close_quietly, c)
        typ, _ = c.authenticate("PLAIN", lambda _: b"\0alice\0secret")
        self.assertEqual(typ, "OK")
        c.logout()
        # "*" cancels.
        r = self.raw()
        r.line()
        r.send("b AUTHENTICATE PLAIN\r\n")
        self.assertEqual(r.line(), "+ ")
        r.send("*\r\n")
        self.assertTrue(r.until_tagged("b")[-1].startswith("b BAD"))
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")

    def test_authenticate_login_mechanism(self):
        r = self.raw()
        r.line()
        r.send("a AUTHENTICATE LOGIN\r\n")
        self.assertEqual(base64.b64decode(r.line()[2:]), b"Username:")
        r.send(base64.b64encode(b"alice").decode() + "\r\n")
        self.assertEqual(base64.b64decode(r.line()[2:]), b"Password:")
        r.send(base64.b64encode(b"secret").decode() + "\r\n")
        self.assertRegex(r.until_tagged("a")[-1], r"^a OK \[CAPABILITY")
        self.log(r"imap-login: Login: user=<alice>, method=LOGIN, ")

    def test_authenticate_scram_sha_256_with_sasl_ir(self):
        """RFC 5802 through RFC 3501's continuations, proofs computed
        here; the server's signature is checked too."""
        r = self.raw("127.0.0.2")  # no TLS needed: no password is sent
        self.assertIn("AUTH=SCRAM-SHA-256", r.line())
        b64 = lambda text: base64.b64encode(text.encode()).decode()
        cnonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=alice,r={cnonce}"
        r.send("a AUTHENTICATE SCRAM-SHA-256 " + b64("n,," + first_bare)
               + "\r\n")
        server_first = base64.b64decode(r.line()[2:]).decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        self.assertTrue(attrs["r"].startswith(cnonce))
        salted = hashlib.pbkdf2_hmac("sha256", b"secret",
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c={b64('n,,')},r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        r.send(b64(without_proof + ",p=" + base64.b64encode(proof).decode())
               + "\r\n")
        server_final = base64.b64decode(r.line()[2:]).decode()
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        self.assertEqual(server_final, "v=" + base64.b64encode(hmac.new(
            server_key, auth_message, hashlib.sha256).digest()).decode())
        r.send("\r\n")
        self.assertRegex(r.until_tagged("a")[-1], r"^a OK \[CAPABILITY")
        self.log(r"imap-login: Login: user=<alice>, method=SCRAM-SHA-256, "
                 r"rip=127\.0\.0\.2")

    def test_wrong_password_is_logged_for_fail2ban(self):
        r = self.raw("127.0.0.3")
        r.line()
        r.cmd("s", "STARTTLS")
        r.sock = client_context().wrap_socket(r.sock)
        started = time.time()
        lines = r.cmd("a", "LOGIN alice wrong")
        self.assertEqual(lines[-1],
                         "a NO [AUTHENTICATIONFAILED] Authentication failed.")
        self.assertGreaterEqual(time.time() - started, 0.9)  # auth's delay
        r.close()
        line = self.log(r"imap-login: Disconnected: Connection closed \(auth "
                        r"failed, 1 attempts in \d+ secs\): user=<alice>, "
                        r"method=PLAIN, rip=127\.0\.0\.3, lip=127\.0\.0\.1, "
                        r"TLS, session=<[^>]+>")
        if not (shutil.which("fail2ban-regex") and os.path.exists(FILTER)):
            self.skipTest("fail2ban is not installed")
        only = os.path.join(self.inst.scratch, "imap-login.log")
        with open(self.inst.maillog) as f, open(only, "w") as out:
            for text in f:
                if "imap-login: Disconnected" in text and "127.0.0.3" in text:
                    out.write(text)
        found = subprocess.run(["fail2ban-regex", "--out", "ip", only, FILTER],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(found.returncode, 0, found.stderr)
        self.assertIn("127.0.0.3", found.stdout.split())

    def test_pipelined_plaintext_after_starttls_is_discarded(self):
        r = self.raw("127.0.0.2")
        r.line()
        r.send("s STARTTLS\r\nx LOGIN alice secret\r\n")
        self.assertEqual(r.line(), "s OK Begin TLS negotiation now.")
        r.sock = client_context().wrap_socket(r.sock)
        lines = r.cmd("n", "NOOP")
        self.assertEqual(lines, ["n OK NOOP completed."])

    # ---- after login ----

    def test_pipelined_commands_after_login_reach_the_worker(self):
        r = self.raw()
        r.line()
        r.send("a LOGIN alice secret\r\nb NOOP\r\nc ID NIL\r\n")
        self.assertRegex(r.until_tagged("a")[-1], r"^a OK \[CAPABILITY")
        self.assertEqual(r.until_tagged("b")[-1], "b OK NOOP completed.")
        self.assertEqual(r.until_tagged("c")[-1], "c OK ID completed.")

    def test_enable_namespace_and_the_command_table(self):
        r = self.logged_in_raw()
        lines = r.cmd("e", "ENABLE QRESYNC UTF8=ACCEPT X-UNKNOWN")
        self.assertEqual(lines[0], "* ENABLED QRESYNC UTF8=ACCEPT CONDSTORE")
        self.assertEqual(r.cmd("f", "ENABLE CONDSTORE")[0], "* ENABLED")
        self.assertEqual(r.cmd("n", "NAMESPACE")[0],
                         '* NAMESPACE (("" ".")) NIL NIL')
        self.assertRegex(r.cmd("s", "SELECT INBOX")[-1], r"^s NO \[SERVERBUG\]")
        self.assertEqual(r.cmd("u", "XYZZY")[-1], "u BAD Unknown command.")
        self.assertEqual(r.cmd("l", "LOGIN a b")[-1], "l BAD Already logged in.")

    def test_idle_and_done(self):
        r = self.logged_in_raw()
        r.send("i IDLE\r\n")
        self.assertEqual(r.line(), "+ idling")
        time.sleep(0.2)
        r.send("DONE\r\n")
        self.assertEqual(r.until_tagged("i")[-1], "i OK Idle completed.")
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")

    def test_compress_deflate_round_trip_and_logout_counts(self):
        r = self.logged_in_raw()
        # Pipelined behind COMPRESS: compressed already.
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        r.send("z COMPRESS DEFLATE\r\n")
        self.assertEqual(r.until_tagged("z")[-1], "z OK DEFLATE active.")
        r.deflate = deflate
        r.inflate = zlib.decompressobj(-15)
        r.buf = r.inflate.decompress(r.buf)
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        caps = r.cmd("c", "CAPABILITY")[0]
        self.assertNotIn("COMPRESS=DEFLATE", caps)
        self.assertTrue(r.cmd("y", "COMPRESS DEFLATE")[-1].startswith(
            "y NO [COMPRESSIONACTIVE]"))
        lines = r.cmd("l", "LOGOUT")
        self.assertEqual(lines, ["* BYE Logging out", "l OK Logout completed."])
        m = self.log(r"imap\(alice\)<\d+><[^>]+>: Disconnected: Logged out "
                     r"in=(\d+) out=(\d+) ")
        self.assertGreater(int(m.group(1)), 0)
        self.assertGreater(int(m.group(2)), 0)

    @unittest.skipUnless(is_root(), "needs root to run the worker as a user")
    def test_worker_runs_as_the_user_and_login_unprivileged(self):
        r = self.logged_in_raw()
        mpid = int(self.log(r"imap-login: Login: user=<alice>.*mpid=(\d+)")
                   .group(1))
        with open(f"/proc/{mpid}/status") as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
        gids = re.search(r"^Gid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
        self.assertEqual({int(x) for x in uids.groups()}, {USER_UID})
        self.assertEqual({int(x) for x in gids.groups()}, {USER_GID})
        logins = [p for p in self.inst.instance_pids()
                  if b"imap-login" in open(f"/proc/{p}/cmdline", "rb").read()]
        self.assertTrue(logins)
        for pid in logins:
            with open(f"/proc/{pid}/status") as f:
                s = f.read()
            self.assertRegex(s, rf"(?m)^Uid:\s+{self.inst.owner_uid}\s+"
                                rf"{self.inst.owner_uid}\s+"
                                rf"{self.inst.owner_uid}")
        r.cmd("l", "LOGOUT")

    def test_uid_below_the_minimum_is_refused(self):
        # (uid 0 never gets this far: the passwd-file refuses it.)
        r = self.raw()
        r.line()
        lines = r.cmd("a", "LOGIN low secret")
        self.assertTrue(lines[-1].startswith("a NO [UNAVAILABLE]"), lines)
        self.log(r"warning: refusing an IMAP session: user low has uid 50, "
                 r"below imapd_minimum_uid 100")

    # ---- hostile input ----

    def test_huge_literal_refused_before_login(self):
        r = self.raw()
        r.line()
        r.send("a LOGIN {999999999}\r\n")
        line = r.line()
        self.assertTrue(line.startswith("a BAD [TOOBIG]"), line)
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        # A non-synchronizing one too big to skip: answered, then closed.
        r.send("b LOGIN {99999999999+}\r\nxx\r\n")
        self.assertTrue(r.line().startswith("b BAD"))
        self.assertTrue(r.closed())

    def test_huge_literal_and_bad_commands_after_login(self):
        r = self.logged_in_raw()
        r.send("a NOOP {999999999}\r\n")
        self.assertTrue(r.line().startswith("a BAD [TOOBIG]"))
        self.assertEqual(r.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        r.send("".join(f"t{i} FROB\r\n" for i in range(40)))
        lines = []
        try:
            for _ in range(50):
                lines.append(r.line())
        except (EOFError, OSError):
            pass
        self.assertIn("* BYE Too many invalid IMAP commands.", lines)
        self.assertEqual(len([x for x in lines if x.endswith("Unknown command.")]),
                         19)  # + the refused literal: 20, then BYE
        self.log(r"imap\(alice\)<\d+><[^>]+>: Disconnected: Too many invalid "
                 r"IMAP commands\. in=")

    def test_flood_of_bad_commands_disconnects(self):
        r = self.raw()
        r.line()
        r.send("".join(f"t{i} FROB\r\n" for i in range(30)))
        lines = []
        try:
            for _ in range(40):
                lines.append(r.line())
        except (EOFError, OSError):
            pass
        self.assertIn("* BYE Too many invalid IMAP commands.", lines)
        self.assertLessEqual(len(lines), 12)
        self.log(r"imap-login: Disconnected: Too many invalid commands")


@unittest.skipUnless(BUILT, "imapd or auth not built")
class ImapdTimersTest(unittest.TestCase):
    """Short timers on the imapd service (-o reaches the forked workers):
    autologout after imapd_idle_timeout, IDLE's keepalives, and a worker
    with no session leaving after max_idle, a new one taking the next
    login."""

    def setUp(self):
        self.inst = inst = Instance(self)
        users = os.path.join(inst.etc, "users")
        with open(users, "w") as f:
            f.write(f"alice:{{PLAIN}}secret:{USER_UID}:{USER_GID}::"
                    f"{inst.root}::\n")
        inst.write_main_cf({"passdb": f"passwd-file:{users}"})
        self.port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{self.port}", "inet", "imap-login",
                         args=["-o", "imapd_login_timeout=2s"])
            + inst.service("imapd", "unix", "imapd", unpriv="n", maxproc=1,
                           args=["-o", "imapd_idle_timeout=2s",
                                 "-o", "imapd_idle_notify_interval=1s",
                                 "-o", "max_idle=2s"])
            + inst.service("auth", "unix", "auth", maxproc=1))
        inst.start()

    def login(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.line()
        self.assertRegex(r.cmd("a", "LOGIN alice secret")[-1], r"^a OK ")
        return r

    def test_login_timeout(self):
        mark = self.inst.log_mark()
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.line()
        self.assertEqual(r.line(), "* BYE Disconnected for inactivity.")
        self.assertTrue(r.closed())
        self.inst.wait_for_log(r"imap-login: Disconnected: Inactivity \(no "
                               r"auth attempts in \d+ secs\): user=<>",
                               since=mark)

    def test_stop_ends_the_workers_too(self):
        mark = self.inst.log_mark()
        self.login()
        mpid = int(self.inst.wait_for_log(r"Login: .*mpid=(\d+)",
                                          since=mark).group(1))
        self.assertTrue(os.path.exists(f"/proc/{mpid}"))
        self.inst.stop()
        self.inst.wait_until(lambda: not os.path.exists(f"/proc/{mpid}"),
                             timeout=15, what="the worker to stop")

    def test_autologout_and_idle_worker_exit(self):
        mark = self.inst.log_mark()
        r = self.login()
        mpid = int(self.inst.wait_for_log(r"Login: .*mpid=(\d+)",
                                          since=mark).group(1))
        started = time.time()
        self.assertEqual(r.line(), "* BYE Disconnected for inactivity.")
        self.assertTrue(r.closed())
        self.assertGreaterEqual(time.time() - started, 1.5)
        self.inst.wait_for_log(r"imap\(alice\)<\d+><[^>]+>: Disconnected: "
                               r"Inactivity - no input for 2 secs in=",
                               since=mark)
        # No session left: the worker leaves within max_idle (2 s) and
        # the dispatcher forks a fresh one for the next login.
        self.inst.wait_until(lambda: not os.path.exists(f"/proc/{mpid}"),
                             timeout=15, what="the idle worker to exit")
        mark = self.inst.log_mark()
        r2 = self.login()
        new = int(self.inst.wait_for_log(r"Login: .*mpid=(\d+)",
                                         since=mark).group(1))
        self.assertNotEqual(new, mpid)
        self.assertEqual(r2.cmd("n", "NOOP")[-1], "n OK NOOP completed.")
        # IDLE is at least 30 minutes (RFC 9051): 3 s in IDLE stays,
        # with a keepalive each imapd_idle_notify_interval.
        r2.send("i IDLE\r\n")
        self.assertEqual(r2.line(), "+ idling")
        time.sleep(3)
        r2.send("DONE\r\n")
        lines = r2.until_tagged("i")
        self.assertEqual(lines[-1], "i OK Idle completed.")
        self.assertIn("* OK Still here", lines)
        self.assertLessEqual(len(lines), 5)


@unittest.skipUnless(BUILT, "imapd or auth not built")
class ImapsCheckTest(unittest.TestCase):
    def test_check_names_imaps_without_certificate(self):
        inst = Instance(self)
        with open(os.path.join(os.path.dirname(os.path.dirname(
                os.path.dirname(os.path.abspath(__file__)))),
                "conf", "master.cf")) as f:
            shipped = f.read()
        # The shipped file as it is (imaps commented out) passes.
        inst.write_master_cf(shipped)
        proc = inst.postern("check")
        self.assertNotIn("needs TLS", proc.stderr)
        enabled = shipped.replace("#imaps ", "imaps ").replace(
            "#  -o imapd_tls_wrappermode=yes", "  -o imapd_tls_wrappermode=yes")
        self.assertNotEqual(enabled, shipped)
        inst.write_master_cf(enabled)
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("service imaps needs TLS (imapd_tls_wrappermode = yes) "
                      "but no certificate is configured", proc.stderr)


if __name__ == "__main__":
    unittest.main()
