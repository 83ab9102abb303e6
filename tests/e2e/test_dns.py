"""lib/dns/dns against real DNS servers on loopback (tests/helpers/dnsq):
every record type parsed from a real answer, NXDOMAIN against NODATA,
null MX, a malformed MX, the MX/A/AAAA verdicts of the domain lookup,
the synchronous helper, and a server that never answers (a timeout is
a temporary error, and lookups run in parallel, not one after another).
The servers are dnsmasq and a silent UDP socket (dns_util.py); nothing
outside 127.0.0.0/8 is asked."""
import os
import subprocess
import time
import unittest

from dns_util import Blackhole, Dnsmasq, dnsmasq_path
from instance import builddir

DNSQ = os.path.join(builddir(), "tests", "helpers", "dnsq")


def dnsq(server, *queries, timeout_ms=None, sync=False):
    """{query: (status line fields, [records])}, elapsed ms."""
    args = [DNSQ, "-s", server]
    if timeout_ms:
        args += ["-t", str(timeout_ms)]
    if sync:
        args.append("-S")
    out = subprocess.run(args + list(queries), capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    results, current, elapsed, pending = {}, None, None, None
    for line in out.stdout.splitlines():
        if line.startswith("  "):
            results[current][1].append(line.strip())
        elif line.startswith("elapsed_ms="):
            elapsed = int(line.split("=", 1)[1])
        elif line.startswith("pending="):
            pending = int(line.split("=", 1)[1])
        else:
            head, _, rest = line.partition(" ")
            fields = dict(kv.split("=", 1) for kv in rest.split(" ")
                          if "=" in kv)
            current = head
            results[head] = (fields, [])
    assert pending == 0, out.stdout
    return results, elapsed


@unittest.skipUnless(dnsmasq_path(), "dnsmasq not installed "
                     "(scripts/install-deps --test: dnsmasq-base)")
class RecordsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq()

    @classmethod
    def tearDownClass(cls):
        cls.dns.cleanup()

    def test_record_types(self):
        r, _ = dnsq(self.dns.server, "MX:mx.example", "A:mail.mx.example",
                    "AAAA:v6only.example", "A:both.example",
                    "AAAA:both.example", "TXT:txt.example",
                    "PTR:4.0.0.10.in-addr.arpa", "MX:MX.Example.")
        self.assertEqual(r["MX:mx.example"][0]["status"], "found")
        self.assertEqual(sorted(r["MX:mx.example"][1]),
                         ["10 mail.mx.example", "20 mail2.mx.example"])
        # Names come back lower case, without the trailing dot.
        self.assertEqual(sorted(r["MX:MX.Example."][1]),
                         ["10 mail.mx.example", "20 mail2.mx.example"])
        self.assertEqual(r["A:mail.mx.example"][1], ["127.0.0.2"])
        self.assertEqual(r["AAAA:v6only.example"][1], ["::5"])
        self.assertEqual(r["A:both.example"][1], ["127.0.0.6"])
        self.assertEqual(r["AAAA:both.example"][1], ["::6"])
        # TXT: the strings of one record concatenated.
        self.assertEqual(r["TXT:txt.example"][1],
                         ["v=spf1 -allsecond string"])
        self.assertEqual(r["PTR:4.0.0.10.in-addr.arpa"][1], ["aonly.example"])

    def test_nxdomain_nodata_and_invalid_names(self):
        r, _ = dnsq(self.dns.server, "A:nxd.example", "MX:aonly.example",
                    "A:bad_name!.example", "A:" + "a" * 64 + ".example")
        self.assertEqual(r["A:nxd.example"][0],
                         {"status": "notfound", "nxdomain": "1", "nullmx": "0",
                          "malformed": "0", "why": "NXDOMAIN"})
        self.assertEqual(r["MX:aonly.example"][0]["status"], "notfound")
        self.assertEqual(r["MX:aonly.example"][0]["nxdomain"], "0")
        # Not asked at all: no host name in DNS syntax.
        for q in ("A:bad_name!.example", "A:" + "a" * 64 + ".example"):
            self.assertEqual(r[q][0]["status"], "notfound", q)
            self.assertEqual(r[q][0]["why"], "invalid", q)
        asked = [name for _, name in self.dns.queries()]
        self.assertIn("nxd.example", asked)
        self.assertNotIn("bad_name!.example", asked)

    def test_null_mx_and_malformed_mx(self):
        r, _ = dnsq(self.dns.server, "MX:nullmx.example", "MX:badmx.example")
        self.assertEqual(r["MX:nullmx.example"][0]["nullmx"], "1")
        self.assertEqual(r["MX:nullmx.example"][1], ["0 ."])
        bad = r["MX:badmx.example"][0]
        self.assertEqual((bad["status"], bad["malformed"]), ("notfound", "1"))
        self.assertEqual(r["MX:badmx.example"][1], [])

    def test_domain_verdicts(self):
        names = ["mx", "aonly", "v6only", "nullmx", "nullmxa", "badmx", "nxd"]
        # (Not host:badmx: dnsmasq calls a name with only a --dns-rr record
        # NXDOMAIN for A; tests/unit/test_dns_rr.c covers that verdict.)
        queries = [f"{mode}:{n}.example" for mode in ("mail", "host")
                   for n in names if (mode, n) != ("host", "badmx")]
        r, _ = dnsq(self.dns.server, *queries)
        got = {q: r[q][0]["status"] for q in queries}
        self.assertEqual(got, {
            "mail:mx.example": "found", "host:mx.example": "found",
            "mail:aonly.example": "found", "host:aonly.example": "found",
            "mail:v6only.example": "found", "host:v6only.example": "found",
            # A null MX decides for mail even beside an address ...
            "mail:nullmx.example": "nullmx", "mail:nullmxa.example": "nullmx",
            # ... and counts for nothing for a host name.
            "host:nullmx.example": "notfound",
            "host:nullmxa.example": "found",
            "mail:badmx.example": "malformed",
            "mail:nxd.example": "notfound", "host:nxd.example": "notfound",
        })

    def test_sync_lookups(self):
        r, _ = dnsq(self.dns.server, "MX:mx.example", "A:nxd.example",
                    sync=True)
        self.assertEqual(sorted(r["MX:mx.example"][1]),
                         ["10 mail.mx.example", "20 mail2.mx.example"])
        self.assertEqual(r["A:nxd.example"][0]["nxdomain"], "1")


class SilentServerTest(unittest.TestCase):
    def test_timeout_is_temporary_and_lookups_overlap(self):
        with Blackhole() as hole:
            queries = [f"A:host{i}.example" for i in range(20)] + \
                      ["mail:slow.example", "host:slow.example"]
            start = time.monotonic()
            r, elapsed = dnsq(hole.server, *queries, timeout_ms=800)
            wall = time.monotonic() - start
            for q in queries:
                self.assertEqual(r[q][0]["status"], "tempfail", q)
                self.assertEqual(r[q][0]["why"], "timeout", q)
            # 22 lookups of 0.8 s each, all waiting at once.
            self.assertGreaterEqual(elapsed, 700)
            self.assertLess(elapsed, 2500)
            self.assertLess(wall, 5)
            self.assertGreater(hole.received(), 0)

    def test_sync_timeout(self):
        with Blackhole() as hole:
            r, elapsed = dnsq(hole.server, "MX:slow.example", timeout_ms=500,
                              sync=True)
            self.assertEqual(r["MX:slow.example"][0]["status"], "tempfail")
            self.assertGreaterEqual(elapsed, 450)
            self.assertLess(elapsed, 2000)


if __name__ == "__main__":
    unittest.main()
