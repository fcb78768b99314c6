//! `KSR.siputils` from Lua, against message fixtures.

use kemi_core::config;
use kemi_mod_app_lua::testing::fixtures::{COMPACT, INVITE, REGISTER, REPLY};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

fn run(msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_siputils::MODULE])
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn header(out: &Outcome, name: &str) -> Vec<String> {
    let bytes = out.ctx.msg.serialize();
    let msg = kemi_core::sip::Message::parse(bytes).unwrap();
    msg.headers()
        .filter(|h| h.is(name))
        .map(|h| h.value.to_string())
        .collect()
}

#[test]
fn message_kind() {
    run(
        INVITE,
        r#"
        local s = KSR.siputils
        assert(s.has_totag() == -1)
        assert(s.is_request() == 1 and s.is_reply() == -1)
        assert(s.is_sip() == 1 and s.is_http() == -1)
        assert(s.sip_parse_headers() == 1)
        "#,
    );
    run(
        REPLY,
        r#"
        local s = KSR.siputils
        assert(s.has_totag() == 1)
        assert(s.is_request() == -1 and s.is_reply() == 1)
        "#,
    );
    run(COMPACT, r#"assert(KSR.siputils.has_totag() == 1)"#);
    // A Via that does not parse.
    run(
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: garbage\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
        r#"
        assert(KSR.siputils.sip_parse_headers() == -1)
        assert(KSR.siputils.is_first_hop() == -1)
        "#,
    );
}

#[test]
fn first_hop() {
    run(
        INVITE,
        r#"
        assert(KSR.siputils.is_first_hop() == 1)
        assert(KSR.siputils.is_first_hop_mode(1) == 1)
        "#,
    );
    // Two Vias in a request: an upstream proxy.
    run(COMPACT, r#"assert(KSR.siputils.is_first_hop() == -1)"#);
    // A reply with our Via and the sender's.
    run(REPLY, r#"assert(KSR.siputils.is_first_hop() == 1)"#);
    // Record-Route: ours is fine, someone else's is not (unless mode 1).
    let rr = |host: &str| {
        format!(
            "INVITE sip:b@c SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n\
Record-Route: <sip:{host};lr>\r\nFrom: <sip:a@c>;tag=1\r\nTo: <sip:b@c>\r\n\
Call-ID: rr\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        )
    };
    run(
        rr("127.0.0.1").as_bytes(),
        r#"assert(KSR.siputils.is_first_hop() == 1)"#,
    );
    run(
        rr("proxy.example.net").as_bytes(),
        r#"
        assert(KSR.siputils.is_first_hop() == -1)
        assert(KSR.siputils.is_first_hop_mode(1) == 1)
        "#,
    );
}

#[test]
fn value_checks() {
    run(
        INVITE,
        r#"
        local s = KSR.siputils
        assert(s.is_uri("sip:alice@example.com;lr") == 1)
        assert(s.is_uri("sips:[2001:db8::1]:5061") == 1)
        assert(s.is_uri("tel:+15551234") == 1)
        assert(s.is_uri("urn:service:sos") == 1)
        assert(s.is_uri("http://example.com/") == -1)
        assert(s.is_uri("alice@example.com") == -1)
        assert(s.is_uri("") == -1)
        assert(s.is_tel_number("+4912345") == 1)
        assert(s.is_tel_number("0049123") == 1)
        assert(s.is_tel_number("+0123") == -2)
        assert(s.is_tel_number("+") == -2)
        assert(s.is_tel_number("12a") == -2)
        assert(s.is_tel_number("") == -2)
        assert(s.is_numeric("0123") == 1)
        assert(s.is_numeric("+1") == -2)
        assert(s.is_numeric("") == -2)
        assert(s.is_alphanum("abC123") == 1)
        assert(s.is_alphanum("ab-1") == -2)
        assert(s.is_alphanum("") == -2)
        assert(s.is_alphanumex("ab-1_x", "-_") == 1)
        assert(s.is_alphanumex("ab.1", "-_") == -2)
        -- No auth module: credentials are never verified.
        assert(s.is_user("alice") == -1)
        "#,
    );
}

#[test]
fn ruri_params() {
    let out = run(
        INVITE,
        r#"
        local s = KSR.siputils
        assert(s.uri_param("lr") == 1)
        assert(s.uri_param("transport") == -1)
        assert(s.uri_param("nope") == -1)
        assert(s.uri_param_any("transport") == 1)
        assert(s.uri_param_any("lr") == 1)
        assert(s.uri_param_any("nope") == -1)
        assert(s.uri_param_value("transport", "tcp") == 1)
        assert(s.uri_param_value("transport", "TCP") == -1)
        assert(s.uri_param_value("lr", "") == -1)
        assert(s.uri_param_rm("transport") == 1)
        assert(s.uri_param_any("transport") == -1)
        assert(s.uri_param_rm("transport") == 1)
        assert(s.add_uri_param("nat=yes") == 1)
        assert(s.uri_param_value("nat", "yes") == 1)
        assert(s.add_uri_param("") == 1)
        assert(s.add_uri_param("a b") == -1)
        assert(s.is_gruu() == -1)
        "#,
    );
    assert_eq!(
        out.ctx.new_uri.as_deref(),
        Some("sip:bob@example.com;lr;foo=bar;nat=yes")
    );
    run(
        REPLY,
        r#"
        assert(KSR.siputils.uri_param_any("lr") == -1)
        assert(KSR.siputils.uri_param_rm("lr") == -1)
        assert(KSR.siputils.add_uri_param("x") == -1)
        assert(KSR.siputils.is_gruu() == -1)
        "#,
    );
    let gruu = |uri: &str| {
        format!(
            "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@c>;tag=1\r\n\
To: <sip:b@c>\r\nCall-ID: g\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        )
    };
    run(
        gruu("sip:bob@example.com;gr=urn:uuid:f81d4fae").as_bytes(),
        r#"assert(KSR.siputils.is_gruu() == 1)"#,
    );
    run(
        gruu("sip:tgruu.7hs==@example.com;gr").as_bytes(),
        r#"assert(KSR.siputils.is_gruu() == 2)"#,
    );
}

#[test]
fn comparisons() {
    run(
        INVITE,
        r#"
        local s = KSR.siputils
        assert(s.cmp_uri("sip:alice@Example.COM;transport=udp", "sip:alice@example.com;TRANSPORT=UDP") == 1)
        assert(s.cmp_uri("sip:%61lice@example.com", "sip:alice@example.com") == 1)
        assert(s.cmp_uri("sip:Alice@example.com", "sip:alice@example.com") == -1)
        assert(s.cmp_uri("sip:alice@example.com", "sip:alice@example.com:5060") == -1)
        assert(s.cmp_uri("sip:alice@example.com;transport=tcp", "sip:alice@example.com") == -1)
        assert(s.cmp_uri("sip:alice@example.com;foo=1", "sip:alice@example.com") == 1)
        assert(s.cmp_uri("sip:alice@example.com;foo=1", "sip:alice@example.com;foo=2") == -1)
        assert(s.cmp_uri("sip:alice@example.com", "sips:alice@example.com") == -1)
        assert(s.cmp_uri("sip:alice@example.com", "not a uri") == -2)
        assert(s.cmp_aor("sip:alice@example.com", "sip:alice@EXAMPLE.com:5060;transport=tcp") == 1)
        assert(s.cmp_aor("sips:alice@example.com", "sips:alice@example.com:5061") == 1)
        assert(s.cmp_aor("sip:alice@example.com", "sip:alice@example.com:5070") == -1)
        assert(s.cmp_aor("sip:alice@example.com", "sip:bob@example.com") == -1)
        assert(s.cmp_aor("", "sip:bob@example.com") == -2)
        assert(s.cmp_hdr_name("From", "f") == 1)
        assert(s.cmp_hdr_name("v", "VIA") == 1)
        assert(s.cmp_hdr_name("X-Foo", "x-foo") == 1)
        assert(s.cmp_hdr_name("X-Foo", "X-Bar") == -1)
        assert(s.cmp_hdr_name("To", "From") == -1)
        assert(s.cmp_hdr_name("", "") == -1)
        "#,
    );
}

#[test]
fn options_reply() {
    let options = b"OPTIONS sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bK-opt\r\n\
From: <sip:mon@example.com>;tag=o1\r\n\
To: <sip:example.com>\r\n\
Call-ID: opt-1\r\n\
CSeq: 5 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";
    let out = run(options, r#"assert(KSR.siputils.options_reply() == 1)"#);
    assert_eq!(out.sent.len(), 1);
    let reply = String::from_utf8_lossy(&out.sent[0].bytes).into_owned();
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    assert!(
        reply.contains("Allow: INVITE, ACK, CANCEL, OPTIONS"),
        "{reply}"
    );
    assert!(reply.contains("Accept: */*\r\n"), "{reply}");
    assert!(reply.contains("Accept-Language: en\r\n"), "{reply}");
    assert!(!reply.contains("Accept-Encoding"), "{reply}");
    assert!(reply.contains("received=192.0.2.10"), "{reply}");
    assert!(reply.contains("To: <sip:example.com>;tag="), "{reply}");
    assert_eq!(out.sent[0].dst, "192.0.2.10:5062".parse().unwrap());
    // The request itself is left unchanged.
    assert!(!out.ctx.msg.is_modified());

    // Modparams change the advertised headers.
    let cfg = config::parse_str(
        "modparam(\"siputils\", \"options_support\", \"100rel, timer\")\n\
         modparam(\"siputils\", \"options_accept_language\", \"de\")\n",
        "test.cfg",
        &[&kemi_mod_siputils::MODULE],
        &[],
    );
    // modparam needs the module loaded first.
    let cfg = cfg.or_else(|_| {
        config::parse_str(
            "loadmodule \"siputils.so\"\n\
             modparam(\"siputils\", \"options_support\", \"100rel, timer\")\n\
             modparam(\"siputils\", \"options_accept_language\", \"de\")\n",
            "test.cfg",
            &[&kemi_mod_siputils::MODULE],
            &[],
        )
    });
    let cfg = cfg.unwrap_or_else(|e| panic!("{e}"));
    let out = LuaTest::new(&[&kemi_mod_siputils::MODULE])
        .config(cfg)
        .message(options)
        .run("function ksr_request_route() assert(KSR.siputils.options_reply() == 1) end")
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = String::from_utf8_lossy(&out.sent[0].bytes).into_owned();
    assert!(reply.contains("Supported: 100rel, timer\r\n"), "{reply}");
    assert!(reply.contains("Accept-Language: de\r\n"), "{reply}");

    // Not for us (user part), not OPTIONS, a reply: -1 and nothing sent.
    let out = run(
        fixtures_default_options(),
        r#"assert(KSR.siputils.options_reply() == -1)"#,
    );
    assert!(out.sent.is_empty());
    let out = run(INVITE, r#"assert(KSR.siputils.options_reply() == -1)"#);
    assert!(out.sent.is_empty());
    let out = run(REPLY, r#"assert(KSR.siputils.options_reply() == -1)"#);
    assert!(out.sent.is_empty());
}

fn fixtures_default_options() -> &'static [u8] {
    b"OPTIONS sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-o\r\n\
From: <sip:bob@example.org>;tag=f\r\nTo: <sip:alice@example.com>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n"
}

#[test]
fn encode_decode_contact() {
    let out = run(
        REGISTER,
        r#"
        assert(KSR.siputils.encode_contact("enc", "203.0.113.1") == 1)
        assert(KSR.siputils.encode_contact("", "203.0.113.1") == -1)
        "#,
    );
    let c = header(&out, "Contact");
    assert_eq!(
        c,
        vec![
            "<sip:enc*carol**198.51.100.7*40000*tcp@203.0.113.1;ob>;expires=600;+sip.instance=\"<urn:uuid:1>\", <sip:enc*carol**10.0.0.5**@203.0.113.1>;q=0.5"
        ]
    );
    // Decoding the header gives the original URIs back.
    let encoded = out.ctx.msg.serialize();
    let out = run(
        &encoded,
        r#"assert(KSR.siputils.decode_contact_header() == 1)"#,
    );
    assert_eq!(
        header(&out, "Contact"),
        vec!["<sip:carol@198.51.100.7:40000;transport=tcp;ob>;expires=600;+sip.instance=\"<urn:uuid:1>\", <sip:carol@10.0.0.5>;q=0.5"]
    );
    // decode_contact works on the R-URI.
    let req = b"INVITE sip:enc*bob*pw*10.1.2.3*5070*udp@203.0.113.1;lr SIP/2.0\r\n\
Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@c>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: d\r\n\
CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let out = run(req, r#"assert(KSR.siputils.decode_contact() == 1)"#);
    assert_eq!(
        out.ctx.new_uri.as_deref(),
        Some("sip:bob:pw@10.1.2.3:5070;transport=udp;lr")
    );
    run(
        INVITE,
        r#"
        assert(KSR.siputils.decode_contact() == -1)
        assert(KSR.siputils.decode_contact_header() == 1)
        "#,
    );
    // No Contact at all.
    run(
        COMPACT.split(|_| false).next().unwrap(),
        r#"assert(KSR.siputils.contact_param_check("x") == -1)"#,
    );
    run(
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: n\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        r#"
        assert(KSR.siputils.encode_contact("p", "1.2.3.4") == -1)
        assert(KSR.siputils.decode_contact_header() == -1)
        assert(KSR.siputils.contact_param_encode("sr", "sip:1.2.3.4") == -1)
        assert(KSR.siputils.contact_param_rm("sr") == -1)
        assert(KSR.siputils.contact_param_decode("sr") == -1)
        "#,
    );
}

#[test]
fn contact_params() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.siputils.contact_param_check("sr") == -1)
        assert(KSR.siputils.contact_param_encode("sr", "sip:proxy.example.net:5060") == 1)
        assert(KSR.siputils.contact_param_encode("sr", "not a uri") == -1)
        "#,
    );
    let c = header(&out, "Contact");
    assert_eq!(c.len(), 1);
    let v = &c[0];
    assert!(v.starts_with("<sip:proxy.example.net:5060;sr="), "{v}");
    // Decode it back from the header and from the R-URI.
    let encoded = out.ctx.msg.serialize();
    let out = run(
        &encoded,
        r#"
        assert(KSR.siputils.contact_param_check("sr") == 1)
        assert(KSR.siputils.contact_param_decode("sr") == 1)
        "#,
    );
    assert_eq!(
        header(&out, "Contact"),
        vec!["<sip:alice@192.0.2.10:5062;transport=udp>"]
    );
    let token = v
        .trim_start_matches("<sip:proxy.example.net:5060;sr=")
        .trim_end_matches('>');
    let req = format!(
        "INVITE sip:proxy.example.net;sr={token} SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:a@c>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    );
    let out = run(
        req.as_bytes(),
        r#"
        assert(KSR.siputils.contact_param_decode_ruri("nope") == -1)
        assert(KSR.siputils.contact_param_decode_ruri("sr") == 1)
        "#,
    );
    assert_eq!(
        out.ctx.new_uri.as_deref(),
        Some("sip:alice@192.0.2.10:5062;transport=udp")
    );
    // The alias variant carries the source address inside.
    let out = run(
        INVITE,
        r#"assert(KSR.siputils.contact_param_encode_alias("sr", "sip:proxy.example.net") == 1)"#,
    );
    let encoded = out.ctx.msg.serialize();
    let out = run(
        &encoded,
        r#"assert(KSR.siputils.contact_param_decode("sr") == 1)"#,
    );
    assert_eq!(
        header(&out, "Contact"),
        vec!["<sip:alice@192.0.2.10:5062;transport=udp;alias=192.0.2.10~5062~1>"]
    );
    // Removing a parameter from every Contact URI.
    let out = run(
        REGISTER,
        r#"
        assert(KSR.siputils.contact_param_check("ob") == 1)
        assert(KSR.siputils.contact_param_rm("ob") == 1)
        assert(KSR.siputils.contact_param_rm("transport") == 1)
        "#,
    );
    assert_eq!(
        header(&out, "Contact"),
        vec!["<sip:carol@198.51.100.7:40000>;expires=600;+sip.instance=\"<urn:uuid:1>\", <sip:carol@10.0.0.5>;q=0.5"]
    );
    // A bad encoded value.
    let bad = b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: b\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:p.example.net;sr=*bad*>\r\nContent-Length: 0\r\n\r\n";
    run(
        bad,
        r#"assert(KSR.siputils.contact_param_decode("sr") == -1)"#,
    );
}

#[test]
fn date_check() {
    // The INVITE's Date is from 2010.
    run(
        INVITE,
        r#"
        assert(KSR.siputils.hdr_date_check(60) == -3)
        assert(KSR.siputils.hdr_date_check(2000000000) == 1)
        "#,
    );
    run(REGISTER, r#"assert(KSR.siputils.hdr_date_check(60) == -1)"#);
    // A fresh Date passes.
    let now = httpdate_now();
    let msg = format!(
        "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n\
To: <sip:a@b>\r\nCall-ID: n\r\nCSeq: 1 OPTIONS\r\nDate: {now}\r\nContent-Length: 0\r\n\r\n"
    );
    run(
        msg.as_bytes(),
        r#"assert(KSR.siputils.hdr_date_check(60) == 1)"#,
    );
    let bad = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n\
To: <sip:a@b>\r\nCall-ID: n\r\nCSeq: 1 OPTIONS\r\nDate: tomorrow\r\nContent-Length: 0\r\n\r\n";
    run(bad, r#"assert(KSR.siputils.hdr_date_check(60) == -1)"#);
}

/// The current time as an RFC 1123 date.
fn httpdate_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
