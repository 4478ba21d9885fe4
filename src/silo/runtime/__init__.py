"""The function runtime's process layer: a zygote forks one execution environment per
(account, function version, revision), environments are reused while warm and exit when idle.

Only this package's public names are part of the interface; the lead layers quotas, queues, metrics
and the API on top. Inside an environment, function code reaches the platform through
``silo.runtime.channel`` only.
"""

from silo.runtime._code import prepare_code_dir
from silo.runtime._host import RuntimeHost
from silo.runtime._models import EnvironmentKey, EnvironmentSpec, InvocationResult
from silo.runtime.channel import ChannelError
from silo.runtime.errors import RuntimeCapacityError, RuntimeStartError

__all__ = [
    "ChannelError",
    "EnvironmentKey",
    "EnvironmentSpec",
    "InvocationResult",
    "RuntimeCapacityError",
    "RuntimeHost",
    "RuntimeStartError",
    "prepare_code_dir",
]
