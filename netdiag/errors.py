"""The errors netdiag reports to its user: one line, a stable code and an exit code."""

EXIT_REACHABLE = 0
EXIT_UNREACHABLE = 1
EXIT_BAD_INPUT = 2
EXIT_CANNOT_DIAGNOSE = 3


class NetdiagError(Exception):
    """An error the user sees as one line (and as {"error": ...} with --json)."""

    exit_code = EXIT_CANNOT_DIAGNOSE

    def __init__(self, code: str, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(NetdiagError):
    """Unknown or ambiguous container, malformed arguments, unreadable input (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class CannotDiagnose(NetdiagError):
    """The daemon or a needed probe is unavailable (exit 3)."""

    exit_code = EXIT_CANNOT_DIAGNOSE
