"""Preloaded first by the process pool's fork server, so pool workers ignore Ctrl-C from birth.

Ctrl-C in a terminal reaches the whole foreground process group. The parent
turns it into one line ("interrupted: N of M runs are saved ...") and stops the
pool; a fork server or worker that caught it too, often in the middle of
importing the model, would only spray tracebacks over that line. The fork
server ignores SIGINT before its heavy preload, and the workers it forks
inherit that. Acts only inside a fork server, so importing it elsewhere is harmless.
"""

import signal
import sys


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
