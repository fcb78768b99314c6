"""Misspelt KSR function: a type checker using the stubs must report it."""
import KSR


def ksr_request_route() -> int:
    return KSR.sl.sreplyy(200, "OK")
