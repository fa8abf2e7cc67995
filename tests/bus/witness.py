#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares what the outside witness saw with the gap the daemon reports.

The witness (tests/fixtures/avm-witness, run as an unprivileged user) reads
an EICAR file every few milliseconds and logs lines

    <mono usec> <boottime usec> <realtime usec> readable|denied|error:<ERRNO>

on every change of outcome (plus heartbeats), and on SIGTERM

    SUMMARY samples=N readable=N denied=N errors=N readable_usec=U windows=S-E,...

The report is the JSON of `avmigratectl --json report` / GetReport: "gaps" is
a list of {"start_mono", "end_mono" (0 = still open), "usec", ...}; the
job's total is "gap_usec" (top level or in "summary").

Claims checked (all on CLOCK_MONOTONIC, tolerance T = one witness interval
+ 2 ms on each side of a window):
  1. the log is complete (SUMMARY present) and consistent (the windows of the
     SUMMARY are those of the change lines);
  2. every readable window [S, E] lies inside the union of the reported gap
     windows, each widened by T on both sides;
  3. readable_usec <= the reported total gap + T per readable window (each
     window's two ends are only known to within a sample); not checked when
     a reported window is still open (its total is no bound);
  4. no sample ended in an error (the witness could not witness).

Usable from bash:
    python3 tests/bus/witness.py check WITNESS_LOG REPORT_JSON [--interval-ms N]
prints "witness: OK ..." and exits 0, or one "witness: VIOLATION: ..." line
per violation and exits 1; 2 on unreadable input.
    python3 tests/bus/witness.py windows WITNESS_LOG
prints the readable windows.
"""
import json
import re
import sys

SLACK_USEC = 2000
DEFAULT_INTERVAL_MS = 5
MAX_LOG_BYTES = 64 << 20
MAX_REPORT_BYTES = 64 << 20
INF = float("inf")

_SAMPLE = re.compile(r"^(\d+) (\d+) (\d+) (readable|denied|error:[A-Z0-9]+)$")
_WINDOW = re.compile(r"^(\d+)-(\d+)$")


class WitnessError(Exception):
    """The input cannot be read or parsed."""


class WitnessLog:
    """A parsed witness log."""

    def __init__(self):
        self.samples = []      # [(mono, boot, real, outcome)] in log order
        self.summary = None    # {"samples": N, ..., "windows": [(s, e)], "windows_dropped": N}


def parse_log(text):
    """Parses the text of a witness log into a WitnessLog."""
    log = WitnessLog()
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("SUMMARY "):
            if log.summary is not None:
                raise WitnessError("line %d: a second SUMMARY" % no)
            log.summary = _parse_summary(line, no)
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise WitnessError("line %d: not a witness line: %r" % (no, line[:200]))
        mono = int(m.group(1))
        if log.samples and mono < log.samples[-1][0]:
            raise WitnessError("line %d: CLOCK_MONOTONIC went backwards" % no)
        log.samples.append((mono, int(m.group(2)), int(m.group(3)), m.group(4)))
    return log


def _parse_summary(line, no):
    fields = {}
    for tok in line.split()[1:]:
        k, sep, v = tok.partition("=")
        if not sep:
            raise WitnessError("line %d: bad SUMMARY field %r" % (no, tok[:80]))
        fields[k] = v
    s = {}
    for k in ("samples", "readable", "denied", "errors", "readable_usec"):
        if k not in fields or not fields[k].isdigit():
            raise WitnessError("line %d: SUMMARY without a number %s=" % (no, k))
        s[k] = int(fields[k])
    s["windows_dropped"] = int(fields.get("windows_dropped", "0") or 0)
    wins = []
    for w in filter(None, fields.get("windows", "").split(",")):
        m = _WINDOW.match(w)
        if not m or int(m.group(2)) < int(m.group(1)):
            raise WitnessError("line %d: bad SUMMARY window %r" % (no, w[:80]))
        wins.append((int(m.group(1)), int(m.group(2))))
    s["windows"] = wins
    return s


def read_log(path):
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LOG_BYTES + 1)
    except OSError as e:
        raise WitnessError("cannot read witness log %s: %s" % (path, e.strerror))
    if len(data) > MAX_LOG_BYTES:
        raise WitnessError("witness log %s is larger than %d bytes" % (path, MAX_LOG_BYTES))
    return parse_log(data.decode("ascii", "replace"))


def line_windows(log):
    """Readable windows from the change lines: a run starts at the first
    readable line and ends at the next non-readable line (the last line's
    time when the log ends readable)."""
    wins, start = [], None
    for mono, _, _, outcome in log.samples:
        if outcome == "readable":
            if start is None:
                start = mono
        elif start is not None:
            wins.append((start, mono))
            start = None
    if start is not None:
        wins.append((start, log.samples[-1][0]))
    return wins


def readable_windows(log):
    """The readable windows: the SUMMARY's when there is one (exact end of
    an open window), else those of the lines."""
    if log.summary is not None:
        return list(log.summary["windows"])
    return line_windows(log)


def read_report(path):
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_REPORT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_REPORT_BYTES + 1)
    except OSError as e:
        raise WitnessError("cannot read report %s: %s" % (path, e.strerror))
    if len(data) > MAX_REPORT_BYTES:
        raise WitnessError("report %s is larger than %d bytes" % (path, MAX_REPORT_BYTES))
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise WitnessError("report %s is not JSON: %s" % (path, e))


def report_gaps(report):
    """[(start_mono, end_mono)] of the report; an open window (end_mono 0)
    ends at infinity: the report says protection has not come back."""
    if not isinstance(report, dict) or not isinstance(report.get("gaps", []), list):
        raise WitnessError("report has no \"gaps\" list")
    out = []
    for g in report.get("gaps", []):
        if not isinstance(g, dict) or not isinstance(g.get("start_mono"), int):
            raise WitnessError("report gap without an integer start_mono: %r" % (g,))
        end = g.get("end_mono", 0)
        if not isinstance(end, int):
            raise WitnessError("report gap with a non-integer end_mono: %r" % (g,))
        out.append((g["start_mono"], INF if end == 0 else end))
    return out


def report_total(report):
    """The job's total gap (µs): "gap_usec" at the top or in "summary"."""
    for o in (report, report.get("summary") if isinstance(report, dict) else None):
        if isinstance(o, dict) and isinstance(o.get("gap_usec"), int):
            return o["gap_usec"]
    raise WitnessError("report has no gap_usec (top level or summary)")


def union(intervals):
    """Sorted, merged intervals (touching ones merged)."""
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _consistent(summary_wins, line_wins):
    """The SUMMARY's windows are the lines' (a last window still open at
    exit ends at the exit time, after the last line)."""
    if len(summary_wins) != len(line_wins):
        return False
    if summary_wins[:-1] != line_wins[:-1]:
        return False
    if not summary_wins:
        return True
    (ss, se), (ls, le) = summary_wins[-1], line_wins[-1]
    return ss == ls and se >= le


def _fmt(t):
    return "open" if t == INF else str(int(t))


def check(log, report, interval_ms=DEFAULT_INTERVAL_MS):
    """Returns (violations, message): violations is a list of reasons."""
    tol = interval_ms * 1000 + SLACK_USEC
    gaps = report_gaps(report)
    total = report_total(report)
    v = []

    if log.summary is None:
        v.append("the witness log has no SUMMARY line: the witness did not finish "
                 "(stop it with SIGTERM after the migration)")
    elif log.summary["windows_dropped"] == 0 and not _consistent(log.summary["windows"], line_windows(log)):
        v.append("the witness log is inconsistent: SUMMARY windows %s, change lines give %s"
                 % (log.summary["windows"][:5], line_windows(log)[:5]))
    if not log.samples:
        v.append("the witness log has no sample")
    errs = [s for s in log.samples if s[3].startswith("error:")]
    if errs:
        v.append("the witness could not read its file at %d µs (%s): it did not witness"
                 % (errs[0][0], errs[0][3]))

    wins = readable_windows(log)
    allowed = union([(s - tol, e + tol) for s, e in gaps])
    for s, e in wins:
        if not any(a <= s and e <= b for a, b in allowed):
            near = ", ".join("[%s, %s]" % (_fmt(a), _fmt(b)) for a, b in gaps) or "none"
            v.append("readable window %d-%d (%d µs) lies outside every reported gap window "
                     "(reported: %s; tolerance %d µs each side)" % (s, e, e - s, near, tol))

    readable = log.summary["readable_usec"] if log.summary else sum(e - s for s, e in wins)
    limit = total + tol * max(1, len(wins))
    # An open window (end_mono 0) admits that protection had not come back
    # when the report was taken; its total is no bound on what came after.
    if readable > limit and not any(e == INF for _, e in gaps):
        v.append("the witness saw %d µs readable, more than the reported total gap %d µs "
                 "+ %d µs tolerance (%d readable windows)" % (readable, total, limit - total, len(wins)))

    msg = ("%d readable window(s), %d µs readable, inside %d reported gap window(s), reported total %d µs "
           "(tolerance %d µs)" % (len(wins), readable, len(gaps), total, tol))
    return v, msg


def main(argv):
    usage = ("usage: witness.py check WITNESS_LOG REPORT_JSON [--interval-ms N]\n"
             "       witness.py windows WITNESS_LOG\n")
    if len(argv) >= 1 and argv[0] in ("-h", "--help"):
        sys.stdout.write(usage)
        return 0
    try:
        if len(argv) == 2 and argv[0] == "windows":
            log = read_log(argv[1])
            for s, e in readable_windows(log):
                print("%d-%d %d" % (s, e, e - s))
            return 0
        if len(argv) in (3, 5) and argv[0] == "check":
            interval = DEFAULT_INTERVAL_MS
            if len(argv) == 5:
                if argv[3] != "--interval-ms" or not argv[4].isdigit() or not 1 <= int(argv[4]) <= 10:
                    sys.stderr.write(usage)
                    return 2
                interval = int(argv[4])
            violations, msg = check(read_log(argv[1]), read_report(argv[2]), interval)
            for r in violations:
                print("witness: VIOLATION: " + r)
            if violations:
                print("witness: " + msg)
                return 1
            print("witness: OK: " + msg)
            return 0
    except WitnessError as e:
        print("witness: cannot check: %s" % e, file=sys.stderr)
        return 2
    sys.stderr.write(usage)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
