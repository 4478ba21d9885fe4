"""The one error schedules raise.

SiloError
└── ValidationError (400)
    └── InvalidSchedule (400)      an expression, time zone or flexible window that does not parse;
                                   the message starts with the expression and names the bad field
"""

from __future__ import annotations

from silo.errors import ValidationError


class InvalidSchedule(ValidationError):
    """``expression`` is the text as given; ``field`` names the part at fault (``minute``,
    ``day-of-week``, ``rate value``, ``time zone``, ``MaximumWindowInMinutes`` ...)."""

    code = "InvalidSchedule"

    def __init__(self, expression: str, field: str, problem: str) -> None:
        super().__init__(
            f"{expression}: {problem}" if expression else problem, expression=expression, field=field
        )
        self.expression = expression
        self.field = field
        self.problem = problem
