//! Header field names: the ones the proxy knows, classified once at receive
//! time (case-insensitive, compact forms folded into their full form).

use std::borrow::Cow;
use std::fmt;

macro_rules! header_names {
    ($( $variant:ident => $canon:literal, [$($alias:literal),*] ;)*) => {
        /// A classified header field name. Compact forms map to their full
        /// form (`v` is [`HeaderName::Via`]); unknown names are `Other`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum HeaderName {
            $( $variant, )*
            /// Any header the proxy does not classify; compare by raw name.
            Other,
        }

        impl HeaderName {
            /// The canonical (full, usual-case) name; `""` for `Other`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( HeaderName::$variant => $canon, )*
                    HeaderName::Other => "",
                }
            }

            /// Classifies a lower-case name.
            fn from_lower(lower: &[u8]) -> HeaderName {
                match lower {
                    $( $($alias)|* => HeaderName::$variant, )*
                    _ => HeaderName::Other,
                }
            }
        }
    };
}

header_names! {
    Via => "Via", [b"via", b"v"];
    From => "From", [b"from", b"f"];
    To => "To", [b"to", b"t"];
    CallId => "Call-ID", [b"call-id", b"i"];
    CSeq => "CSeq", [b"cseq"];
    Contact => "Contact", [b"contact", b"m"];
    MaxForwards => "Max-Forwards", [b"max-forwards"];
    ContentLength => "Content-Length", [b"content-length", b"l"];
    ContentType => "Content-Type", [b"content-type", b"c"];
    ContentEncoding => "Content-Encoding", [b"content-encoding", b"e"];
    ContentDisposition => "Content-Disposition", [b"content-disposition"];
    ContentLanguage => "Content-Language", [b"content-language"];
    Route => "Route", [b"route"];
    RecordRoute => "Record-Route", [b"record-route"];
    Expires => "Expires", [b"expires"];
    MinExpires => "Min-Expires", [b"min-expires"];
    Date => "Date", [b"date"];
    Subject => "Subject", [b"subject", b"s"];
    Supported => "Supported", [b"supported", b"k"];
    Unsupported => "Unsupported", [b"unsupported"];
    Require => "Require", [b"require"];
    ProxyRequire => "Proxy-Require", [b"proxy-require"];
    Allow => "Allow", [b"allow"];
    Accept => "Accept", [b"accept"];
    AcceptEncoding => "Accept-Encoding", [b"accept-encoding"];
    AcceptLanguage => "Accept-Language", [b"accept-language"];
    AcceptContact => "Accept-Contact", [b"accept-contact", b"a"];
    RejectContact => "Reject-Contact", [b"reject-contact", b"j"];
    RequestDisposition => "Request-Disposition", [b"request-disposition", b"d"];
    Authorization => "Authorization", [b"authorization"];
    ProxyAuthorization => "Proxy-Authorization", [b"proxy-authorization"];
    WwwAuthenticate => "WWW-Authenticate", [b"www-authenticate"];
    ProxyAuthenticate => "Proxy-Authenticate", [b"proxy-authenticate"];
    AuthenticationInfo => "Authentication-Info", [b"authentication-info"];
    UserAgent => "User-Agent", [b"user-agent"];
    Server => "Server", [b"server"];
    Event => "Event", [b"event", b"o"];
    AllowEvents => "Allow-Events", [b"allow-events", b"u"];
    SubscriptionState => "Subscription-State", [b"subscription-state"];
    ReferTo => "Refer-To", [b"refer-to", b"r"];
    ReferredBy => "Referred-By", [b"referred-by", b"b"];
    SessionExpires => "Session-Expires", [b"session-expires", b"x"];
    MinSe => "Min-SE", [b"min-se"];
    Identity => "Identity", [b"identity", b"y"];
    IdentityInfo => "Identity-Info", [b"identity-info", b"n"];
    Path => "Path", [b"path"];
    ServiceRoute => "Service-Route", [b"service-route"];
    PAssertedIdentity => "P-Asserted-Identity", [b"p-asserted-identity"];
    PPreferredIdentity => "P-Preferred-Identity", [b"p-preferred-identity"];
    Privacy => "Privacy", [b"privacy"];
    Reason => "Reason", [b"reason"];
    RetryAfter => "Retry-After", [b"retry-after"];
    Warning => "Warning", [b"warning"];
    Timestamp => "Timestamp", [b"timestamp"];
    Organization => "Organization", [b"organization"];
    Priority => "Priority", [b"priority"];
    ReplyTo => "Reply-To", [b"reply-to"];
    InReplyTo => "In-Reply-To", [b"in-reply-to"];
    AlertInfo => "Alert-Info", [b"alert-info"];
    CallInfo => "Call-Info", [b"call-info"];
    ErrorInfo => "Error-Info", [b"error-info"];
    MimeVersion => "MIME-Version", [b"mime-version"];
    RSeq => "RSeq", [b"rseq"];
    RAck => "RAck", [b"rack"];
    Replaces => "Replaces", [b"replaces"];
}

/// Longest known name (`Request-Disposition`, `P-Preferred-Identity`...).
const MAX_KNOWN_LEN: usize = 24;

impl HeaderName {
    /// Classifies a raw header name, case-insensitively.
    #[inline]
    pub fn classify(raw: &[u8]) -> HeaderName {
        if raw.is_empty() || raw.len() > MAX_KNOWN_LEN {
            return HeaderName::Other;
        }
        let mut lower = [0u8; MAX_KNOWN_LEN];
        for (d, s) in lower.iter_mut().zip(raw) {
            *d = s.to_ascii_lowercase();
        }
        HeaderName::from_lower(lower.get(..raw.len()).unwrap_or_default())
    }

    /// Classifies a name given as text (`"Via"`, `"v"`, `"X-Foo"`...).
    pub fn parse(name: &str) -> HeaderName {
        HeaderName::classify(name.as_bytes())
    }

    /// The compact form (RFC 3261 7.3.3 and later RFCs), if there is one.
    pub fn compact(self) -> Option<char> {
        Some(match self {
            HeaderName::AcceptContact => 'a',
            HeaderName::ReferredBy => 'b',
            HeaderName::ContentType => 'c',
            HeaderName::RequestDisposition => 'd',
            HeaderName::ContentEncoding => 'e',
            HeaderName::From => 'f',
            HeaderName::CallId => 'i',
            HeaderName::RejectContact => 'j',
            HeaderName::Supported => 'k',
            HeaderName::ContentLength => 'l',
            HeaderName::Contact => 'm',
            HeaderName::IdentityInfo => 'n',
            HeaderName::Event => 'o',
            HeaderName::ReferTo => 'r',
            HeaderName::Subject => 's',
            HeaderName::To => 't',
            HeaderName::AllowEvents => 'u',
            HeaderName::Via => 'v',
            HeaderName::SessionExpires => 'x',
            HeaderName::Identity => 'y',
            _ => return None,
        })
    }

    /// True if the header may carry several comma-joined values that
    /// [`crate::sip::Message`] splits (Via, Contact, Route, Record-Route...).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Contact
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Path
                | HeaderName::ServiceRoute
                | HeaderName::Supported
                | HeaderName::Require
                | HeaderName::ProxyRequire
                | HeaderName::Unsupported
                | HeaderName::Allow
                | HeaderName::Accept
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field of a received message, as the parser indexed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// Position among the message's header fields (0 = first); edits use it.
    pub index: usize,
    /// The classified name.
    pub name: HeaderName,
    /// The name exactly as received (`v`, `VIA`, `C%6Fntact`...).
    pub raw_name: &'a str,
    /// The value as received, LWS-trimmed; folded lines keep their CRLF and
    /// leading white space (see [`Header::unfolded`]).
    pub value: &'a str,
}

impl<'a> Header<'a> {
    /// The value with line folding replaced by single spaces.
    pub fn unfolded(&self) -> Cow<'a, str> {
        super::scan::unfold(self.value)
    }

    /// True if this header has the given name: compact and full forms match
    /// each other, other names compare case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        match HeaderName::parse(name) {
            HeaderName::Other => {
                self.name == HeaderName::Other && self.raw_name.eq_ignore_ascii_case(name)
            }
            known => self.name == known,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_names() {
        assert_eq!(HeaderName::parse("ViA"), HeaderName::Via);
        assert_eq!(HeaderName::parse("v"), HeaderName::Via);
        assert_eq!(HeaderName::parse("V"), HeaderName::Via);
        assert_eq!(HeaderName::parse("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse("l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::parse("i"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("C%6Fntact"), HeaderName::Other);
        assert_eq!(
            HeaderName::parse("X-Very-Long-Extension-Header-Name"),
            HeaderName::Other
        );
        assert_eq!(HeaderName::parse(""), HeaderName::Other);
        for c in "abcdefijklmnorstuvxy".chars() {
            let h = HeaderName::parse(&c.to_string());
            assert_ne!(h, HeaderName::Other, "{c}");
            assert_eq!(h.compact(), Some(c));
            assert_eq!(HeaderName::parse(h.as_str()), h);
        }
    }
}
