"""The import's failure type and the parsers every part of it shares."""
from decimal import Decimal, InvalidOperation


class ImportFailure(Exception):
    """Bad input the shop manager can fix: the row fails with ``code`` and ``message``."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def money(value, what):
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ImportFailure("invalid_payload", f"{what}: {value!r} is not a number")
