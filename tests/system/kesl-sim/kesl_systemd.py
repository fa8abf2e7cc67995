# SPDX-License-Identifier: LGPL-2.1-or-later
"""Simulated KESL package (tests/system): protection runs as kesl.service.

The fixtures' simulator (avmsim.Sim) starts avm-blocker as a detached child
of whoever calls kesl-control. Under systemd that child would live in the
caller's cgroup: in avmigrated.service when the daemon's worker starts the
task, so it would be killed with the daemon (KillMode=mixed) and a crashed
daemon would take the old product's protection with it, which the real
product does not do. Here task 1 (File_Threat_Protection) is the unit
kesl.service instead:

  start  = save the state (rtp on) first, "systemctl start kesl.service",
           wait for the blocker's ready file (5 s);
  stop   = "systemctl stop kesl.service" (the blocker exits on SIGTERM);
  SIGKILL (avm-sim kill-blocker) = "systemctl kill -s KILL kesl.service".

kesl.service runs the same avm-blocker command line the simulator would
(same pidfile), so the simulator's status (pid alive, its cmdline names our
pidfile) and the unit agree; its ExecCondition (kesl-rtp-wanted) makes it
start at boot only when the saved state wants protection, as a stopped task
stays stopped across a reboot on the real product.
"""
import os
import signal
import subprocess
import time

import avmsim

UNIT = "kesl.service"


def _systemctl(*args):
    try:
        r = subprocess.run(["systemctl", "--no-ask-password"] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, str(e)
    return r.returncode, r.stdout.decode("utf-8", "replace").strip()


def start_blocker(self, timeout=5.0):
    if self.protecting():
        return None
    if self.state is not None:
        self.save()          # kesl-rtp-wanted (ExecCondition) reads the saved state
    rc, msg = _systemctl("start", UNIT)
    if rc != 0:
        return "systemctl start %s failed: %s" % (UNIT, msg)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if self.protecting() and os.path.exists(self.path("blocker.ready")):
            return None
        rc, _ = _systemctl("is-active", "--quiet", UNIT)
        if rc != 0 and not self.protecting():
            time.sleep(0.05)
            rc2, state = _systemctl("is-active", UNIT)
            if state in ("failed", "inactive"):
                return "%s is %s: %s" % (UNIT, state, self._last_err())
        time.sleep(0.02)
    return "avm-blocker not ready after %.0f s" % timeout


def stop_blocker(self, sig=signal.SIGTERM, timeout=5.0):
    if sig == signal.SIGKILL:
        _systemctl("kill", "-s", "KILL", UNIT)
        for _ in range(250):
            if self.blocker_pid() is None:
                break
            time.sleep(0.02)
        return
    _systemctl("stop", UNIT)
    for n in ("blocker.pid", "blocker.ready"):
        try:
            os.unlink(self.path(n))
        except FileNotFoundError:
            pass


avmsim.Sim.start_blocker = start_blocker
avmsim.Sim.stop_blocker = stop_blocker
