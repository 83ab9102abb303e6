"""Many sessions at once in one event-mode smtpd: every message that got
a 250 is in incoming/ under the id the reply named, complete, and with
its own content (group commit shares directory fsyncs, never files)."""
import threading
import unittest

from smtpd_util import SmtpdInstance, Raw

SESSIONS = 40
MESSAGES = 5


class ConcurrencyTest(unittest.TestCase):
    def test_parallel_sessions(self):
        inst = SmtpdInstance(self, main_cf={"smtpd_io_threads": "3"})
        results, errors = {}, []

        def session(n):
            try:
                with Raw(inst.port) as c:
                    c.cmd("EHLO client.example")
                    for m in range(MESSAGES):
                        tag = f"s{n}m{m}"
                        c.send(b"MAIL FROM:<a@b.example>\r\n"
                               b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
                        replies = [c.reply()[0] for _ in range(3)]
                        if replies != [250, 250, 354]:
                            errors.append((tag, replies))
                            return
                        c.send(f"Subject: {tag}\r\n\r\n{tag} body\r\n"
                               f"{'x' * (n * 37 % 900)}\r\n.\r\n".encode())
                        code, lines = c.reply()
                        if code != 250:
                            errors.append((tag, code, lines))
                            return
                        results[tag] = lines[0].rsplit(" ", 1)[1]
                    c.cmd("QUIT")
            except Exception as exc:  # reported below
                errors.append((n, repr(exc)))

        threads = [threading.Thread(target=session, args=(n,))
                   for n in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), SESSIONS * MESSAGES)
        self.assertEqual(len(set(results.values())), SESSIONS * MESSAGES)
        self.assertEqual(sorted(inst.incoming()), sorted(results.values()))
        for tag, qid in results.items():
            content = inst.qfile(qid)["content"]
            self.assertIn(f"\nSubject: {tag}\n\n{tag} body\n", content)


if __name__ == "__main__":
    unittest.main()
