//! SIP parser benchmarks: `cargo bench -p kemi-core --bench sip`.
//! Results and the machine they ran on are in BENCHMARKS.md.

use bytes::Bytes;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kemi_core::sip::{HeaderName, HeaderPos, Message};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

/// A typical INVITE from a softphone, with an SDP offer (~1 KB).
const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.101:5060;transport=udp>\r\n\
Route: <sip:proxy.atlanta.example.com;lr>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY, MESSAGE\r\n\
Supported: replaces, timer, 100rel\r\n\
User-Agent: ExamplePhone/5.2.1\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 300\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 9 18 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:18 G729/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=label:1\r\n";

const REGISTER: &[u8] = b"REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.201:5060;branch=z9hG4bKnashds7;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Bob <sip:bob@biloxi.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:bob@192.0.2.201:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n\
Expires: 3600\r\n\
User-Agent: ExamplePhone/5.2.1\r\n\
Content-Length: 0\r\n\
\r\n";

const OK200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.10\r\n\
Via: SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.101\r\n\
Record-Route: <sip:proxy.atlanta.example.com;lr>\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:bob@192.0.2.4>\r\n\
Content-Length: 0\r\n\
\r\n";

/// CPU time of the benchmarking thread: on a shared machine (this one has 2
/// cores and other builds running) wall time also counts the time the thread
/// waited for a core; thread CPU time does not.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec; the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// Parse benchmarks, measured in wall time or in thread CPU time.
fn parse_group<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let mut g = c.benchmark_group(group);
    for (name, msg) in [
        ("invite_sdp", INVITE),
        ("register", REGISTER),
        ("200_ok", OK200),
    ] {
        let bytes = Bytes::from_static(msg);
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| Message::parse(black_box(bytes.clone())))
        });
    }
    g.finish();
}

fn parse_cpu(c: &mut Criterion<ThreadCpu>) {
    parse_group(c, "parse_cpu");
}

fn parse(c: &mut Criterion) {
    for (name, msg) in [
        ("invite_sdp", INVITE),
        ("register", REGISTER),
        ("200_ok", OK200),
    ] {
        assert!(
            Message::parse_strict(Bytes::from_static(msg)).is_ok(),
            "{name}"
        );
    }
    // First line + header index + body framing: what a worker does on receive.
    parse_group(c, "parse");

    // The values a stateless proxy reads for nearly every request.
    let bytes = Bytes::from_static(INVITE);
    c.bench_function("parse_and_read/invite_sdp", |b| {
        b.iter(|| {
            let m = Message::parse(black_box(bytes.clone())).ok()?;
            let via = m.top_via().ok()?;
            let from = m.from().ok()?;
            let to = m.to().ok()?;
            let cseq = m.cseq().ok()?;
            let mf = m.max_forwards().ok()?;
            let ruri = m.parsed_request_uri().ok()?;
            Some((
                via.branch().map(str::len),
                from.tag().map(str::len),
                to.tag().is_none(),
                cseq.number,
                mf,
                ruri.host.len(),
                m.call_id().ok()?.len(),
            ))
        })
    });
}

fn edit(c: &mut Criterion) {
    let bytes = Bytes::from_static(INVITE);
    let src = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    // What a forwarding proxy does: received/rport, a Record-Route, its own
    // Via on top, Max-Forwards decremented, Route consumed, new R-URI.
    c.bench_function("edit_serialize/invite_sdp", |b| {
        b.iter(|| {
            let mut m = Message::parse(black_box(bytes.clone())).ok()?;
            m.add_via_receive_params(src, 5062, false).ok()?;
            let mf = m.headers_of(HeaderName::MaxForwards).next()?.index;
            let n = m.max_forwards().ok()??;
            m.replace_header_value(mf, &(n - 1).to_string()).ok()?;
            m.remove_headers(HeaderName::Route);
            m.add_header(
                HeaderPos::First,
                "Via",
                "SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-proxy-1",
            )
            .ok()?;
            m.add_header(HeaderPos::First, "Record-Route", "<sip:203.0.113.1;lr>")
                .ok()?;
            m.set_request_uri("sip:bob@192.0.2.4:5060").ok()?;
            Some(m.serialize())
        })
    });
}

criterion_group!(benches, parse, edit);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = parse_cpu
}
criterion_main!(benches, cpu);
