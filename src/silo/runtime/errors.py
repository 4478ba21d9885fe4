"""Errors the runtime host raises (function errors are results, not exceptions).

    SiloError
    ├── Throttled (429 TooManyRequestsException)
    │   └── RuntimeCapacityError       every environment slot is busy: nothing idle to evict
    └── RuntimeStartError (500)        the zygote or an environment could not be started,
                                       or the host is closed

Inside an environment, ``silo.runtime.channel.ChannelError`` is what a failed platform call raises.
"""

from __future__ import annotations

from silo.errors import SiloError, Throttled


class RuntimeCapacityError(Throttled):
    """``max_environments`` are alive and none of them is idle."""


class RuntimeStartError(SiloError):
    code = "ServiceException"
    http_status = 500
