"""Delivery targets (lib/dns/targets) against real DNS servers on loopback,
through tests/helpers/dnstargets: MX preference order, equal preferences
shuffled per lookup, an exchange without address skipped, AAAA-only
hosts, inet_protocols and the address preference, the address limit,
null MX, NXDOMAIN, no exchange with an address, loop detection (we are
the backup MX, the best MX, a [host] next hop), CNAMEs (the name after
them is reported for TLS), next hops without MX lookup, TLSA records,
and failed lookups (a silent server, an exchange whose zone never
answers). DnssecTest validates a zone signed by the test itself (NSD
serving it, the test's own trust anchor): secure MX, address and TLSA
answers, insecure ones without the anchor, a bogus answer deferred. The
servers are dnsmasq, NSD and a silent UDP socket (dns_util.py); nothing
outside 127.0.0.0/8 is asked."""
import os
import subprocess
import unittest

from dns_util import (Blackhole, Dnsmasq, SignedZone, TEST_ZONE, dnsmasq_path,
                      signed_zone_tools)
from instance import builddir

DNSTARGETS = os.path.join(builddir(), "tests", "helpers", "dnstargets")


def resolve(server, *queries, options=()):
    """{query: (fields, [(pref, host, addr, port, secure, canonical)])}."""
    args = [DNSTARGETS, "-s", server] + list(options) + list(queries)
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    results, current, pending = {}, None, None
    for line in out.stdout.splitlines():
        if line.startswith("  "):
            results[current][1].append(tuple(line.split()))
        elif line.startswith("pending="):
            pending = int(line.split("=", 1)[1])
        elif line.startswith("elapsed_ms="):
            results["elapsed_ms"] = int(line.split("=", 1)[1])
        elif line.startswith("cancelled="):
            results["cancelled"] = int(line.split("=", 1)[1])
        else:
            head, _, rest = line.partition(" ")
            fields = {}
            if " reason=" in rest or rest.startswith("reason="):
                rest, _, reason = rest.partition("reason=")
                fields["reason"] = reason
            for kv in rest.split():
                key, _, value = kv.partition("=")
                fields[key] = value
            current = head
            results[head] = (fields, [])
    assert pending == 0, out.stdout
    return results


def addresses(result):
    return [t[2] for t in result[1]]


@unittest.skipUnless(dnsmasq_path(), "dnsmasq not installed "
                     "(scripts/install-deps --test: dnsmasq-base)")
class TargetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # An exchange in a zone whose server never answers: dnsmasq
        # forwards dead.example to a silent socket.
        cls.hole = Blackhole()
        cls.dns = Dnsmasq(TEST_ZONE + [
            ("--server", f"/dead.example/127.0.0.1#{cls.hole.port}"),
            ("--mx-host", "halfdead.example,mx.dead.example,10"),
            ("--mx-host", "halfdead.example,nohost.tgt.example,20"),
        ])

    @classmethod
    def tearDownClass(cls):
        cls.dns.cleanup()
        cls.hole.cleanup()

    def test_mx_order_and_skipped_exchange(self):
        r = resolve(self.dns.server, "tgt.example", options=["-n"])
        fields, targets = r["tgt.example"]
        self.assertEqual(fields["status"], "ok")
        self.assertEqual(fields["from_mx"], "1")
        # 10, the two of 20, no address for 30 (skipped), 40 AAAA only.
        self.assertEqual([(t[0], t[1]) for t in targets],
                         [("10", "t1.tgt.example"), ("20", "t2a.tgt.example"),
                          ("20", "t2b.tgt.example"), ("40", "v6.tgt.example")])
        self.assertEqual(addresses(r["tgt.example"]),
                         ["127.0.1.1", "127.0.1.2", "127.0.1.3",
                          "2001:db8::4"])
        self.assertTrue(all(t[3] == "25" for t in targets))
        self.assertTrue(all(t[4] == "secure=0" for t in targets))

    def test_equal_preferences_shuffled(self):
        # 16 lookups in one run: both orders of the two preference-20
        # exchanges show up (each lookup has its own shuffle), and the
        # preference order never changes.
        queries = [f"tgt.example:{2500 + i}" for i in range(16)]
        r = resolve(self.dns.server, *queries)
        orders = set()
        for q in queries:
            hosts = [t[1] for t in r[q][1]]
            self.assertEqual(hosts[0], "t1.tgt.example")
            self.assertEqual(hosts[3], "v6.tgt.example")
            orders.add(tuple(hosts[1:3]))
        self.assertEqual(orders, {("t2a.tgt.example", "t2b.tgt.example"),
                                  ("t2b.tgt.example", "t2a.tgt.example")})

    def test_protocols_preference_and_limit(self):
        r = resolve(self.dns.server, "tgt.example", options=["-n", "-4"])
        self.assertEqual(addresses(r["tgt.example"]),
                         ["127.0.1.1", "127.0.1.2", "127.0.1.3"])
        r = resolve(self.dns.server, "tgt.example", "[v6only.example]",
                    "[both.example]", options=["-n", "-6"])
        self.assertEqual(addresses(r["tgt.example"]), ["2001:db8::4"])
        self.assertEqual(addresses(r["[v6only.example]"]), ["::5"])
        self.assertEqual(addresses(r["[both.example]"]), ["::6"])
        r = resolve(self.dns.server, "[both.example]", options=["-P", "ipv6"])
        self.assertEqual(addresses(r["[both.example]"]), ["::6", "127.0.0.6"])
        r = resolve(self.dns.server, "[both.example]", options=["-P", "ipv4"])
        self.assertEqual(addresses(r["[both.example]"]), ["127.0.0.6", "::6"])
        r = resolve(self.dns.server, "tgt.example", options=["-n", "-l", "2"])
        self.assertEqual(len(r["tgt.example"][1]), 2)
        # The address limit keeps an IPv6 address (balance), or not.
        r = resolve(self.dns.server, "tgt.example", options=["-n", "-l", "3"])
        self.assertIn("2001:db8::4", addresses(r["tgt.example"]))

    def test_errors(self):
        r = resolve(self.dns.server, "nullmx.example", "nxd.example",
                    "noaddr.example", "[nxd.example]", "badmx.example")
        f = r["nullmx.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.1.0"))
        self.assertEqual(f["reason"],
                         "Domain nullmx.example does not accept mail (nullMX)")
        f = r["nxd.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.4.4"))
        self.assertEqual(f["reason"],
                         "Host or domain name not found. Name service error "
                         "for name=nxd.example type=AAAA: Host not found")
        f = r["noaddr.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.4.4"))
        self.assertIn("name=nohost.tgt.example type=AAAA: Host not found",
                      f["reason"])
        f = r["[nxd.example]"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.4.4"))
        f = r["badmx.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.4.4"))
        self.assertEqual(f["reason"],
                         "Name service error for name=badmx.example type=MX: "
                         "Malformed or unexpected name server reply")
        # With only IPv4 the last type asked is A.
        r = resolve(self.dns.server, "nxd.example", options=["-4"])
        self.assertIn("type=A: Host not found", r["nxd.example"][0]["reason"])

    def test_implicit_mx_and_no_lookup(self):
        r = resolve(self.dns.server, "aonly.example", "[mx.example]:2525",
                    "[192.0.2.1]", "[ipv6:2001:db8::1]:587", "v6only.example")
        fields, targets = r["aonly.example"]
        self.assertEqual(fields["from_mx"], "0")
        self.assertEqual(targets, [("0", "aonly.example", "127.0.0.4", "25",
                                    "secure=0", "canonical=")])
        # [host]: its own addresses, not its MX hosts.
        fields, targets = r["[mx.example]:2525"]
        self.assertEqual(fields["status"], "bounce")
        self.assertEqual(r["[192.0.2.1]"][1][0][2:4], ("192.0.2.1", "25"))
        self.assertEqual(r["[ipv6:2001:db8::1]:587"][1][0][2:4],
                         ("2001:db8::1", "587"))
        self.assertEqual(addresses(r["v6only.example"]), ["::5"])
        # No query at all for an address.
        before = len(self.dns.queries())
        resolve(self.dns.server, "[192.0.2.7]")
        self.assertEqual(len(self.dns.queries()), before)

    def test_loops(self):
        own = ["-i", "127.0.0.1", "-n"]
        r = resolve(self.dns.server, "backup.example", "loop.example",
                    "noprimary.example", "[self.tgt.example]",
                    "[self.tgt.example]:2525", "[127.0.0.1]",
                    options=own)
        fields, targets = r["backup.example"]
        self.assertEqual(fields["status"], "ok")
        self.assertEqual(fields["found_myself"], "1")
        self.assertEqual([t[1] for t in targets], ["t1.tgt.example"])
        f = r["loop.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("bounce", "5.4.6"))
        self.assertEqual(f["reason"], "mail for loop.example loops back to "
                                      "myself")
        f = r["noprimary.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("defer", "4.4.4"))
        self.assertEqual(f["reason"],
                         "unable to find primary relay for noprimary.example")
        f = r["[self.tgt.example]"][0]
        self.assertEqual(f["reason"],
                         "mail for self.tgt.example loops back to myself")
        # Another port is another service (a content filter): no loop.
        self.assertEqual(r["[self.tgt.example]:2525"][0]["status"], "ok")
        self.assertEqual(r["[127.0.0.1]"][0]["status"], "bounce")
        # Without our addresses the same names resolve.
        r = resolve(self.dns.server, "loop.example", options=["-n"])
        self.assertEqual(addresses(r["loop.example"]),
                         ["127.0.0.1", "127.0.1.1"])
        # LMTP never detects loops.
        r = resolve(self.dns.server, "inet:[127.0.0.1]:25",
                    options=own + ["-L"])
        self.assertEqual(r["inet:[127.0.0.1]:25"][0]["status"], "ok")

    def test_cname(self):
        r = resolve(self.dns.server, "cnmx.example", "[alias.tgt.example]")
        fields, targets = r["cnmx.example"]
        self.assertEqual(targets, [("10", "alias.tgt.example", "127.0.1.1",
                                    "25", "secure=0",
                                    "canonical=t1.tgt.example")])
        self.assertEqual(r["[alias.tgt.example]"][1][0][5],
                         "canonical=t1.tgt.example")

    def test_tlsa(self):
        r = resolve(self.dns.server, "tlsa:t1.tgt.example:25",
                    "tlsa:t2a.tgt.example:25")
        fields, records = r["tlsa:t1.tgt.example:25"]
        self.assertEqual(fields["status"], "found")
        self.assertEqual(fields["secure"], "0")  # no trust anchor here
        self.assertEqual(sorted(" ".join(x) for x in records),
                         ["2 0 1 " + "cd" * 32, "3 1 1 " + "ab" * 32])
        self.assertEqual(r["tlsa:t2a.tgt.example:25"][0]["status"],
                         "notfound")

    def test_failed_lookups(self):
        # An exchange whose zone never answers: skipped while another
        # exchange has no address either, the failure decides: defer.
        r = resolve(self.dns.server, "halfdead.example",
                    options=["-t", "1500"])
        f = r["halfdead.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("defer", "4.4.3"))
        self.assertIn("name=mx.dead.example type=A: Host not found, try "
                      "again", f["reason"])
        with Blackhole() as hole:
            r = resolve(hole.server, "slow.example", "[slow.example]",
                        options=["-t", "700"])
            f = r["slow.example"][0]
            self.assertEqual((f["status"], f["dsn"]), ("defer", "4.4.3"))
            self.assertEqual(f["reason"],
                             "Host or domain name not found. Name service "
                             "error for name=slow.example type=MX: Host not "
                             "found, try again")
            self.assertEqual(r["[slow.example]"][0]["status"], "defer")
            self.assertGreater(hole.received(), 0)

    def test_cancel(self):
        # Lookups waiting on a silent server, cancelled after 300 ms: no
        # callback follows (the helper aborts on one), nothing is left
        # pending in libunbound, and nobody waits for the 20 s timeout.
        with Blackhole() as hole:
            queries = ["slow.example", "[slow.example]",
                       "tlsa:slow.example:25", "[192.0.2.1]"]
            r = resolve(hole.server, *queries,
                        options=["-t", "20000", "-C", "300"])
            self.assertEqual(r["cancelled"], 3)  # the address was answered
            for q in queries[:3]:
                self.assertIn("cancelled", r[q][0], q)
            self.assertEqual(r["[192.0.2.1]"][0]["status"], "ok")
            self.assertLess(r["elapsed_ms"], 5000)
        # Cancelled at once, before the loop runs: an address next hop,
        # whose answer waits for the loop's next turn, stays silent too.
        r = resolve(self.dns.server, "[192.0.2.1]", "tgt.example",
                    options=["-C", "0"])
        self.assertEqual(r["cancelled"], 2)
        self.assertIn("cancelled", r["[192.0.2.1]"][0])


@unittest.skipUnless(signed_zone_tools(), "nsd or ldnsutils not installed "
                     "(scripts/install-deps --test)")
class DnssecTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.zone = SignedZone()

    @classmethod
    def tearDownClass(cls):
        cls.zone.cleanup()

    def test_validated(self):
        r = resolve(self.zone.server, "sec.example", "[mx.sec.example]:2525",
                    "cnmx.sec.example", "tlsa:mx.sec.example:25",
                    options=["-D", self.zone.anchor, "-n"])
        fields, targets = r["sec.example"]
        self.assertEqual((fields["status"], fields["mx_secure"]), ("ok", "1"))
        self.assertEqual(sorted(t[2] for t in targets),
                         ["127.0.2.1", "2001:db8::21"])
        self.assertTrue(all(t[4] == "secure=1" for t in targets))
        fields, targets = r["[mx.sec.example]:2525"]
        self.assertEqual(fields["mx_secure"], "0")  # no MX was asked
        self.assertTrue(all(t[4] == "secure=1" for t in targets))
        # A secure CNAME: the name after it is reported for TLS.
        fields, targets = r["cnmx.sec.example"]
        self.assertEqual(fields["mx_secure"], "1")
        self.assertTrue(all(t[4] == "secure=1" and
                            t[5] == "canonical=mx.sec.example"
                            for t in targets))
        fields, records = r["tlsa:mx.sec.example:25"]
        self.assertEqual((fields["status"], fields["secure"]), ("found", "1"))
        self.assertEqual(records, [("3", "1", "1", "ab" * 32)])

    def test_without_anchor_nothing_is_secure(self):
        r = resolve(self.zone.server, "sec.example", "tlsa:mx.sec.example:25",
                    "[bogus.sec.example]")
        fields, targets = r["sec.example"]
        self.assertEqual((fields["status"], fields["mx_secure"]), ("ok", "0"))
        self.assertTrue(all(t[4] == "secure=0" for t in targets))
        self.assertEqual(r["tlsa:mx.sec.example:25"][0]["secure"], "0")
        # Unchecked, the forged address is taken.
        self.assertEqual(addresses(r["[bogus.sec.example]"]), ["127.0.2.8"])

    def test_bogus_is_temporary(self):
        r = resolve(self.zone.server, "[bogus.sec.example]",
                    "bogusmx.sec.example",
                    options=["-D", self.zone.anchor, "-4"])
        f = r["[bogus.sec.example]"][0]
        self.assertEqual((f["status"], f["dsn"]), ("defer", "4.4.3"))
        self.assertEqual(f["reason"],
                         "Host or domain name not found. Name service error "
                         "for name=bogus.sec.example type=A: Host not found, "
                         "try again")
        f = r["bogusmx.sec.example"][0]
        self.assertEqual((f["status"], f["dsn"]), ("defer", "4.4.3"))


if __name__ == "__main__":
    unittest.main()
