"""Wrong argument and result types: a type checker using the stubs must report them."""
import KSR


def ksr_request_route() -> int:
    KSR.sl.sreply("200", "OK")
    name: str = KSR.pv.get("$ru")
    return 1
