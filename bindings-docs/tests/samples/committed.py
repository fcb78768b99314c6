"""Uses only what every generated KSR stub has: for the committed stubs."""
import KSR


def ksr_request_route() -> int:
    return KSR.x.modf("sl_send_reply", "200", "OK")
