//! Unit tests of the SIP message: parsing, header access, typed values,
//! each kind of edit, Via receive parameters, replies and stream framing.

use kemi_core::sip::{
    build_reply, frame_len, looks_like_request, reply_to_unparsable, via_receive_params, Contacts,
    Edit, EditError, HeaderName, HeaderPos, Message, Method, ParseError, MAX_HEADERS,
    MAX_MESSAGE_SIZE,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
v: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport\r\n\
Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK1, SIP/2.0/UDP h3;branch=z9hG4bK2\r\n\
Max-Forwards : 70\r\n\
t: Bob <sip:bob@biloxi.example.com>\r\n\
f: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
i: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
m: <sip:alice@192.0.2.101>;expires=60, <sip:alice@[2001:db8::2]>\r\n\
Route: <sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>\r\n\
Record-Route: <sip:rr.example.com;lr>\r\n\
X-Custom: one\r\n\
x-custom: two\r\n\
c: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\n";

fn invite() -> Message {
    Message::parse(INVITE.as_bytes().to_vec()).expect("INVITE parses")
}

fn text(m: &Message) -> String {
    String::from_utf8(m.serialize()).expect("utf8")
}

#[test]
fn first_line_and_index() {
    let m = invite();
    assert!(m.is_request());
    assert_eq!(m.method(), Method::Invite);
    assert_eq!(m.method_str(), "INVITE");
    assert_eq!(m.request_uri(), Some("sip:bob@biloxi.example.com"));
    assert_eq!(m.version(), "SIP/2.0");
    assert_eq!(m.status_code(), None);
    assert_eq!(m.first_line(), "INVITE sip:bob@biloxi.example.com SIP/2.0");
    assert_eq!(m.header_len(), 14);
    let names: Vec<_> = m.headers().map(|h| h.raw_name).collect();
    assert_eq!(names[0], "v");
    assert_eq!(
        m.header_at(2).map(|h| h.name),
        Some(HeaderName::MaxForwards)
    );
    assert_eq!(m.body(), b"v=0\n");
    assert_eq!(m.as_bytes(), INVITE.as_bytes());
}

#[test]
fn header_lookup_is_case_insensitive_with_compact_forms() {
    let m = invite();
    assert_eq!(m.header(HeaderName::Via), m.header_by_name("VIA"));
    assert_eq!(m.header_count(HeaderName::Via), 2);
    assert_eq!(m.header_count_by_name("v"), 2);
    assert_eq!(
        m.header_by_name("Call-ID"),
        Some("a84b4c76e66710@pc33.atlanta.example.com")
    );
    assert_eq!(m.header_by_name("content-length"), Some("4"));
    assert_eq!(m.header_count_by_name("X-CUSTOM"), 2);
    let values: Vec<_> = m.headers_named("x-custom").map(|h| h.value).collect();
    assert_eq!(values, ["one", "two"]);
    assert_eq!(m.header_by_name("Nope"), None);
    let route = m.headers_of(HeaderName::Route).next().unwrap();
    assert_eq!(
        route.value,
        "<sip:p1.example.com;lr>,\r\n <sip:p2.example.com;lr>"
    );
    assert_eq!(
        route.unfolded(),
        "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>"
    );
    assert!(route.is("route") && !route.is("Record-Route"));
}

#[test]
fn typed_values() {
    let m = invite();
    let vias = m.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].rport(), Some(None));
    assert_eq!(vias[1].host, "[2001:db8::1]");
    assert_eq!(vias[1].port, Some(5070));
    assert_eq!(vias[2].branch(), Some("z9hG4bK2"));
    assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
    let from = m.from().unwrap();
    assert_eq!(from.display_name, Some("Alice A."));
    assert_eq!(from.tag(), Some("1928301774"));
    assert_eq!(m.to().unwrap().tag(), None);
    assert_eq!(
        m.call_id().unwrap(),
        "a84b4c76e66710@pc33.atlanta.example.com"
    );
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.number, cseq.method), (314159, Method::Invite));
    let Contacts::List(c) = m.contacts().unwrap() else {
        panic!("star")
    };
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].params.value("expires"), Some("60"));
    assert_eq!(c[1].uri.host_unbracketed(), "2001:db8::2");
    let routes = m.routes().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[1].uri.host, "p2.example.com");
    assert_eq!(m.record_routes().unwrap()[0].uri.host, "rr.example.com");
    assert_eq!(m.name_addrs(HeaderName::Route).unwrap().len(), 2);
    assert_eq!(m.max_forwards().unwrap(), Some(70));
    assert_eq!(m.content_length().unwrap(), Some(4));
    assert!(m.content_type().unwrap().unwrap().is("application", "sdp"));
    assert_eq!(m.expires().unwrap(), None);
    m.validate().unwrap();
}

#[test]
fn star_contact() {
    let m = Message::parse(
        &b"REGISTER sip:r SIP/2.0\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n"[..],
    )
    .unwrap();
    assert_eq!(m.contacts().unwrap(), Contacts::Star);
    assert_eq!(m.expires().unwrap(), Some(0));
}

#[test]
fn responses() {
    let m = Message::parse(
        &b"sip/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n"[..],
    )
    .unwrap();
    assert!(m.is_response());
    assert_eq!(m.status_code(), Some(180));
    assert_eq!(m.reason(), Some("Ringing"));
    assert_eq!(m.version(), "sip/2.0");
    assert_eq!(m.method(), Method::Bye);
    assert_eq!(m.method_str(), "BYE");
    assert_eq!(m.request_uri(), None);
}

#[test]
fn lenient_forms() {
    // LF-only line ends, leading CRLF keep-alive, extension method, IPv6
    // Request-URI, lower-case version, no Content-Length on a datagram.
    let m = Message::parse(
        &b"\r\n\r\nFOO sip:[2001:db8::5]:5080;transport=tcp sip/2.0\nVia: SIP/2.0/UDP h\nX: y\n\nbody"[..],
    )
    .unwrap();
    assert_eq!(m.method(), Method::Other("FOO".into()));
    let ruri = m.parsed_request_uri().unwrap();
    assert_eq!((ruri.host, ruri.port), ("[2001:db8::5]", Some(5080)));
    assert_eq!(m.body(), b"body");
    assert!(m.as_bytes().starts_with(b"FOO "));
    // A datagram whose headers run to its end.
    let m = Message::parse(&b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nl: 0"[..]).unwrap();
    assert_eq!(m.header(HeaderName::ContentLength), Some("0"));
    assert!(m.body().is_empty());
}

#[test]
fn errors_name_the_problem() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty message"),
        (b"\r\n\r\n", "empty message"),
        (b"INVITE sip:a@b SIP/2.0", "not terminated by CRLF"),
        (
            b"INVITE  sip:a@b SIP/2.0\r\n\r\n",
            "multiple spaces before the Request-URI",
        ),
        (
            b"INVITE sip:a@b  SIP/2.0\r\n\r\n",
            "multiple spaces before the SIP version",
        ),
        (
            b"INVITE sip:a@b SIP/3.0\r\n\r\n",
            "unsupported SIP version \"SIP/3.0\"",
        ),
        (b"INVITE sip:a@b HTTP/1.1\r\n\r\n", "missing SIP version"),
        (b"IN(VITE sip:a@b SIP/2.0\r\n\r\n", "method is not a token"),
        (b"INVITE a@b SIP/2.0\r\n\r\n", "Request-URI has no scheme"),
        (b"SIP/2.0 20 OK\r\n\r\n", "status code must be 3 digits"),
        (b"SIP/2.0 099 OK\r\n\r\n", "out of range"),
        (
            b"SIP/2.0 200OK\r\n\r\n",
            "expected a space after the status code",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\n Via: x\r\n\r\n",
            "continuation line",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nVia x\r\n\r\n",
            "bad header line 2: missing ':'",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n",
            "header name is not a token",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n",
            "not valid UTF-8",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nl: abc\r\n\r\n",
            "bad Content-Length \"abc\": not a number",
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 9999\r\n\r\n0123456789",
            "Content-Length 9999 larger than the 10 bytes of body",
        ),
    ];
    for (input, want) in cases {
        let err = Message::parse(input.to_vec()).expect_err(want);
        assert!(
            err.to_string().contains(want),
            "{err} does not contain {want:?}"
        );
    }
}

#[test]
fn limits() {
    let big = vec![b'a'; MAX_MESSAGE_SIZE + 1];
    assert!(matches!(
        Message::parse(big),
        Err(ParseError::TooLarge { .. })
    ));
    let mut many = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
    for _ in 0..=MAX_HEADERS {
        many.extend_from_slice(b"X: y\r\n");
    }
    many.extend_from_slice(b"\r\n");
    assert!(matches!(
        Message::parse(many),
        Err(ParseError::TooManyHeaders { .. })
    ));
}

// ----- edits -----

#[test]
fn unmodified_is_byte_exact() {
    let m = invite();
    assert!(!m.is_modified());
    assert_eq!(m.serialize(), INVITE.as_bytes());
    let mut out = b"prefix".to_vec();
    m.write_to(&mut out);
    assert_eq!(&out[6..], INVITE.as_bytes());
}

#[test]
fn add_headers_at_every_position() {
    let mut m = invite();
    m.add_header(HeaderPos::First, "Via", "SIP/2.0/UDP proxy;branch=z9hG4bKp")
        .unwrap();
    m.add_header(HeaderPos::Last, "X-Last", "1").unwrap();
    m.add_header(HeaderPos::Before(2), "X-Before-MF", "2")
        .unwrap();
    m.add_header(HeaderPos::After(2), "X-After-MF", "3")
        .unwrap();
    let out = text(&m);
    assert!(out.starts_with(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP proxy;branch=z9hG4bKp\r\nv: "
    ));
    assert!(out.contains("\r\nX-Before-MF: 2\r\nMax-Forwards : 70\r\nX-After-MF: 3\r\nt: Bob"));
    assert!(out.contains("l: 4\r\nX-Last: 1\r\n\r\nv=0\n"));
    // Reads still see the original.
    assert_eq!(m.header_count(HeaderName::Via), 2);
    let again = Message::parse(out.into_bytes()).unwrap();
    assert_eq!(again.header_count(HeaderName::Via), 3);
    assert_eq!(again.top_via().unwrap().host, "proxy");
}

#[test]
fn remove_and_replace() {
    let mut m = invite();
    assert_eq!(m.remove_headers(HeaderName::Route), 1);
    assert_eq!(m.remove_headers_named("x-custom"), 2);
    m.remove_header(0).unwrap();
    m.replace_header_value(2, "69").unwrap();
    let out = text(&m);
    assert!(!out.contains("Route: <sip:p1"));
    assert!(out.contains("Record-Route: <sip:rr.example.com;lr>\r\n"));
    assert!(!out.contains("X-Custom") && !out.contains("x-custom"));
    assert!(!out.contains("z9hG4bK776asdhds"));
    assert!(out.contains("Max-Forwards : 69\r\n"));
    let again = Message::parse(out.into_bytes()).unwrap();
    assert_eq!(again.max_forwards().unwrap(), Some(69));
    assert_eq!(again.vias().unwrap().len(), 2);
    assert_eq!(m.routes().unwrap().len(), 2, "reads see the original");
}

#[test]
fn later_replace_wins_and_removal_wins() {
    let mut m = invite();
    m.replace_header_value(2, "10").unwrap();
    m.replace_header_value(2, "20").unwrap();
    assert!(text(&m).contains("Max-Forwards : 20\r\n"));
    assert_eq!(m.edits().len(), 1);
    m.remove_header(2).unwrap();
    assert!(!text(&m).contains("Max-Forwards"));
    // A header added before a removed one survives.
    let mut m = invite();
    m.remove_header(2).unwrap();
    m.add_header(HeaderPos::Before(2), "Max-Forwards", "5")
        .unwrap();
    let out = text(&m);
    assert!(out.contains("\r\nMax-Forwards: 5\r\nt: Bob"));
    m.clear_edits();
    assert_eq!(m.serialize(), INVITE.as_bytes());
}

#[test]
fn request_uri_and_body() {
    let mut m = invite();
    m.set_request_uri("sip:bob@192.0.2.4:5060;transport=udp")
        .unwrap();
    m.set_body(&b"v=0\r\no=- 1 1 IN IP4 192.0.2.4\r\n"[..]);
    let out = text(&m);
    assert!(out.starts_with("INVITE sip:bob@192.0.2.4:5060;transport=udp SIP/2.0\r\n"));
    assert!(out.contains("\r\nl: 31\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.4\r\n"));
    let again = Message::parse(out.into_bytes()).unwrap();
    assert_eq!(again.body().len(), 31);
    assert_eq!(m.request_uri(), Some("sip:bob@biloxi.example.com"));
    assert_eq!(m.body(), b"v=0\n");
}

#[test]
fn body_without_content_length_and_with_several() {
    let mut m =
        Message::parse(&b"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nhi"[..]).unwrap();
    assert!(m.ensure_content_length());
    assert!(text(&m).ends_with("Via: SIP/2.0/UDP h\r\nContent-Length: 2\r\n\r\nhi"));
    m.set_body(&b"hello"[..]);
    assert!(!m.ensure_content_length());
    let out = text(&m);
    assert!(
        out.ends_with("Via: SIP/2.0/UDP h\r\nContent-Length: 5\r\n\r\nhello"),
        "{out}"
    );

    let mut m =
        Message::parse(&b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 9\r\n\r\nhi"[..])
            .unwrap();
    m.set_body(Vec::new());
    assert_eq!(
        text(&m),
        "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn edits_on_a_header_section_without_crlf() {
    let mut m = Message::parse(&b"OPTIONS sip:a@b SIP/2.0\r\nTo: "[..]).unwrap();
    m.replace_header_value(0, "<sip:a@b>").unwrap();
    m.add_header(HeaderPos::Last, "X-A", "1").unwrap();
    m.add_header(HeaderPos::After(0), "X-B", "2").unwrap();
    m.set_body(&b"x"[..]);
    assert_eq!(
        text(&m),
        "OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nContent-Length: 1\r\nX-A: 1\r\nX-B: 2\r\n\r\nx"
    );
}

#[test]
fn edit_errors() {
    let mut m = invite();
    assert_eq!(m.remove_header(99), Err(EditError::NoSuchHeader(99)));
    assert_eq!(
        m.add_header(HeaderPos::Last, "Bad Name", "x"),
        Err(EditError::BadHeaderName("Bad Name".into()))
    );
    assert_eq!(
        m.add_header(HeaderPos::Last, "X", "a\r\nInjected: 1"),
        Err(EditError::BadHeaderValue)
    );
    assert_eq!(
        m.replace_header_value(0, "a\nb"),
        Err(EditError::BadHeaderValue)
    );
    assert!(m.set_request_uri("sip:a b").is_err());
    // Splices may cover any range of the message, but not a reversed one
    // or one past its end.
    assert!(m
        .edit(Edit::Splice {
            start: 5,
            end: 3,
            text: String::new()
        })
        .is_err());
    assert!(m
        .edit(Edit::Splice {
            start: 0,
            end: usize::MAX,
            text: String::new()
        })
        .is_err());
    assert!(!m.is_modified());
    let mut r = Message::parse(&b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"[..]).unwrap();
    assert_eq!(r.set_request_uri("sip:x"), Err(EditError::NotARequest));
}

// ----- Via received/rport -----

fn via_msg(via: &str) -> Message {
    Message::parse(
        format!("OPTIONS sip:a@b SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP second\r\nl: 0\r\n\r\n")
            .into_bytes(),
    )
    .unwrap()
}

fn top_via_after(via: &str, ip: IpAddr, port: u16, force: bool) -> String {
    let mut m = via_msg(via);
    m.add_via_receive_params(ip, port, force).unwrap();
    let out = Message::parse(m.serialize()).unwrap();
    out.header(HeaderName::Via).unwrap().to_owned()
}

#[test]
fn via_received_and_rport() {
    let src = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    // Host name: received added.
    assert_eq!(
        top_via_after(
            "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1",
            src,
            5060,
            false
        ),
        "SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1;received=198.51.100.7"
    );
    // Same address, no rport: nothing to do.
    let m = via_msg("SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1");
    assert!(via_receive_params(&m, src, 5060, false).unwrap().is_empty());
    // rport requested: received even for the same address, rport filled in place.
    assert_eq!(
        top_via_after(
            "SIP/2.0/UDP 198.51.100.7;rport;branch=z9hG4bK1",
            src,
            6000,
            false
        ),
        "SIP/2.0/UDP 198.51.100.7;rport=6000;branch=z9hG4bK1;received=198.51.100.7"
    );
    // force_rport adds it.
    assert_eq!(
        top_via_after("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", src, 6000, true),
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=198.51.100.7;rport=6000"
    );
    // An existing received is rewritten.
    assert_eq!(
        top_via_after(
            "SIP/2.0/UDP h;received=1.2.3.4;branch=z9hG4bK1",
            src,
            5060,
            false
        ),
        "SIP/2.0/UDP h;received=198.51.100.7;branch=z9hG4bK1"
    );
    // IPv6 sent-by and source.
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9));
    let m = via_msg("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK1");
    assert!(via_receive_params(&m, v6, 5060, false).unwrap().is_empty());
    assert_eq!(
        top_via_after("SIP/2.0/UDP [2001:db8::8];branch=z9hG4bK1", v6, 5060, false),
        "SIP/2.0/UDP [2001:db8::8];branch=z9hG4bK1;received=2001:db8::9"
    );
    // Only the top via-parm of a comma-joined Via changes.
    assert_eq!(
        top_via_after(
            "SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b",
            src,
            5060,
            false
        ),
        "SIP/2.0/UDP a;branch=z9hG4bK1;received=198.51.100.7 , SIP/2.0/UDP b"
    );
}

// ----- replies -----

#[test]
fn stateless_reply() {
    let mut m = invite();
    m.add_via_receive_params(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)), 5062, false)
        .unwrap();
    let r = build_reply(
        &m,
        486,
        "Busy Here",
        Some("abc"),
        "Retry-After: 60\r\n",
        b"",
    )
    .unwrap();
    let r = String::from_utf8(r).unwrap();
    assert_eq!(
        r,
        "SIP/2.0 486 Busy Here\r\n\
v: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport=5062;received=198.51.100.7\r\n\
Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bK1, SIP/2.0/UDP h3;branch=z9hG4bK2\r\n\
f: \"Alice A.\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
t: Bob <sip:bob@biloxi.example.com>;tag=abc\r\n\
i: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Retry-After: 60\r\n\
Content-Length: 0\r\n\r\n"
    );
    let reply = Message::parse(r.into_bytes()).unwrap();
    reply.validate().unwrap();
    assert_eq!(reply.to().unwrap().tag(), Some("abc"));
    assert_eq!(reply.vias().unwrap().len(), 3);

    // A To that already has a tag keeps it; extra headers without CRLF; body.
    let m = Message::parse(
        &b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\r\n"[..],
    )
    .unwrap();
    let r = build_reply(&m, 200, "OK", Some("zzz"), "X-A: 1", b"ok").unwrap();
    let r = String::from_utf8(r).unwrap();
    assert!(r.contains("To: <sip:a@b>;tag=2\r\n"));
    assert!(r.ends_with("X-A: 1\r\nContent-Length: 2\r\n\r\nok"));

    let no_from =
        Message::parse(&b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"[..]).unwrap();
    assert_eq!(
        build_reply(&no_from, 400, "Bad Request", None, "", b""),
        Err(ParseError::MissingHeader("From"))
    );
    let resp = Message::parse(&b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"[..]).unwrap();
    assert_eq!(
        build_reply(&resp, 400, "x", None, "", b""),
        Err(ParseError::NotARequest)
    );
}

#[test]
fn replies_to_unparsable_requests() {
    let bad_cl = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 99\r\n\r\nshort";
    assert!(Message::parse(&bad_cl[..]).is_err());
    assert!(looks_like_request(bad_cl));
    let r = reply_to_unparsable(bad_cl, 400, "Bad Content-Length").unwrap();
    let reply = Message::parse(r).unwrap();
    assert_eq!(reply.status_code(), Some(400));
    assert_eq!(reply.reason(), Some("Bad Content-Length"));
    assert_eq!(reply.call_id().unwrap(), "c");
    // A response, garbage, or a request without the needed headers: dropped.
    assert!(reply_to_unparsable(
        b"SIP/2.0 4294967301 x\r\nVia: SIP/2.0/UDP h\r\n\r\n",
        400,
        "x"
    )
    .is_none());
    assert!(!looks_like_request(b"\x00\x01garbage"));
    assert!(reply_to_unparsable(b"\x00\x01garbage", 400, "x").is_none());
    assert!(reply_to_unparsable(
        b"INVITE  sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",
        400,
        "x"
    )
    .is_none());
}

// ----- stream framing -----

#[test]
fn stream_framing_of_consecutive_messages() {
    let one = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nContent-Length: 3\r\n\r\nabc";
    let two = b"SIP/2.0 200 OK\r\nl:0\r\n\r\n";
    let mut stream = b"\r\n\r\n".to_vec();
    stream.extend_from_slice(one);
    stream.extend_from_slice(two);
    let mut rest = &stream[..];
    let mut frames = Vec::new();
    while let Some(n) = frame_len(rest).unwrap() {
        frames.push(&rest[..n]);
        rest = &rest[n..];
    }
    assert!(rest.is_empty());
    assert_eq!(frames, [&b"\r\n\r\n"[..], &one[..], &two[..]]);
    assert_eq!(Message::parse(frames[1].to_vec()).unwrap().body(), b"abc");
}

#[test]
fn via_receive_params_decided_twice_are_added_once() {
    let mut msg = kemi_core::sip::Message::parse(
        &b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n\
From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n"[..],
    )
    .expect("parses");
    let src: std::net::IpAddr = "192.0.2.7".parse().expect("ip");
    msg.add_via_receive_params(src, 6000, false).expect("first");
    msg.add_via_receive_params(src, 6000, true)
        .expect("second, with rport forced");
    let out = String::from_utf8(msg.serialize()).expect("utf8");
    assert!(
        out.contains(
            "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=192.0.2.7;rport=6000\r\n"
        ),
        "{out}"
    );
    assert_eq!(out.matches("received=").count(), 1, "{out}");
}

#[test]
fn message_is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Message>();
}
