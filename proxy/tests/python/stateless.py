"""Test routing script for tests/python_sipp.rs (app_python3, handler
object): answers everything statelessly.
  OPTIONS  -> 200 REASON
  any request with an X-Crash header -> a Python exception (to test how
           script errors are handled)
  ACK      -> absorbed
  others   -> 404 Not Found
  Max-Forwards exhausted -> 483
"""
import sys

import KSR

REASON = "OK"


class Handler:
    def child_init(self, rank: int) -> int:
        KSR.info("child_init(%d)\n" % rank)
        return 0

    def ksr_request_route(self, msg: object) -> None:
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


def mod_init() -> Handler:
    return Handler()
