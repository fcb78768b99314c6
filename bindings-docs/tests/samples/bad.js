// Misspelt KSR function: tsc with the declarations must report it.
function ksr_request_route() {
    KSR.sl.sreplyy(200, "OK");
}
