"""MTA-STS (lib/mtasts, docs/mta-sts.md) through tests/helpers/mtastsq:
the _mta-sts TXT records come from dnsmasq (dns_util.TEST_ZONE), the
policies from an HTTPS server in this test (http.server + ssl, with a
test CA and certificates made by the openssl CLI), all on 127.0.0.1;
postern_mta_sts_connect_to sends every mta-sts.* fetch to it. Covers an
enforce policy fetched then cached, testing mode, wildcard MX match and
mismatch, a refused redirect, a wrong Content-Type, an untrusted
certificate, the cache used while the server is down, a new id forcing
a refetch, max_age expiry, and TXT records that give no policy."""
import http.server
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from dns_util import TEST_ZONE, Dnsmasq, dnsmasq_path
from instance import builddir

MTASTSQ = os.path.join(builddir(), "tests", "helpers", "mtastsq")
POSTERN = os.path.join(builddir(), "tools", "postern")
HOSTS = ["enforce", "testing", "redirect", "ctype", "expire", "down", "newid",
         "resolved"]

POLICIES = {
    "enforce": "version: STSv1\r\nmode: enforce\r\nmx: mail.mx.example\r\n"
               "mx: *.backup.example\r\nmax_age: 86400\r\n",
    "testing": "version: STSv1\nmode: testing\nmx: *.mx.example\nmax_age: 86400\n",
    "ctype": "version: STSv1\nmode: enforce\nmx: mail.mx.example\nmax_age: 86400\n",
    "untrusted": "version: STSv1\nmode: enforce\nmx: mail.mx.example\nmax_age: 86400\n",
    "expire": "version: STSv1\nmode: enforce\nmx: mail.mx.example\nmax_age: 2\n",
    "down": "version: STSv1\nmode: enforce\nmx: down.mx.example\nmax_age: 86400\n",
    "newid": "version: STSv1\nmode: enforce\nmx: old.mx.example\nmax_age: 86400\n",
    "resolved": "version: STSv1\nmode: enforce\nmx: r.mx.example\nmax_age: 86400\n",
}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)


def make_certs(d):
    """ca.pem; server.pem/key signed by it for every mta-sts host;
    untrusted.pem/key self-signed for mta-sts.untrusted.sts.example."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Postern test CA",
            cwd=d)
    sans = ",".join(f"DNS:mta-sts.{h}.sts.example" for h in HOSTS)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write(f"subjectAltName={sans}\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=mta-sts.enforce.sts.example",
            cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "server.pem", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "untrusted.key", "-out", "untrusted.pem",
            "-subj", "/CN=mta-sts.untrusted.sts.example",
            "-addext", "subjectAltName=DNS:mta-sts.untrusted.sts.example",
            cwd=d)


class PolicyServer:
    """HTTPS on 127.0.0.1:PORT answering by Host header; requests logged."""

    def __init__(self, certfile, keyfile, policies, host="127.0.0.1"):
        server = self
        self.requests = []
        self.policies = policies

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                host = self.headers.get("Host", "").split(":")[0]
                name = host.split(".")[1] if host.count(".") >= 2 else ""
                server.requests.append((name, self.path))
                if self.path != "/.well-known/mta-sts.txt":
                    self.send_error(404)
                    return
                if name == "redirect":
                    self.send_response(301)
                    self.send_header("Location", "https://mta-sts.enforce."
                                     "sts.example/.well-known/mta-sts.txt")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = server.policies.get(name)
                if body is None:
                    self.send_error(404)
                    return
                body = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if name == "ctype"
                                 else "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def count(self, name):
        return sum(1 for n, _ in self.requests if n == name)

    def stop(self):
        if self.thread:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.thread = None


@unittest.skipUnless(dnsmasq_path(), "dnsmasq not installed "
                     "(scripts/install-deps --test: dnsmasq-base)")
@unittest.skipUnless(shutil.which("openssl"), "openssl CLI not installed")
class MtaStsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pt-mtasts-", dir="/tmp")
        make_certs(cls.dir)
        p = lambda name: os.path.join(cls.dir, name)
        cls.policies = dict(POLICIES)
        cls.server = PolicyServer(p("server.pem"), p("server.key"), cls.policies)
        cls.down_server = PolicyServer(p("server.pem"), p("server.key"),
                                       cls.policies)
        cls.untrusted = PolicyServer(p("untrusted.pem"), p("untrusted.key"),
                                     cls.policies)
        # Only on 127.0.0.9, the address dnsmasq gives its name.
        cls.resolved = PolicyServer(p("server.pem"), p("server.key"),
                                    cls.policies, host="127.0.0.9")
        cls.dns = Dnsmasq()
        cls.data = p("data")
        os.mkdir(cls.data)
        cls.write_config(cls.dns)

    @classmethod
    def write_config(cls, dns):
        # "resolved": the port only; the address is the one lib/mtasts
        # looked up on its DNS client (CURLOPT_RESOLVE).
        connect_to = ", ".join([
            f"mta-sts.resolved.sts.example:443::{cls.resolved.port}",
            f"mta-sts.untrusted.sts.example:443:127.0.0.1:{cls.untrusted.port}",
            f"mta-sts.down.sts.example:443:127.0.0.1:{cls.down_server.port}",
            f"::127.0.0.1:{cls.server.port}"])
        with open(os.path.join(cls.dir, "main.cf"), "w") as f:
            f.write(f"data_directory = {cls.data}\n"
                    f"postern_dns_servers = {dns.server}\n"
                    "postern_dns_timeout = 5s\n"
                    f"postern_mta_sts_ca_file = {cls.dir}/ca.pem\n"
                    f"postern_mta_sts_connect_to = {connect_to}\n"
                    "postern_mta_sts_connect_timeout = 3s\n"
                    "postern_mta_sts_fetch_timeout = 10s\n")

    @classmethod
    def tearDownClass(cls):
        for s in (cls.server, cls.down_server, cls.untrusted, cls.resolved):
            s.stop()
        cls.dns.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def ask(self, domain, *mx):
        out = subprocess.run([MTASTSQ, "-c", self.dir, domain, *mx],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        head, _, why = lines[0].partition(" why=")
        fields = dict(kv.split("=", 1) for kv in head.split(" "))
        fields["why"] = why
        verdicts = {}
        for line in lines[1:]:
            _, host, verdict = line.split(" ")
            verdicts[host] = verdict.split("=", 1)[1]
        return fields, verdicts

    def test_enforce_fetched_then_cached(self):
        # Another test may have cached it: start without an entry.
        entry = os.path.join(self.data, "mta-sts", "enforce.sts.example")
        if os.path.exists(entry):
            os.unlink(entry)
        f, v = self.ask("enforce.sts.example", "mail.mx.example",
                        "mx1.backup.example", "a.b.backup.example",
                        "backup.example", "other.example")
        self.assertEqual((f["result"], f["source"], f["id"]),
                         ("enforce", "fetched", "e1"), f)
        self.assertEqual(f["mx"], "mail.mx.example,*.backup.example")
        self.assertEqual(v, {"mail.mx.example": "verify",
                             "mx1.backup.example": "verify",
                             "a.b.backup.example": "skip",
                             "backup.example": "skip",
                             "other.example": "skip"})
        self.assertTrue(os.path.exists(
            os.path.join(self.data, "mta-sts", "enforce.sts.example")))
        fetches = self.server.count("enforce")
        f, v = self.ask("Enforce.STS.example.", "mail.mx.example")
        self.assertEqual((f["result"], f["source"]), ("enforce", "cache"), f)
        self.assertEqual(v["mail.mx.example"], "verify")
        self.assertEqual(self.server.count("enforce"), fetches)

    def test_postern_mta_sts_command(self):
        # What an administrator runs: the decision in key: value lines,
        # with the verdict of the MX hosts named, the cache written as
        # mail_owner when run as root.
        conf = tempfile.mkdtemp(prefix="pt-mtasts-cmd-", dir="/tmp")
        self.addCleanup(shutil.rmtree, conf, True)
        data = os.path.join(conf, "data")
        os.mkdir(data)
        with open(os.path.join(self.dir, "main.cf")) as f:
            main_cf = f.read().replace(f"data_directory = {self.data}\n",
                                       f"data_directory = {data}\n")
        if os.geteuid() == 0:
            # mail_owner reads the CA file and its configuration.
            nobody = pwd.getpwnam("nobody")
            os.chown(data, nobody.pw_uid, nobody.pw_gid)
            os.chmod(conf, 0o755)
            os.chmod(self.dir, 0o755)
            main_cf += "mail_owner = nobody\n"
        main_cf += f"maillog_file = {conf}/maillog\n"
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(main_cf)
        out = subprocess.run([POSTERN, "-c", conf, "mta-sts",
                              "testing.sts.example", "mail.mx.example",
                              "evil.example"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.splitlines(), [
            "domain: testing.sts.example",
            "result: testing",
            "source: fetched",
            "id: t1",
            "mode: testing",
            "max_age: 86400",
            "mx: *.mx.example",
            "why: fetched policy id t1",
            "mx-host: mail.mx.example testing-ok",
            "mx-host: evil.example testing-mismatch"])
        entry = os.path.join(data, "mta-sts", "testing.sts.example")
        self.assertTrue(os.path.exists(entry))
        if os.geteuid() == 0:
            self.assertEqual(os.stat(entry).st_uid,
                             pwd.getpwnam("nobody").pw_uid)
        # A bad command line.
        out = subprocess.run([POSTERN, "-c", conf, "mta-sts"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 2)
        self.assertIn("usage: postern", out.stderr)

    def test_testing_mode(self):
        f, v = self.ask("testing.sts.example", "mail.mx.example", "mx.example",
                        "evil.example")
        self.assertEqual((f["result"], f["source"]), ("testing", "fetched"), f)
        self.assertEqual(v, {"mail.mx.example": "testing-ok",
                             "mx.example": "testing-mismatch",
                             "evil.example": "testing-mismatch"})

    def test_redirect_refused(self):
        before = self.server.count("enforce")
        f, v = self.ask("redirect.sts.example", "mail.mx.example")
        self.assertEqual(f["result"], "none", f)
        self.assertIn("HTTP status 301", f["why"])
        self.assertEqual(v["mail.mx.example"], "any")
        self.assertEqual(self.server.count("redirect"), 1)
        self.assertEqual(self.server.count("enforce"), before)

    def test_wrong_content_type_refused(self):
        f, _ = self.ask("ctype.sts.example")
        self.assertEqual(f["result"], "none", f)
        self.assertIn("Content-Type text/html", f["why"])

    def test_untrusted_certificate_refused(self):
        f, _ = self.ask("untrusted.sts.example", "mail.mx.example")
        self.assertEqual(f["result"], "none", f)
        self.assertIn("policy fetch failed", f["why"])
        self.assertIn("certificate", f["why"].lower())
        self.assertFalse(os.path.exists(
            os.path.join(self.data, "mta-sts", "untrusted.sts.example")))

    def test_no_usable_txt_record(self):
        for domain in ("multi.sts.example", "spfonly.sts.example",
                       "absent.sts.example"):
            f, _ = self.ask(domain, "mail.mx.example")
            self.assertEqual((f["result"], f["source"]), ("none", "none"), f)
            self.assertIn("no valid _mta-sts TXT record", f["why"])

    def test_cache_when_down_and_new_id_refetch(self):
        f, _ = self.ask("down.sts.example", "down.mx.example")
        self.assertEqual((f["result"], f["source"], f["id"]),
                         ("enforce", "fetched", "d1"), f)
        f, _ = self.ask("newid.sts.example", "old.mx.example")
        self.assertEqual((f["source"], f["mx"]), ("fetched", "old.mx.example"))
        f, _ = self.ask("enforce.sts.example")
        self.assertEqual(f["result"], "enforce", f)
        self.policies["newid"] = self.policies["newid"].replace("old.", "new.")
        # New ids for both domains, and no record at all for enforce.
        zone = []
        for opt, value in TEST_ZONE:
            if value.startswith("_mta-sts.down."):
                value = value.replace("id=d1", "id=d2")
            elif value.startswith("_mta-sts.newid."):
                value = value.replace("id=n1", "id=n2")
            elif value.startswith("_mta-sts.enforce."):
                continue
            zone.append((opt, value))
        with Dnsmasq(zone) as dns2:
            self.write_config(dns2)
            try:
                # A new id: fetched again though the cache is fresh.
                f, _ = self.ask("newid.sts.example")
                self.assertEqual((f["source"], f["id"], f["mx"]),
                                 ("fetched", "n2", "new.mx.example"), f)
                self.down_server.stop()
                f, v = self.ask("down.sts.example", "down.mx.example", "x.example")
                self.assertEqual((f["result"], f["source"], f["id"]),
                                 ("enforce", "cache", "d1"), f)
                self.assertIn("policy fetch failed", f["why"])
                self.assertEqual(v, {"down.mx.example": "verify",
                                     "x.example": "skip"})
                # TXT gone, the policy cached and fresh: still enforced.
                f, v = self.ask("enforce.sts.example", "mail.mx.example")
                self.assertEqual((f["result"], f["source"]),
                                 ("enforce", "cache"), f)
                self.assertIn("no valid _mta-sts TXT record", f["why"])
                self.assertEqual(v["mail.mx.example"], "verify")
            finally:
                self.write_config(self.dns)

    def test_policy_host_resolved_by_our_dns_client(self):
        # dnsmasq gives mta-sts.resolved.sts.example 127.0.0.9, where
        # alone its server listens; the system resolver knows no such
        # name, so the fetch works only through postern_dns_servers.
        f, v = self.ask("resolved.sts.example", "r.mx.example")
        self.assertEqual((f["result"], f["source"], f["id"]),
                         ("enforce", "fetched", "v1"), f)
        self.assertEqual(self.resolved.count("resolved"), 1)
        # A policy host without an address: the fetch fails, no policy.
        f, _ = self.ask("noaddr.sts.example", "r.mx.example")
        self.assertEqual(f["result"], "none", f)
        self.assertIn("mta-sts.noaddr.sts.example: address lookup failed: "
                      "Host or domain name not found", f["why"])

    def test_max_age_expiry(self):
        f, _ = self.ask("expire.sts.example")
        self.assertEqual((f["source"], f["max_age"]), ("fetched", "2"), f)
        f, _ = self.ask("expire.sts.example")
        self.assertEqual(f["source"], "cache", f)
        self.policies["expire"] = self.policies["expire"].replace(
            "max_age: 2", "max_age: 600")
        time.sleep(3)
        f, _ = self.ask("expire.sts.example")
        self.assertEqual((f["source"], f["max_age"]), ("fetched", "600"), f)


if __name__ == "__main__":
    unittest.main()
