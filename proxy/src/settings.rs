//! What the server needs from the config: sockets, worker counts, TCP
//! limits, log level. Kept apart from the config loader so transports
//! depend on a few plain values.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use crate::router::Proto;

/// Kamailio's default SIP port.
pub const DEFAULT_PORT: u16 = 5060;
/// Kamailio's default `children`.
pub const DEFAULT_CHILDREN: usize = 8;
/// Kamailio's default `tcp_connection_lifetime` (seconds).
pub const DEFAULT_TCP_LIFETIME: u64 = 120;
/// Kamailio's default `tcp_max_connections`.
pub const DEFAULT_TCP_MAX_CONNECTIONS: usize = 2048;

/// One `listen` value: `[proto:]host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenAddr {
    /// `None`: both UDP and TCP, as Kamailio does for a `listen` without
    /// protocol.
    pub proto: Option<Proto>,
    pub host: String,
    pub port: Option<u16>,
}

impl ListenAddr {
    /// Parses `udp:127.0.0.1:5060`, `tcp:[::1]`, `10.0.0.1`, `udp:*:5060`...
    /// Anything after the address (`advertise ...`, `name ...`) is ignored.
    pub fn parse(value: &str) -> Result<ListenAddr, String> {
        let value = value.trim().trim_matches('"');
        let value = value.split_whitespace().next().unwrap_or("");
        let (proto, rest) = match value.split_once(':') {
            Some((p, rest)) if p.eq_ignore_ascii_case("udp") => (Some(Proto::Udp), rest),
            Some((p, rest)) if p.eq_ignore_ascii_case("tcp") => (Some(Proto::Tcp), rest),
            Some((p, _))
                if ["tls", "sctp", "ws", "wss"].contains(&p.to_ascii_lowercase().as_str()) =>
            {
                return Err(format!(
                    "listen: protocol {p} is not supported (udp and tcp are)"
                ));
            }
            _ => (None, value),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("listen: missing ']' in {value}"))?;
            (host.to_string(), after.strip_prefix(':'))
        } else if rest.matches(':').count() > 1 {
            // A bare IPv6 address without brackets has no port.
            (rest.to_string(), None)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("listen: no address in {value:?}"));
        }
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("listen: bad port {p:?} in {value}"))?,
            ),
            None => None,
        };
        Ok(ListenAddr { proto, host, port })
    }
}

/// The server's view of the config.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub listen: Vec<ListenAddr>,
    /// `port=`: for `listen` values without a port.
    pub port: u16,
    /// `children=`: UDP workers per UDP socket.
    pub children: usize,
    /// `tcp_children=` (defaults to `children`): TCP workers in total.
    pub tcp_children: usize,
    pub disable_tcp: bool,
    /// `tcp_connection_lifetime=`: idle TCP connections close after this.
    pub tcp_lifetime: Duration,
    /// `tcp_max_connections=`: open TCP connections allowed at once.
    pub tcp_max_connections: usize,
    /// `tcp_accept_no_cl=`: a TCP message without Content-Length has no
    /// body (instead of being refused).
    pub tcp_accept_no_cl: bool,
    /// `debug=` (Kamailio scale: -5 alert .. 3 debug).
    pub debug: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: Vec::new(),
            port: DEFAULT_PORT,
            children: DEFAULT_CHILDREN,
            tcp_children: DEFAULT_CHILDREN,
            disable_tcp: false,
            tcp_lifetime: Duration::from_secs(DEFAULT_TCP_LIFETIME),
            tcp_max_connections: DEFAULT_TCP_MAX_CONNECTIONS,
            tcp_accept_no_cl: false,
            debug: 0,
        }
    }
}

impl Settings {
    /// The sockets to bind, resolved, deduplicated, in `listen` order. No
    /// `listen` means every IPv4 address (`0.0.0.0`), UDP and TCP, like
    /// Kamailio binding all interfaces.
    pub fn sockets(&self) -> Result<Vec<(Proto, SocketAddr)>, String> {
        let default = [ListenAddr {
            proto: None,
            host: "0.0.0.0".into(),
            port: None,
        }];
        let listen = if self.listen.is_empty() {
            &default[..]
        } else {
            &self.listen[..]
        };
        let mut out: Vec<(Proto, SocketAddr)> = Vec::new();
        for l in listen {
            let port = l.port.unwrap_or(self.port);
            let addrs = resolve(&l.host, port)?;
            let protos: &[Proto] = match l.proto {
                Some(Proto::Udp) => &[Proto::Udp],
                Some(Proto::Tcp) => &[Proto::Tcp],
                None => &[Proto::Udp, Proto::Tcp],
            };
            for proto in protos {
                if *proto == Proto::Tcp && self.disable_tcp {
                    continue;
                }
                for addr in &addrs {
                    if !out.contains(&(*proto, *addr)) {
                        out.push((*proto, *addr));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// An address literal, `*` (all IPv4), a network interface name (its
/// addresses, as Kamailio's `listen=eth0`) or a host name (every address
/// it resolves to).
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if host == "*" {
        return Ok(vec![SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port)]);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Some(ips) = interface_addrs(host) {
        if ips.is_empty() {
            return Err(format!("listen: interface {host} has no usable address"));
        }
        return Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect());
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("listen: cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("listen: {host} has no address"));
    }
    Ok(addrs)
}

/// The IPv4 and IPv6 addresses of the network interface `name`, `None`
/// when there is no such interface. IPv6 link-local addresses are left out,
/// as Kamailio does by default (`bind_ipv6_link_local`): they need a scope.
pub fn interface_addrs(name: &str) -> Option<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return None;
    }
    let mut found = false;
    let mut addrs = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive
        // until freeifaddrs; its name is a C string, its address (when not
        // null) a sockaddr of the family it names.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null()
            || unsafe { CStr::from_ptr(ifa.ifa_name) }.to_bytes() != name.as_bytes()
        {
            continue;
        }
        found = true;
        if ifa.ifa_addr.is_null() {
            continue;
        }
        let ip = match i32::from(unsafe { (*ifa.ifa_addr).sa_family }) {
            libc::AF_INET => {
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
            }
            libc::AF_INET6 => {
                let sin6 = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                if ip.is_unicast_link_local() {
                    continue;
                }
                IpAddr::V6(ip)
            }
            _ => continue,
        };
        if !addrs.contains(&ip) {
            addrs.push(ip);
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    found.then_some(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        let l = ListenAddr::parse("udp:127.0.0.1:5070").unwrap();
        assert_eq!(
            (l.proto, l.host.as_str(), l.port),
            (Some(Proto::Udp), "127.0.0.1", Some(5070))
        );
        let l = ListenAddr::parse("tcp:[::1]:5071").unwrap();
        assert_eq!(
            (l.proto, l.host.as_str(), l.port),
            (Some(Proto::Tcp), "::1", Some(5071))
        );
        let l = ListenAddr::parse("10.0.0.1").unwrap();
        assert_eq!((l.proto, l.host.as_str(), l.port), (None, "10.0.0.1", None));
        let l = ListenAddr::parse("[::1]").unwrap();
        assert_eq!((l.host.as_str(), l.port), ("::1", None));
        let l = ListenAddr::parse("udp:1.2.3.4:5060 advertise 5.6.7.8:5060").unwrap();
        assert_eq!(l.port, Some(5060));
        assert!(ListenAddr::parse("tls:1.2.3.4:5061").is_err());
        assert!(ListenAddr::parse("udp:1.2.3.4:99999").is_err());
        assert!(ListenAddr::parse("udp:").is_err());
    }

    #[test]
    fn sockets_expand_protocols_and_ports() {
        let s = Settings {
            listen: vec![
                ListenAddr::parse("127.0.0.1").unwrap(),
                ListenAddr::parse("udp:[::1]:5080").unwrap(),
            ],
            port: 5090,
            ..Settings::default()
        };
        let socks = s.sockets().unwrap();
        assert_eq!(
            socks,
            vec![
                (Proto::Udp, "127.0.0.1:5090".parse().unwrap()),
                (Proto::Tcp, "127.0.0.1:5090".parse().unwrap()),
                (Proto::Udp, "[::1]:5080".parse().unwrap()),
            ]
        );
        let s = Settings {
            disable_tcp: true,
            ..Settings::default()
        };
        assert_eq!(
            s.sockets().unwrap(),
            vec![(Proto::Udp, "0.0.0.0:5060".parse().unwrap())]
        );
    }

    #[test]
    fn interface_names_give_their_addresses() {
        let lo = interface_addrs("lo").expect("a loopback interface named lo");
        assert!(lo.contains(&IpAddr::from([127, 0, 0, 1])), "{lo:?}");
        assert_eq!(interface_addrs("no-such-if0"), None);
        let s = Settings {
            listen: vec![ListenAddr::parse("udp:lo:5099").unwrap()],
            ..Settings::default()
        };
        let socks = s.sockets().unwrap();
        assert!(socks.contains(&(Proto::Udp, "127.0.0.1:5099".parse().unwrap())));
        assert!(socks
            .iter()
            .all(|(p, a)| *p == Proto::Udp && a.port() == 5099));
        assert_eq!(socks.len(), lo.len());
    }
}
