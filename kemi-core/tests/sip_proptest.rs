//! Property tests of the SIP message: no input panics (the checks call every
//! accessor), an unmodified message serialises to its own bytes, and
//! parse(serialize(parse(x))) is stable. Inputs: random bytes, mutated RFC
//! 4475 messages, and generated messages with SIP-like syntax.

use kemi_core::sip::{
    frame_len, reply_to_unparsable, HeaderName, HeaderPos, Message, NameAddr, Uri, Via,
};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

fn corpus() -> &'static Vec<Vec<u8>> {
    static C: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/rfc4475");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("rfc4475 directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "dat"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read(p).expect("read"))
            .collect()
    })
}

/// Every check the fuzz target makes, minus the ones on edited output.
fn check(data: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(Some(n)) = frame_len(data) {
        prop_assert!(n <= data.len());
    }
    if let Some(r) = reply_to_unparsable(data, 400, "Bad Request") {
        prop_assert!(Message::parse(r).is_ok());
    }
    let Ok(msg) = Message::parse(data.to_vec()) else {
        return Ok(());
    };
    let out = msg.serialize();
    prop_assert_eq!(&out[..], msg.as_bytes());
    let trimmed: &[u8] = {
        let lead = data
            .iter()
            .take_while(|&&c| c == b'\r' || c == b'\n')
            .count();
        &data[lead..]
    };
    prop_assert!(
        trimmed.starts_with(&out),
        "serialisation is a prefix of the input"
    );
    let again = Message::parse(out.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(again.serialize(), out);
    prop_assert_eq!(again.header_len(), msg.header_len());

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
    let _ = (msg.method(), msg.first_line(), msg.body());
    for h in msg.headers() {
        let _ = (
            h.unfolded(),
            NameAddr::parse(h.value),
            Uri::parse(h.value),
            Via::parse(h.value),
        );
    }

    // Edits that are valid for any message keep it parseable.
    let mut m = msg.clone();
    m.add_header(
        HeaderPos::First,
        "Via",
        "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKp",
    )
    .map_err(|e| TestCaseError::fail(e.to_string()))?;
    m.add_header(HeaderPos::Last, "X-P", "1")
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    m.set_body(b"abc".to_vec());
    let edited = Message::parse(m.serialize()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(edited.body(), b"abc");
    // Two added fields; set_body adds a Content-Length if there was none
    // and removes all but the first if there were several.
    let cl = msg.header_count(HeaderName::ContentLength);
    let expected = msg.header_len() + 2 + usize::from(cl == 0) - cl.saturating_sub(1);
    prop_assert_eq!(edited.header_len(), expected);
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(b":;,<>\"\r\n @[]%\\/=?&\t0-9aZ".to_vec());
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), prop::collection::vec(special, 1..8))
            .prop_map(|(p, v)| Mutation::Insert(p, v)),
        (any::<usize>(), 1..40usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut v: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = v.len().max(1);
        match m {
            Mutation::Flip(p, b) => {
                if let Some(x) = v.get_mut(p % len) {
                    *x = *b;
                }
            }
            Mutation::Insert(p, bytes) => {
                let at = p % (v.len() + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let at = p % len;
                let end = (at + n).min(v.len());
                if at < end {
                    v.drain(at..end);
                }
            }
            Mutation::Truncate(p) => v.truncate(p % len),
        }
    }
    v
}

/// A header line with a known or unknown name, spacing, folds and values
/// drawn from SIP's punctuation.
fn header_line() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "Via",
        "v",
        "From",
        "f",
        "To",
        "t",
        "Call-ID",
        "i",
        "CSeq",
        "Contact",
        "m",
        "Route",
        "Record-Route",
        "Max-Forwards",
        "Content-Type",
        "c",
        "Expires",
        "Date",
        "X-Ext",
        "Subject",
        "s",
        "Supported",
        "k",
    ]);
    let value = "[ -~]{0,40}";
    (
        names,
        "[ \t]{0,2}",
        value,
        prop::option::of("[ \t]{1,3}[!-~]{1,10}"),
    )
        .prop_map(|(n, sp, v, fold)| {
            let v = v.replace(['\r', '\n'], "");
            match fold {
                Some(f) => format!("{n}{sp}: {v}\r\n{f}\r\n"),
                None => format!("{n}{sp}: {v}\r\n"),
            }
        })
}

fn generated() -> impl Strategy<Value = Vec<u8>> {
    let first = prop_oneof![
        ("[A-Z]{3,9}", "sips?:[a-z0-9.]{1,10}@[a-z0-9.]{1,12}(:[0-9]{1,5})?(;[a-z]{1,4}(=[a-z0-9]{1,4})?){0,2}")
            .prop_map(|(m, u)| format!("{m} {u} SIP/2.0\r\n")),
        ("[1-6][0-9]{2}", "[ -~]{0,20}").prop_map(|(c, r)| format!("SIP/2.0 {c} {r}\r\n")),
    ];
    (
        first,
        prop::collection::vec(header_line(), 0..12),
        prop::option::of("[ -~\r\n]{0,60}"),
    )
        .prop_map(|(first, headers, body)| {
            let mut s = first;
            for h in headers {
                s.push_str(&h);
            }
            if let Some(b) = body {
                s.push_str(&format!("Content-Length: {}\r\n\r\n{b}", b.len()));
            } else {
                s.push_str("\r\n");
            }
            s.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(data in prop::collection::vec(any::<u8>(), 0..600)) {
        check(&data)?;
    }

    #[test]
    fn mutated_rfc4475(i in 0..49usize, muts in prop::collection::vec(mutation(), 1..6)) {
        let base = corpus()[i % corpus().len()].clone();
        check(&apply(base, &muts))?;
    }

    #[test]
    fn generated_messages(data in generated()) {
        // Generated first lines and header names are well-formed, so the
        // header index must always be built.
        let parsed = Message::parse(data.clone());
        prop_assert!(parsed.is_ok(), "{:?}: {:?}", String::from_utf8_lossy(&data), parsed.err());
        check(&data)?;
    }
}

#[test]
fn every_rfc4475_file_passes_the_checks() {
    for data in corpus() {
        check(data).unwrap();
    }
}
