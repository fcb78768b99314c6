//! Header field names: the ones the proxy knows, classified once at receive
//! time (case-insensitive, compact forms folded into their full form).

use std::borrow::Cow;
use std::fmt;

macro_rules! header_names {
    ($( $variant:ident => $canon:literal ;)*) => {
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

            /// Every known name (not `Other`).
            pub const ALL: &'static [HeaderName] = &[$( HeaderName::$variant, )*];
        }
    };
}

header_names! {
    Via => "Via";
    From => "From";
    To => "To";
    CallId => "Call-ID";
    CSeq => "CSeq";
    Contact => "Contact";
    MaxForwards => "Max-Forwards";
    ContentLength => "Content-Length";
    ContentType => "Content-Type";
    ContentEncoding => "Content-Encoding";
    ContentDisposition => "Content-Disposition";
    ContentLanguage => "Content-Language";
    Route => "Route";
    RecordRoute => "Record-Route";
    Expires => "Expires";
    MinExpires => "Min-Expires";
    Date => "Date";
    Subject => "Subject";
    Supported => "Supported";
    Unsupported => "Unsupported";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Allow => "Allow";
    Accept => "Accept";
    AcceptEncoding => "Accept-Encoding";
    AcceptLanguage => "Accept-Language";
    AcceptContact => "Accept-Contact";
    RejectContact => "Reject-Contact";
    RequestDisposition => "Request-Disposition";
    Authorization => "Authorization";
    ProxyAuthorization => "Proxy-Authorization";
    WwwAuthenticate => "WWW-Authenticate";
    ProxyAuthenticate => "Proxy-Authenticate";
    AuthenticationInfo => "Authentication-Info";
    UserAgent => "User-Agent";
    Server => "Server";
    Event => "Event";
    AllowEvents => "Allow-Events";
    SubscriptionState => "Subscription-State";
    ReferTo => "Refer-To";
    ReferredBy => "Referred-By";
    SessionExpires => "Session-Expires";
    MinSe => "Min-SE";
    Identity => "Identity";
    IdentityInfo => "Identity-Info";
    Path => "Path";
    ServiceRoute => "Service-Route";
    PAssertedIdentity => "P-Asserted-Identity";
    PPreferredIdentity => "P-Preferred-Identity";
    Privacy => "Privacy";
    Reason => "Reason";
    RetryAfter => "Retry-After";
    Warning => "Warning";
    Timestamp => "Timestamp";
    Organization => "Organization";
    Priority => "Priority";
    ReplyTo => "Reply-To";
    InReplyTo => "In-Reply-To";
    AlertInfo => "Alert-Info";
    CallInfo => "Call-Info";
    ErrorInfo => "Error-Info";
    MimeVersion => "MIME-Version";
    RSeq => "RSeq";
    RAck => "RAck";
    Replaces => "Replaces";
}

impl HeaderName {
    /// Longest known name (`Request-Disposition`, `P-Preferred-Identity`...).
    pub(crate) const MAX_KNOWN_LEN: usize = 24;

    /// Classifies a lower-case name: dispatch on the first byte, then a
    /// handful of comparisons (a flat `match` over every name costs ~25 ns).
    pub(crate) fn from_lower(lower: &[u8]) -> HeaderName {
        use HeaderName::*;
        let Some(&first) = lower.first() else {
            return Other;
        };
        if lower.len() == 1 {
            return match first {
                b'a' => AcceptContact,
                b'b' => ReferredBy,
                b'c' => ContentType,
                b'd' => RequestDisposition,
                b'e' => ContentEncoding,
                b'f' => From,
                b'i' => CallId,
                b'j' => RejectContact,
                b'k' => Supported,
                b'l' => ContentLength,
                b'm' => Contact,
                b'n' => IdentityInfo,
                b'o' => Event,
                b'r' => ReferTo,
                b's' => Subject,
                b't' => To,
                b'u' => AllowEvents,
                b'v' => Via,
                b'x' => SessionExpires,
                b'y' => Identity,
                _ => Other,
            };
        }
        match first {
            b'a' => match lower {
                b"allow" => Allow,
                b"accept" => Accept,
                b"accept-encoding" => AcceptEncoding,
                b"accept-language" => AcceptLanguage,
                b"accept-contact" => AcceptContact,
                b"authorization" => Authorization,
                b"authentication-info" => AuthenticationInfo,
                b"allow-events" => AllowEvents,
                b"alert-info" => AlertInfo,
                _ => Other,
            },
            b'c' => match lower {
                b"call-id" => CallId,
                b"cseq" => CSeq,
                b"contact" => Contact,
                b"content-length" => ContentLength,
                b"content-type" => ContentType,
                b"content-encoding" => ContentEncoding,
                b"content-disposition" => ContentDisposition,
                b"content-language" => ContentLanguage,
                b"call-info" => CallInfo,
                _ => Other,
            },
            b'd' => match lower {
                b"date" => Date,
                _ => Other,
            },
            b'e' => match lower {
                b"expires" => Expires,
                b"event" => Event,
                b"error-info" => ErrorInfo,
                _ => Other,
            },
            b'f' => match lower {
                b"from" => From,
                _ => Other,
            },
            b'i' => match lower {
                b"identity" => Identity,
                b"identity-info" => IdentityInfo,
                b"in-reply-to" => InReplyTo,
                _ => Other,
            },
            b'm' => match lower {
                b"max-forwards" => MaxForwards,
                b"min-expires" => MinExpires,
                b"min-se" => MinSe,
                b"mime-version" => MimeVersion,
                _ => Other,
            },
            b'o' => match lower {
                b"organization" => Organization,
                _ => Other,
            },
            b'p' => match lower {
                b"proxy-require" => ProxyRequire,
                b"proxy-authorization" => ProxyAuthorization,
                b"proxy-authenticate" => ProxyAuthenticate,
                b"path" => Path,
                b"p-asserted-identity" => PAssertedIdentity,
                b"p-preferred-identity" => PPreferredIdentity,
                b"privacy" => Privacy,
                b"priority" => Priority,
                _ => Other,
            },
            b'r' => match lower {
                b"route" => Route,
                b"record-route" => RecordRoute,
                b"require" => Require,
                b"reject-contact" => RejectContact,
                b"request-disposition" => RequestDisposition,
                b"refer-to" => ReferTo,
                b"referred-by" => ReferredBy,
                b"reason" => Reason,
                b"retry-after" => RetryAfter,
                b"reply-to" => ReplyTo,
                b"rseq" => RSeq,
                b"rack" => RAck,
                b"replaces" => Replaces,
                _ => Other,
            },
            b's' => match lower {
                b"subject" => Subject,
                b"supported" => Supported,
                b"server" => Server,
                b"subscription-state" => SubscriptionState,
                b"session-expires" => SessionExpires,
                b"service-route" => ServiceRoute,
                _ => Other,
            },
            b't' => match lower {
                b"to" => To,
                b"timestamp" => Timestamp,
                _ => Other,
            },
            b'u' => match lower {
                b"unsupported" => Unsupported,
                b"user-agent" => UserAgent,
                _ => Other,
            },
            b'v' => match lower {
                b"via" => Via,
                _ => Other,
            },
            b'w' => match lower {
                b"www-authenticate" => WwwAuthenticate,
                b"warning" => Warning,
                _ => Other,
            },
            _ => Other,
        }
    }

    /// Classifies a raw header name, case-insensitively.
    #[inline]
    pub fn classify(raw: &[u8]) -> HeaderName {
        if raw.is_empty() || raw.len() > Self::MAX_KNOWN_LEN {
            return HeaderName::Other;
        }
        let mut lower = [0u8; Self::MAX_KNOWN_LEN];
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
        for &h in HeaderName::ALL {
            assert_eq!(HeaderName::parse(h.as_str()), h, "{h:?}");
            assert_eq!(HeaderName::parse(&h.as_str().to_uppercase()), h, "{h:?}");
        }
        for c in "abcdefijklmnorstuvxy".chars() {
            let h = HeaderName::parse(&c.to_string());
            assert_ne!(h, HeaderName::Other, "{c}");
            assert_eq!(h.compact(), Some(c));
            assert_eq!(HeaderName::parse(h.as_str()), h);
        }
    }
}
