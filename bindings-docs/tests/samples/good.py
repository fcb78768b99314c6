"""A routing script (app_python3s style) using the functions of the test registry."""
import KSR


def ksr_request_route() -> int:
    KSR.info("is INVITE: " + str(KSR.is_INVITE()))
    ruri = KSR.pv.get("$ru")
    if ruri is None:
        KSR.sl.sreply(404, "Not Found")
        return -1
    if isinstance(ruri, str) and ruri.startswith("sip:"):
        KSR.pv.seti("$var(n)", 1)
    ok: bool = KSR.pv.setl("$var(big)", 1 << 40)
    if ok:
        KSR.hdr.append("X-Checked: yes\r\n")
    KSR.x.modf("sl_send_reply", "200", "OK")
    return KSR.sl.sreply(200, "OK")
