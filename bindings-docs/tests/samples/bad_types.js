// Wrong argument type: tsc with the declarations must report it.
function ksr_request_route() {
    KSR.sl.sreply("200", "OK");
}
