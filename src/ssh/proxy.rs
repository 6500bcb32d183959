//! The PROXY protocol (`HAProxy`'s, v1 text and v2 binary): behind a TCP
//! load balancer, the header it sends first says who the visitor is.
//!
//! Only connections from the balancers named by `--proxy-protocol` may send
//! one, and from them it is required; from anywhere else a header is
//! refused, so no client chooses its own address. The header is read here,
//! byte by byte as far as needed and never further (what follows is the
//! client's SSH stream, handed untouched to russh), with caps on its size;
//! the caller bounds the time. The bytes are parsed by the `ppp` crate.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncReadExt};

/// A v1 header is at most 107 bytes, CR LF included (`HAProxy`'s spec).
pub const V1_MAX: usize = 107;
/// The largest v2 header taken, TLVs included. Balancers add a few TLVs
/// (a connection ID, a VPC endpoint); anything near the format's 64 KiB
/// is not a header folio needs to read.
pub const V2_MAX: usize = 1024;

/// The start of a v1 header.
const V1_START: &[u8; 6] = b"PROXY ";
/// The v2 signature.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// The balancers whose PROXY headers are believed: addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trusted(Vec<Net>);

/// An address or a network (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    bits: u8,
}

impl Net {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, unmapped(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address is its IPv4 address (a dual-stack socket
/// reports IPv4 peers that way).
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

impl FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Net, String> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an address or a network (such as 10.0.0.0/8)");
        let (addr, bits) = match s.split_once('/') {
            Some((addr, bits)) => (addr, Some(bits)),
            None => (s, None),
        };
        let addr = unmapped(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse::<u8>().ok().filter(|&b| b <= max).ok_or_else(bad)?,
            None => max,
        };
        let net = Net { addr, bits };
        // Host bits set (10.0.0.1/8) is a typo more often than a choice.
        if !net.contains(addr) || net.masked() != addr {
            return Err(format!(
                "{s:?} has host bits set: write the network ({}/{bits})",
                net.masked()
            ));
        }
        Ok(net)
    }
}

impl Net {
    fn masked(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        }
    }
}

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.bits == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.bits)
        }
    }
}

impl Trusted {
    /// Reads addresses and networks, separated by commas or blanks.
    pub fn parse(list: &str) -> Result<Trusted, String> {
        let nets = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(Net::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        if nets.is_empty() {
            return Err("no address given".into());
        }
        Ok(Trusted(nets))
    }

    /// Adds the networks of another list.
    pub fn extend(&mut self, other: Trusted) {
        for net in other.0 {
            if !self.0.contains(&net) {
                self.0.push(net);
            }
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Trusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// What a balancer's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// `PROXY` with the visitor's address and port.
    Proxy(SocketAddr),
    /// `PROXY` with an address folio cannot use (`UNKNOWN`, a Unix
    /// socket): as the spec asks, the connection's own address stands.
    Unknown,
    /// `LOCAL`: the balancer's own connection (a health check).
    Local,
}

/// Why a header was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no PROXY header")]
    Missing,
    #[error("malformed PROXY header: {0}")]
    Malformed(String),
    #[error("PROXY header longer than {0} bytes")]
    TooLong(usize),
    #[error("closed before the PROXY header ended")]
    Closed,
    #[error("reading the PROXY header: {0}")]
    Io(io::Error),
}

impl ProxyError {
    /// The name counted in the server's refusals.
    pub fn name(&self) -> &'static str {
        match self {
            ProxyError::Missing => "proxy_missing",
            ProxyError::Malformed(_) => "proxy_malformed",
            ProxyError::TooLong(_) => "proxy_too_long",
            ProxyError::Closed | ProxyError::Io(_) => "proxy_closed",
        }
    }
}

fn read_error(e: io::Error) -> ProxyError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ProxyError::Closed
    } else {
        ProxyError::Io(e)
    }
}

/// Reads one PROXY header (v1 or v2) from the start of `stream`, and not a
/// byte more: the first six bytes tell the version; a v1 line is read in
/// pieces no longer than what must still come before its CR LF, a v2
/// header by its length field. A stream that starts otherwise is
/// [`ProxyError::Missing`]. The caller puts a deadline around this.
pub async fn read_header<R: AsyncRead + Unpin>(stream: &mut R) -> Result<Header, ProxyError> {
    let mut buf = vec![0u8; 6];
    stream.read_exact(&mut buf).await.map_err(read_error)?;
    if buf == V1_START {
        read_v1(stream, buf).await
    } else if buf[..] == V2_SIGNATURE[..6] {
        read_v2(stream, buf).await
    } else {
        Err(ProxyError::Missing)
    }
}

async fn read_v1<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut buf: Vec<u8>,
) -> Result<Header, ProxyError> {
    loop {
        if buf.ends_with(b"\r\n") {
            break;
        }
        if let Some(cr) = buf.iter().position(|&b| b == b'\r')
            && cr + 1 < buf.len()
        {
            return Err(ProxyError::Malformed("CR without LF".into()));
        }
        // After a CR only its LF may come; otherwise at least CR LF must.
        let want = if buf.last() == Some(&b'\r') { 1 } else { 2 };
        if buf.len() + want > V1_MAX {
            return Err(ProxyError::TooLong(V1_MAX));
        }
        let at = buf.len();
        buf.resize(at + want, 0);
        stream
            .read_exact(&mut buf[at..])
            .await
            .map_err(read_error)?;
    }
    let text =
        std::str::from_utf8(&buf).map_err(|_| ProxyError::Malformed("not ASCII text".into()))?;
    let header =
        ppp::v1::Header::try_from(text).map_err(|e| ProxyError::Malformed(format!("v1: {e}")))?;
    Ok(match header.addresses {
        ppp::v1::Addresses::Tcp4(a) => {
            Header::Proxy(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v1::Addresses::Tcp6(a) => {
            Header::Proxy(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v1::Addresses::Unknown => Header::Unknown,
    })
}

async fn read_v2<R: AsyncRead + Unpin>(
    stream: &mut R,
    mut buf: Vec<u8>,
) -> Result<Header, ProxyError> {
    buf.resize(16, 0);
    stream.read_exact(&mut buf[6..]).await.map_err(read_error)?;
    if buf[..12] != V2_SIGNATURE[..] {
        return Err(ProxyError::Malformed("v2: bad signature".into()));
    }
    let length = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if 16 + length > V2_MAX {
        return Err(ProxyError::TooLong(V2_MAX));
    }
    buf.resize(16 + length, 0);
    stream
        .read_exact(&mut buf[16..])
        .await
        .map_err(read_error)?;
    let header = ppp::v2::Header::try_from(&buf[..])
        .map_err(|e| ProxyError::Malformed(format!("v2: {e}")))?;
    if header.command == ppp::v2::Command::Local {
        return Ok(Header::Local);
    }
    Ok(match header.addresses {
        ppp::v2::Addresses::IPv4(a) => {
            Header::Proxy(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v2::Addresses::IPv6(a) => {
            Header::Proxy(SocketAddr::new(a.source_address.into(), a.source_port))
        }
        ppp::v2::Addresses::Unspecified | ppp::v2::Addresses::Unix(_) => Header::Unknown,
    })
}

/// Watches the first bytes of a connection that must not carry a PROXY
/// header (one not from a trusted balancer), as they pass to russh.
#[derive(Debug, Default)]
pub struct Sniff {
    head: [u8; 6],
    seen: usize,
    done: bool,
}

impl Sniff {
    /// Looks at the next bytes read; true once they are the start of a
    /// PROXY header (v1 or v2). Stops looking after six bytes.
    pub fn is_header(&mut self, bytes: &[u8]) -> bool {
        if self.done {
            return false;
        }
        let take = bytes.len().min(6 - self.seen);
        self.head[self.seen..self.seen + take].copy_from_slice(&bytes[..take]);
        self.seen += take;
        let head = &self.head[..self.seen];
        let v1 = V1_START.starts_with(head);
        let v2 = V2_SIGNATURE[..6].starts_with(head);
        if self.seen == 6 || !(v1 || v2) {
            self.done = true;
            return self.seen == 6 && (v1 || v2);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Reads a header from `bytes`; the header and what is left unread.
    fn read(bytes: &[u8]) -> (Result<Header, ProxyError>, Vec<u8>) {
        block(async {
            let mut rest = bytes;
            let h = read_header(&mut rest).await;
            (h, rest.to_vec())
        })
    }

    fn v2(command: u8, family: u8, addresses: &[u8], tlvs: &[u8]) -> Vec<u8> {
        let mut b = V2_SIGNATURE.to_vec();
        b.push(0x20 | command);
        b.push(family);
        let len = u16::try_from(addresses.len() + tlvs.len()).unwrap();
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(addresses);
        b.extend_from_slice(tlvs);
        b
    }

    #[test]
    fn v1_headers_leave_the_ssh_stream_untouched() {
        let (h, rest) = read(b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 22\r\nSSH-2.0-x\r\n");
        assert_eq!(
            h.unwrap(),
            Header::Proxy("203.0.113.7:51234".parse().unwrap())
        );
        assert_eq!(rest, b"SSH-2.0-x\r\n");
        let (h, rest) = read(b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 22\r\nSSH");
        assert_eq!(
            h.unwrap(),
            Header::Proxy("[2001:db8::1]:4000".parse().unwrap())
        );
        assert_eq!(rest, b"SSH");
        // The shortest header (15 bytes) is not read past either.
        let (h, rest) = read(b"PROXY UNKNOWN\r\nS");
        assert_eq!(h.unwrap(), Header::Unknown);
        assert_eq!(rest, b"S");
    }

    #[test]
    fn v2_headers_leave_the_ssh_stream_untouched() {
        let mut addrs = vec![198, 51, 100, 9, 10, 0, 0, 1];
        addrs.extend_from_slice(&4242u16.to_be_bytes());
        addrs.extend_from_slice(&22u16.to_be_bytes());
        // A TLV (PP2_TYPE_UNIQUE_ID) is skipped.
        let mut bytes = v2(1, 0x11, &addrs, &[0x05, 0x00, 0x02, b'i', b'd']);
        bytes.extend_from_slice(b"SSH-2.0-x");
        let (h, rest) = read(&bytes);
        assert_eq!(
            h.unwrap(),
            Header::Proxy("198.51.100.9:4242".parse().unwrap())
        );
        assert_eq!(rest, b"SSH-2.0-x");
        let mut six = vec![0u8; 36];
        six[0] = 0x20;
        six[1] = 0x01;
        six[15] = 7;
        six[32..34].copy_from_slice(&9u16.to_be_bytes());
        let (h, _) = read(&v2(1, 0x21, &six, &[]));
        assert_eq!(h.unwrap(), Header::Proxy("[2001::7]:9".parse().unwrap()));
        let (h, rest) = read(&[v2(0, 0x00, &[], &[]), b"more".to_vec()].concat());
        assert_eq!(h.unwrap(), Header::Local);
        assert_eq!(rest, b"more");
        let (h, _) = read(&v2(1, 0x00, &[], &[]));
        assert_eq!(h.unwrap(), Header::Unknown);
    }

    #[test]
    fn bad_headers_are_refused() {
        let cases: [(&[u8], &str); 7] = [
            (b"SSH-2.0-OpenSSH_9.6\r\n", "proxy_missing"),
            (b"PROXY TCP4 1.2.3.4\r\n", "proxy_malformed"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "proxy_malformed"),
            (b"PROXY TCP4 999.2.3.4 5.6.7.8 1 2\r\n", "proxy_malformed"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1", "proxy_closed"),
            (b"PROXY A", "proxy_closed"),
            (b"\r\n\r\n\0\r\nQUIX\n\x21\x11\0\x0c", "proxy_malformed"),
        ];
        for (bytes, name) in cases {
            let (h, _) = read(bytes);
            assert_eq!(
                h.unwrap_err().name(),
                name,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let long = format!("PROXY TCP4 {}\r\n", "1".repeat(200));
        assert_eq!(
            read(long.as_bytes()).0.unwrap_err().name(),
            "proxy_too_long"
        );
        // A v2 length past the cap is refused before anything more is read.
        let big = v2(1, 0x11, &[0; 12], &vec![0; V2_MAX]);
        let (h, rest) = read(&big);
        assert_eq!(h.unwrap_err().name(), "proxy_too_long");
        assert_eq!(rest.len(), big.len() - 16);
        // A bad version or command.
        let mut bad = v2(1, 0x11, &[0; 12], &[]);
        bad[12] = 0x31;
        assert_eq!(read(&bad).0.unwrap_err().name(), "proxy_malformed");
        bad[12] = 0x2f;
        assert_eq!(read(&bad).0.unwrap_err().name(), "proxy_malformed");
    }

    #[test]
    fn trusted_addresses_and_networks() {
        let t = Trusted::parse("10.0.0.0/8, 127.0.0.1 fd00::/8").unwrap();
        assert!(t.contains("10.1.2.3".parse().unwrap()));
        assert!(t.contains("127.0.0.1".parse().unwrap()));
        assert!(t.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!t.contains("127.0.0.2".parse().unwrap()));
        assert!(t.contains("fd12::1".parse().unwrap()));
        assert!(!t.contains("fe80::1".parse().unwrap()));
        assert_eq!(t.to_string(), "10.0.0.0/8, 127.0.0.1, fd00::/8");
        assert!(
            Trusted::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["", "10.0.0.1/8", "10.0.0.0/33", "example.com", "1.2.3.4/x"] {
            assert!(Trusted::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_header_is_seen_in_pieces_and_ssh_is_not() {
        let mut s = Sniff::default();
        assert!(!s.is_header(b"PRO"));
        assert!(s.is_header(b"XY TCP4"));
        let mut s = Sniff::default();
        assert!(!s.is_header(b"\r\n"));
        assert!(s.is_header(b"\r\n\0\r\nQUIT\n"));
        let mut s = Sniff::default();
        assert!(!s.is_header(b"SSH-2.0-OpenSSH\r\n"));
        assert!(!s.is_header(b"PROXY "));
        let mut s = Sniff::default();
        assert!(!s.is_header(b"PROXX"));
        assert!(!s.is_header(b"Y "));
    }
}
