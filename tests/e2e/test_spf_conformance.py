"""The SPF conformance suites: every case of the openspf RFC 7208 suite
(203 cases) and the RFC 4408 suite (191), from
../shared/conformance/spf/, through lib/spf's check_host().

Each scenario's zone data becomes lines for tests/helpers/spfcheck
(lib/spf/spf_zone.h), which answers the DNS from them. The zone data is
read as the suite's own driver (pyspf's testspf.py) reads it: SPF-type
records are also TXT records unless the name has TXT records of its own,
"NONE" is no record, TIMEOUT makes every query for the name fail. A case
passes when the result is one of those allowed and, where the suite
gives one, the explanation is ours ("DEFAULT": none from exp=).

Every suite runs twice: once with answers at hand, once with a zone that
first answers "pending" to every query (as the DNS in smtpd does), so the
replayed evaluation must reach the same results."""
import os
import subprocess
import unittest

import instance

try:
    import yaml
except ImportError:  # python3-yaml: scripts/install-deps --test
    yaml = None

SUITES = {"rfc7208-tests.yml": 203, "rfc4408-tests.yml": 191}


def conformance_dir():
    base = os.environ.get("POSTERN_CONFORMANCE_DIR") or os.path.join(
        instance.TOP, "..", "shared", "conformance")
    return os.path.join(base, "spf")


def text_bytes(value):
    """A TXT/SPF value: a string or a list of strings, glued together."""
    if isinstance(value, list):
        value = "".join(value)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def zone_lines(zonedata):
    lines = []
    for name, records in zonedata.items():
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in records)
        for rec in records:
            if rec == "TIMEOUT":
                lines.append(f"zone\t{name}\tTIMEOUT")
                continue
            for rtype, value in rec.items():
                if value == "NONE":
                    continue
                if rtype == "SPF":
                    if has_txt:
                        continue
                    rtype = "TXT"
                if rtype == "TXT":
                    lines.append(f"zone\t{name}\tTXTHEX\t{text_bytes(value).hex()}")
                elif rtype == "MX":
                    lines.append(f"zone\t{name}\tMX\t{value[0]} {value[1]}")
                else:
                    lines.append(f"zone\t{name}\t{rtype}\t{value}")
    return lines


def load_suite(path):
    """(input lines for spfcheck, {case id: (name, case)})."""
    lines, cases = [], {}
    with open(path, encoding="utf-8") as f:
        for number, scenario in enumerate(yaml.safe_load_all(f)):
            lines.append("clear")
            lines.extend(zone_lines(scenario.get("zonedata") or {}))
            for name, case in scenario["tests"].items():
                case_id = f"{number}:{name}"
                cases[case_id] = (scenario["description"], name, case)
                lines.append("\t".join(["check", case_id, case["host"],
                                        case["mailfrom"], case["helo"]]))
    return lines, cases


def run_spfcheck(lines, delay):
    helper = os.path.join(instance.builddir(), "tests", "helpers", "spfcheck")
    args = [helper] + (["-d"] if delay else [])
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    proc = subprocess.run(args, input=data, capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"spfcheck failed: {proc.stderr.decode(errors='replace')}")
    results = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        fields = line.split("\t")
        results[fields[0]] = fields
    return results


@unittest.skipIf(yaml is None, "python3-yaml is not installed")
class SpfConformance(unittest.TestCase):
    def run_suite(self, filename, delay):
        path = os.path.join(conformance_dir(), filename)
        if not os.path.exists(path):
            self.skipTest(f"no conformance data at {path}")
        lines, cases = load_suite(path)
        self.assertEqual(len(cases), SUITES[filename])
        results = run_spfcheck(lines, delay)
        failures = []
        for case_id, (scenario, name, case) in cases.items():
            allowed = case["result"] if isinstance(case["result"], list) else [case["result"]]
            got = results.get(case_id)
            problem = None
            if got is None:
                problem = "no result"
            elif got[1] not in allowed:
                problem = f"result {got[1]}, expected {'/'.join(allowed)} (problem: {got[4]})"
            elif "explanation" in case and got[1] == "fail":
                want = case["explanation"]
                have = got[3] or "DEFAULT"
                if have != want:
                    problem = f"explanation {have!r}, expected {want!r}"
            if problem:
                failures.append(f"{name} ({scenario}): {problem}")
        passed = len(cases) - len(failures)
        print(f"\n{filename}{' (replayed)' if delay else ''}: "
              f"{passed} of {len(cases)} cases pass", flush=True)
        self.assertEqual(failures, [], "\n".join(failures))

    def test_rfc7208(self):
        self.run_suite("rfc7208-tests.yml", delay=False)

    def test_rfc7208_replayed(self):
        self.run_suite("rfc7208-tests.yml", delay=True)

    def test_rfc4408(self):
        self.run_suite("rfc4408-tests.yml", delay=False)

    def test_rfc4408_replayed(self):
        self.run_suite("rfc4408-tests.yml", delay=True)


if __name__ == "__main__":
    unittest.main()
