# A routing script using the functions of the test registry.
def ksr_request_route
  KSR.info("is INVITE: #{KSR.is_INVITE}")
  ruri = KSR::PV.get("$ru")
  if ruri.nil?
    KSR::SL.sreply(404, "Not Found")
    KSR::X.exit
  end
  KSR::PV.seti("$var(n)", 1) if ruri.to_s.start_with?("sip:")
  KSR::HDR.append("X-Checked: yes\r\n") if KSR::PV.setl("$var(big)", 1 << 40)
  KSR::X.modf("sl_send_reply", "200", "OK")
  KSR::X.drop if KSR::SL.sreply(200, "OK") < 0
end

ksr_request_route
