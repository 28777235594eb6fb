"""Preloaded first by the process pool's fork server: deaf to Ctrl-C, and dies with its parent.

**Ctrl-C.** Ctrl-C in a terminal reaches the whole foreground process group.
The parent turns it into one line ("interrupted: N of M runs are saved ...")
and stops the pool; a fork server or worker that caught it too, often in the
middle of importing the model, would only spray tracebacks over that line. The
fork server ignores SIGINT before its heavy preload, and the workers it forks
inherit that.

**No orphans.** When the parent is killed outright (SIGKILL, the OOM killer),
nothing in Python runs to stop the pool: pool workers block for ever on their
task queue and the fork server waits on its socket, holding the parent's
output pipes. So the fork server and every worker ask the kernel to kill them
when their parent dies: `prctl(PR_SET_PDEATHSIG, SIGKILL)` (Linux, through
ctypes; the fork server's parent is simkit, a worker's parent is the fork
server, so killing simkit takes down the server and then its workers at once).
Chosen over a watchdog thread polling the parent's pid because it costs
nothing, acts at once, and keeps the fork server single-threaded (forking from
a threaded process is unsafe). The signal is tied to the *thread* that created
the child: simkit starts pools from the thread that waits on them, and
multiprocessing restarts a fork server it finds dead. If the parent died
before the call, the process exits at once. On systems without prctl
(macOS, Windows) this does nothing: there, after a SIGKILL of the parent,
workers end when their current task does and the queue is gone.

Acts only inside a fork server, so importing this module elsewhere is harmless.
"""

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; True if it could (Linux).

    Exits at once if the parent is already gone (this process was re-parented before the call).
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:
        os._exit(1)
    return True


def _in_fork_server() -> bool:
    frame = sys._getframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith(("multiprocessing/forkserver.py",)):
            return True
        frame = frame.f_back
    return False


if _in_fork_server():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
