"""Stateless answering for the engine benchmarks (scripts/bench-engines),
in Python for app_python3: the same as kamailio.lua next to it. Hops and
sanity checked, OPTIONS answered 200, ACK absorbed, anything else 404.
"""

import sys

import KSR


def mod_init() -> "Kamailio":
    return Kamailio()


class Kamailio:
    def child_init(self, rank: int) -> int:
        return 0

    def ksr_request_route(self, msg: object) -> int:
        if KSR.maxfwd.process_maxfwd(10) < 0:
            KSR.sl.send_reply(483, "Too Many Hops")
            return 1
        if KSR.sanity.sanity_check(1511, 7) < 0:
            KSR.xlog.xerr("malformed SIP request from $si:$sp\n")
            sys.exit()
        if KSR.is_method("ACK"):
            return 1
        if KSR.is_method("OPTIONS"):
            KSR.sl.send_reply(200, "OK")
            return 1
        KSR.sl.send_reply(404, "Not Found")
        return 1
