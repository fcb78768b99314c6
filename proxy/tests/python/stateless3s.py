"""Test routing script for tests/python_sipp.rs (app_python3s,
module-level callbacks): the same answers as stateless.py."""
import sys

import KSR

REASON = "OK"


def ksr_request_route() -> None:
    if KSR.maxfwd.process_maxfwd(10) < 0:
        KSR.sl.send_reply(483, "Too Many Hops")
        return
    if KSR.is_method("ACK"):
        sys.exit()
    if KSR.hdr.is_present("X-Crash") > 0:
        raise RuntimeError("crash requested by the test")
    if KSR.is_method("OPTIONS"):
        KSR.sl.send_reply(200, REASON)
        return
    KSR.sl.send_reply(404, "Not Found")
