"""The function runtime's process layer: one execution environment per (account, function version,
revision), forked from a zygote, reused while warm, gone when idle.

``RuntimeHost.invoke`` is all the platform needs; it knows nothing of accounts, quotas or HTTP. Inside
an environment, function code reaches the platform only through ``silo.runtime.channel``.

How it fits together (each private module's docstring has the details)::

    RuntimeHost (_host, _pool)           pool by EnvironmentSpec.key; one supervisor thread starts
      |                                  the zygote and expires idle environments
      |  fork request (a user id) + socketpair end (SCM_RIGHTS), on a SOCK_SEQPACKET control socket
      v
    spares (_spare)  <- forked by ->  zygote (_zygote, _launcher)
      |  a spare takes the request: drop, HELLO; SPEC frame: specialise, import (_environment)
      v
    environment (_serve)  <- INVOKE / CALL / REPLY / RESULT frames (_protocol) ->  EnvironmentProcess
                                                                                     (_process, _calls)

Users: on a root host every environment runs under a user id of its own (``_uids``: allocated by the
host, sent with the fork request, handed back once the process has exited, swept of leftover processes
before it is handed out again), so environments cannot signal, ptrace or open the files of one
another; otherwise they run as the host's user. ``RuntimeHost.claim`` wakes a spare before the
function is known (the platform looks it up meanwhile); ``invoke(..., claim=...)`` hands it the
function.

Files and permissions: the host keeps ``work_dir/tmp/h<pid>-<nonce>/`` (0711). Each environment
gets a TMPDIR there (0700, owned by its user id; also its HOME) and a log file (0600, not readable
by the function, written through inherited fds; the host reads it after a crash or a timeout).
``work_dir`` and every code directory must be reachable (x on each parent, for "others": the
function user ids own nothing) by any function user; ``RuntimeHost`` refuses a ``work_dir`` that is
not, ``prepare_code_dir`` makes a code tree readable. A Python installed under an unreachable
directory (``/root/.pyenv``) still works: see ``_paths``.

Environments see the standard library and the code directory only (no site-packages: functions
bundle their dependencies), plus ``silo.runtime.channel``.
"""

from silo.runtime._code import prepare_code_dir
from silo.runtime._host import Claim, RuntimeHost
from silo.runtime._models import EnvironmentKey, EnvironmentSpec, InvocationResult
from silo.runtime.channel import ChannelError
from silo.runtime.errors import RuntimeCapacityError, RuntimeStartError

__all__ = [
    "ChannelError",
    "Claim",
    "EnvironmentKey",
    "EnvironmentSpec",
    "InvocationResult",
    "RuntimeCapacityError",
    "RuntimeHost",
    "RuntimeStartError",
    "prepare_code_dir",
]
