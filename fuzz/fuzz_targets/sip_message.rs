//! Fuzzes the SIP message core: framing, parsing, every typed accessor,
//! edits and replies must never panic or loop, and serialisation must be
//! stable: serialize(parse(x)) is the message's bytes, parses again, and
//! serialises to the same bytes.
#![no_main]

use kemi_core::sip::{
    build_reply, frame_len, looks_like_request, reply_to_unparsable, HeaderPos, Message, NameAddr,
    Uri, Via,
};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(n)) = frame_len(data) {
        assert!(n <= data.len());
    }
    let _ = looks_like_request(data);
    if let Some(reply) = reply_to_unparsable(data, 400, "Bad Request") {
        Message::parse(reply).expect("a reply to a salvaged request parses");
    }
    let Ok(msg) = Message::parse(data.to_vec()) else {
        return;
    };
    let out = msg.serialize();
    assert_eq!(out, msg.as_bytes());
    let again = Message::parse(out.clone()).expect("serialised message parses");
    assert_eq!(again.serialize(), out);

    // Every lazy accessor on every header.
    let _ = (
        msg.vias(),
        msg.top_via(),
        msg.from(),
        msg.to(),
        msg.call_id(),
    );
    let _ = (
        msg.cseq(),
        msg.contacts(),
        msg.routes(),
        msg.record_routes(),
    );
    let _ = (msg.max_forwards(), msg.content_length(), msg.content_type());
    let _ = (msg.expires(), msg.validate(), msg.parsed_request_uri());
    let _ = (msg.method(), msg.method_str(), msg.first_line(), msg.body());
    for h in msg.headers() {
        let _ = h.unfolded();
        let _ = NameAddr::parse(h.value);
        let _ = Uri::parse(h.value);
        let _ = Via::parse(h.value);
        let _ = msg.header_by_name(h.raw_name);
    }

    // Edits: the result must parse again.
    let mut m = msg.clone();
    let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99));
    let _ = m.add_via_receive_params(src, 5062, true);
    let _ = m.add_header(
        HeaderPos::First,
        "Via",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfuzz",
    );
    let _ = m.add_header(HeaderPos::Last, "X-Fuzz", "1");
    let _ = m.add_header(HeaderPos::After(0), "X-After", "2");
    let _ = m.remove_header(1);
    let _ = m.replace_header_value(0, "replaced");
    if m.is_request() {
        let _ = m.set_request_uri("sip:new@example.com");
    }
    m.set_body(b"v=0\r\n".to_vec());
    let edited = m.serialize();
    let reparsed = Message::parse(edited).expect("edited message parses");
    assert_eq!(reparsed.body(), b"v=0\r\n");

    if msg.is_request() {
        if let Ok(reply) = build_reply(&m, 404, "Not Found", Some("t1"), "X-A: b\r\n", b"") {
            Message::parse(reply).expect("built reply parses");
        }
    }
});
