"""dns_util.py: DNS servers on loopback for the tests of lib/dns/dns and of
smtpd's reject_unknown_* restrictions.

Dnsmasq runs dnsmasq (Debian package dnsmasq-base; no system service is
involved) in the foreground on a free UDP port of 127.0.0.1, with no
upstream servers, no /etc/hosts and only the records of TEST_ZONE, so it
never asks anything outside 127.0.0.0/8: names under .example that it
does not know are NXDOMAIN (--local). Blackhole is a UDP socket that
reads nothing and answers nothing: a name server that never replies.
Both give `server`, the "127.0.0.1@PORT" form of postern_dns_servers."""
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time

DNSMASQ_PATHS = ("/usr/sbin/dnsmasq", "/usr/bin/dnsmasq")

# The test zone: (option, value) pairs for dnsmasq.
TEST_ZONE = [
    ("--local", "/example/"),
    # A domain with two MX records; its exchanges have addresses.
    ("--mx-host", "mx.example,mail.mx.example,10"),
    ("--mx-host", "mx.example,mail2.mx.example,20"),
    ("--host-record", "mail.mx.example,127.0.0.2"),
    ("--host-record", "mail2.mx.example,127.0.0.3"),
    # Addresses only, no MX.
    ("--host-record", "aonly.example,127.0.0.4"),
    ("--host-record", "v6only.example,::5"),
    ("--host-record", "both.example,127.0.0.6,::6"),
    # RFC 7505 null MX: "0 ."; and a null MX beside an address.
    # bücher.example, in its A-label form (IDNA, lib/dns/idna.c)
    ("--mx-host", "xn--bcher-kva.example,mail.mx.example,10"),
    ("--mx-host", "nullmx.example,.,0"),
    ("--mx-host", "nullmxa.example,.,0"),
    ("--host-record", "nullmxa.example,127.0.0.7"),
    # An MX whose exchange is not a host name ("b!c.example").
    ("--dns-rr", "badmx.example,15,000a03622163076578616d706c6500"),
    ("--txt-record", "txt.example,v=spf1 -all,second string"),
    # A private address: resolved upstream, not by libunbound's own
    # RFC 1918 zones (dns.c sets unblock-lan-zones).
    ("--ptr-record", "4.0.0.10.in-addr.arpa,aonly.example"),
    # Delivery targets (test_targets.py): preferences 10, 20 (twice: the
    # shuffle), 30 (an exchange without address) and 40 (AAAA only).
    ("--mx-host", "tgt.example,t1.tgt.example,10"),
    ("--mx-host", "tgt.example,t2a.tgt.example,20"),
    ("--mx-host", "tgt.example,t2b.tgt.example,20"),
    ("--mx-host", "tgt.example,noaddr.tgt.example,30"),
    ("--mx-host", "tgt.example,v6.tgt.example,40"),
    ("--host-record", "t1.tgt.example,127.0.1.1"),
    ("--host-record", "t2a.tgt.example,127.0.1.2"),
    ("--host-record", "t2b.tgt.example,127.0.1.3"),
    ("--host-record", "v6.tgt.example,2001:db8::4"),
    ("--host-record", "self.tgt.example,127.0.0.1"),
    # No exchange has an address.
    ("--mx-host", "noaddr.example,nohost.tgt.example,10"),
    # We (127.0.0.1) are the backup MX; the best MX, and the only one.
    ("--mx-host", "backup.example,t1.tgt.example,10"),
    ("--mx-host", "backup.example,self.tgt.example,20"),
    ("--mx-host", "loop.example,self.tgt.example,10"),
    ("--mx-host", "loop.example,t1.tgt.example,20"),
    # The best MX has no address; the next one is us.
    ("--mx-host", "noprimary.example,nohost.tgt.example,10"),
    ("--mx-host", "noprimary.example,self.tgt.example,20"),
    # CNAMEs: a host name that is an alias, and an MX naming an alias.
    ("--cname", "alias.tgt.example,t1.tgt.example"),
    ("--mx-host", "cnmx.example,alias.tgt.example,10"),
    # TLSA (type 52) for _25._tcp.t1.tgt.example: 3 1 1 and 2 0 1.
    ("--dns-rr", "_25._tcp.t1.tgt.example,52,030101" + "ab" * 32),
    ("--dns-rr", "_25._tcp.t1.tgt.example,52,020001" + "cd" * 32),
    # MTA-STS (tests/e2e/test_mtasts.py): _mta-sts TXT records; the
    # policies are served by that test's HTTPS server. "multi" has two
    # STSv1 records (no policy), "spfonly" none of ours.
    ("--txt-record", "_mta-sts.enforce.sts.example,v=STSv1; id=e1;"),
    ("--txt-record", "_mta-sts.testing.sts.example,v=STSv1; id=t1"),
    ("--txt-record", "_mta-sts.redirect.sts.example,v=STSv1; id=r1"),
    ("--txt-record", "_mta-sts.ctype.sts.example,v=STSv1; id=c1"),
    ("--txt-record", "_mta-sts.untrusted.sts.example,v=STSv1; id=u1"),
    ("--txt-record", "_mta-sts.expire.sts.example,v=STSv1; id=x1"),
    ("--txt-record", "_mta-sts.down.sts.example,v=STSv1; id=d1"),
    ("--txt-record", "_mta-sts.newid.sts.example,v=STSv1; id=n1"),
    ("--txt-record", "_mta-sts.multi.sts.example,v=STSv1; id=m1"),
    ("--txt-record", "_mta-sts.multi.sts.example,v=STSv1; id=m2"),
    ("--txt-record", "_mta-sts.spfonly.sts.example,v=spf1 -all"),
    # The policy hosts' addresses: lib/mtasts looks mta-sts.DOMAIN up on
    # its own DNS client and hands the answer to libcurl. "resolved"'s
    # server listens on 127.0.0.9 alone; "noaddr" has none.
    ("--host-record", "mta-sts.enforce.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.testing.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.redirect.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.ctype.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.untrusted.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.expire.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.down.sts.example,127.0.0.1"),
    ("--host-record", "mta-sts.newid.sts.example,127.0.0.1"),
    ("--txt-record", "_mta-sts.resolved.sts.example,v=STSv1; id=v1"),
    ("--host-record", "mta-sts.resolved.sts.example,127.0.0.9"),
    ("--txt-record", "_mta-sts.noaddr.sts.example,v=STSv1; id=a1"),
]


def dnsmasq_path():
    for path in DNSMASQ_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("dnsmasq")


def _free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def query(port, name, qtype=1, timeout=0.5):
    """One DNS query over UDP to 127.0.0.1:port; the rcode, or None when
    nothing answered in time."""
    qid = random.randrange(65536)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode("ascii")
    packet += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(packet, ("127.0.0.1", port))
        reply, _ = s.recvfrom(4096)
    except OSError:
        return None
    finally:
        s.close()
    if len(reply) < 12 or struct.unpack(">H", reply[:2])[0] != qid:
        return None
    return reply[3] & 0x0F


class Dnsmasq:
    """dnsmasq serving TEST_ZONE on 127.0.0.1. Use as a context manager
    or call stop(). The queries it received are in queries()."""

    def __init__(self, zone=TEST_ZONE):
        self.binary = dnsmasq_path()
        if self.binary is None:
            raise FileNotFoundError("dnsmasq (Debian package dnsmasq-base)")
        self.dir = tempfile.mkdtemp(prefix="pt-dns-", dir="/tmp")
        self.log_path = os.path.join(self.dir, "dnsmasq.log")
        self.proc = None
        for _ in range(5):  # the free port may be taken before we bind it
            self.port = _free_udp_port()
            args = [self.binary, "--keep-in-foreground", "--conf-file=/dev/null",
                    f"--port={self.port}", "--listen-address=127.0.0.1",
                    "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--no-negcache", "--log-queries",
                    f"--log-facility={self.log_path}",
                    f"--pid-file={os.path.join(self.dir, 'pid')}"]
            if os.getuid() == 0:
                args.append("--user=root")  # stay able to write the log
            args += [f"{opt}={value}" for opt, value in zone]
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if query(self.port, "mx.example", 15, 0.2) == 0:
                    self.server = f"127.0.0.1@{self.port}"
                    return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("dnsmasq did not start: "
                           + (self.proc.stderr.read().decode(errors="replace")
                              if self.proc and self.proc.stderr else ""))

    def queries(self):
        """The names asked about so far, as (type, name) pairs."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return []
        found = []
        for line in text.splitlines():
            if "query[" in line:
                rest = line.split("query[", 1)[1]
                qtype, _, tail = rest.partition("] ")
                found.append((qtype, tail.split(" ", 1)[0]))
        return found

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


class Blackhole:
    """A UDP port on 127.0.0.1 that receives queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = f"127.0.0.1@{self.port}"

    def received(self):
        """How many datagrams arrived so far (drains them)."""
        count = 0
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)
                count += 1
        except BlockingIOError:
            pass
        return count

    def cleanup(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


NSD_PATHS = ("/usr/sbin/nsd",)
SIGNED_ZONE = "sec.example"
# The DNSSEC test zone (test_targets.py): an MX with A and AAAA, TLSA for
# the MX, and bogus.sec.example whose A record is changed after signing
# (its signature no longer matches: a validator calls it bogus).
SIGNED_ZONE_TEXT = """$ORIGIN sec.example.
$TTL 300
@ IN SOA ns.sec.example. hostmaster.sec.example. 1 3600 600 86400 300
@ IN NS ns.sec.example.
ns IN A 127.0.0.1
@ IN MX 10 mx.sec.example.
mx IN A 127.0.2.1
mx IN AAAA 2001:db8::21
_25._tcp.mx IN TLSA 3 1 1 """ + "ab" * 32 + """
alias IN CNAME mx.sec.example.
cnmx IN MX 10 alias.sec.example.
bogus IN A 127.0.2.9
bogusmx IN MX 10 bogus.sec.example.
"""


def signed_zone_tools():
    """The programs SignedZone needs, or None when one is missing."""
    nsd = next((p for p in NSD_PATHS if os.access(p, os.X_OK)), None) \
        or shutil.which("nsd")
    keygen = shutil.which("ldns-keygen")
    signzone = shutil.which("ldns-signzone")
    if not (nsd and keygen and signzone):
        return None
    return nsd, keygen, signzone


class SignedZone:
    """NSD (Debian package nsd) serving SIGNED_ZONE_TEXT, signed with
    ldns-signzone (package ldnsutils) under fresh keys, on a free UDP port
    of 127.0.0.1; `anchor` is a trust anchor file holding the zone's key
    signing key, so a validator that trusts it validates the zone.
    Names outside the zone are REFUSED. `text` replaces the zone's
    records (its origin stays sec.example; the readiness probe asks for
    mx.sec.example's A record). `unsigned` maps more zone names to their
    text, served unsigned beside it (outside the trust anchor: insecure
    to a validator)."""

    def __init__(self, text=SIGNED_ZONE_TEXT, unsigned=None):
        tools = signed_zone_tools()
        if tools is None:
            raise FileNotFoundError("nsd and ldnsutils")
        nsd, keygen, signzone = tools
        self.dir = tempfile.mkdtemp(prefix="pt-dnssec-", dir="/tmp")
        zone = os.path.join(self.dir, "zone")
        with open(zone, "w") as f:
            f.write(text)

        def run(*args):
            return subprocess.run(args, cwd=self.dir, check=True, timeout=60,
                                  capture_output=True, text=True).stdout.strip()
        ksk = run(keygen, "-a", "ECDSAP256SHA256", "-k", SIGNED_ZONE)
        zsk = run(keygen, "-a", "ECDSAP256SHA256", SIGNED_ZONE)
        run(signzone, "-n", "-f", zone + ".signed", zone, zsk, ksk)
        self.anchor = os.path.join(self.dir, ksk + ".key")
        # Break one signature: the record changes, its RRSIG does not.
        with open(zone + ".signed") as f:
            signed = f.read()
        broken = signed.replace("\t127.0.2.9\n", "\t127.0.2.8\n")
        assert broken != signed or text is not SIGNED_ZONE_TEXT
        with open(zone + ".signed", "w") as f:
            f.write(broken)
        self.proc = None
        for _ in range(5):  # the free port may be taken before nsd binds it
            self.port = _free_udp_port()
            conf = os.path.join(self.dir, "nsd.conf")
            with open(conf, "w") as f:
                f.write(f"""server:
    ip-address: 127.0.0.1
    port: {self.port}
    username: ""
    chroot: ""
    zonesdir: "{self.dir}"
    database: ""
    pidfile: "{self.dir}/nsd.pid"
    logfile: "{self.dir}/nsd.log"
    xfrdfile: "{self.dir}/xfrd.state"
    zonelistfile: "{self.dir}/zone.list"
    xfrdir: "{self.dir}"
    server-count: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: "{SIGNED_ZONE}"
    zonefile: "{zone}.signed"
""")
                for name, zone_text in (unsigned or {}).items():
                    path = os.path.join(self.dir, "unsigned." + name)
                    with open(path, "w") as z:
                        z.write(zone_text)
                    f.write(f"""zone:
    name: "{name}"
    zonefile: "{path}"
""")
            self.proc = subprocess.Popen([nsd, "-d", "-c", conf],
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if query(self.port, "mx." + SIGNED_ZONE, 1, 0.2) == 0:
                    self.server = f"127.0.0.1@{self.port}"
                    return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("nsd did not start: " + self._log())

    def _log(self):
        try:
            with open(os.path.join(self.dir, "nsd.log"),
                      errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False
