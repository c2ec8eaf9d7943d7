//! Statement grammar of configuration strings, checked and applied the way libmemcached
//! 1.1.4's bison parser does it.
//!
//! A string is statements separated by single spaces. The parser reads one token of lookahead
//! only where libmemcached's parser does (after a server host, a port, a socket path and a
//! distribution name), so option side effects and error messages happen in the same order.

use super::lexer::{atoi, Kind, Lexer, Token};
use super::{Action, ParseError, Session};

/// `memcached_behavior_t` values set by configuration options.
mod behavior {
    pub const TCP_NODELAY: u32 = 1;
    pub const HASH: u32 = 2;
    pub const SOCKET_SEND_SIZE: u32 = 4;
    pub const SOCKET_RECV_SIZE: u32 = 5;
    pub const SUPPORT_CAS: u32 = 7;
    pub const POLL_TIMEOUT: u32 = 8;
    pub const DISTRIBUTION: u32 = 9;
    pub const BUFFER_REQUESTS: u32 = 10;
    pub const SORT_HOSTS: u32 = 12;
    pub const VERIFY_KEY: u32 = 13;
    pub const CONNECT_TIMEOUT: u32 = 14;
    pub const RETRY_TIMEOUT: u32 = 15;
    pub const KETAMA_HASH: u32 = 17;
    pub const BINARY_PROTOCOL: u32 = 18;
    pub const SND_TIMEOUT: u32 = 19;
    pub const RCV_TIMEOUT: u32 = 20;
    pub const IO_MSG_WATERMARK: u32 = 22;
    pub const IO_BYTES_WATERMARK: u32 = 23;
    pub const IO_KEY_PREFETCH: u32 = 24;
    pub const HASH_WITH_PREFIX_KEY: u32 = 25;
    pub const NOREPLY: u32 = 26;
    pub const USE_UDP: u32 = 27;
    pub const NUMBER_OF_REPLICAS: u32 = 29;
    pub const RANDOMIZE_REPLICA_READ: u32 = 30;
    pub const TCP_KEEPALIVE: u32 = 32;
    pub const TCP_KEEPIDLE: u32 = 33;
    pub const REMOVE_FAILED_SERVERS: u32 = 35;
}

pub(super) use behavior::*;

const DEFAULT_PORT: u16 = 11211;

/// `NI_MAXHOST`: host names and socket paths must be shorter.
const MAX_HOST_LENGTH: usize = 1025;

/// libmemcached formats "Failed to add ..." messages into a 1024-byte buffer.
const MAX_ADD_FAILURE_MESSAGE: usize = 1023;

/// A namespace is checked like a key (at most 250 bytes) and must then fit in 127 bytes.
const MAX_KEY_LENGTH: usize = 250;
const MAX_NAMESPACE_LENGTH: usize = 127;

/// Tokens a syntax error lists as expected in a given parser state. libmemcached's parser
/// lists at most four, so the states with more choices (start of a statement, hash name)
/// list none.
const AFTER_STATEMENT: &[Kind] = &[Kind::EndOfInput, Kind::Space];
const SERVER_HOST: &[Kind] = &[Kind::IpAddress, Kind::Hostname];
const STRING_VALUE: &[Kind] = &[Kind::String, Kind::QuotedString];
const NUMBER_VALUE: &[Kind] = &[Kind::Number];
const DISTRIBUTION_NAME: &[Kind] = &[Kind::Consistent, Kind::Modula, Kind::Random];
const SPACE: &[Kind] = &[Kind::Space];
const UNLISTED: &[Kind] = &[];

/// Outcome of a statement: stop parsing (END), or continue with the lookahead token the
/// statement already scanned, if any.
enum Flow {
    Stop,
    Continue(Option<Token>),
}

/// Parses one configuration string (or one file line) into `session`. `depth` is the number
/// of files being read around this text (0 for the string given to `parse`).
pub(super) fn parse_statements(
    session: &mut Session<'_>,
    input: &[u8],
    depth: usize,
) -> Result<(), ParseError> {
    let mut parser = StatementParser {
        lexer: Lexer::new(input),
        hash_set: false,
        depth,
    };
    parser.run(session)
}

struct StatementParser<'a> {
    lexer: Lexer<'a>,
    /// `--HASH` may appear once per string or file line, and RESET does not clear this flag.
    hash_set: bool,
    depth: usize,
}

impl StatementParser<'_> {
    fn run(&mut self, session: &mut Session<'_>) -> Result<(), ParseError> {
        let mut token = self.lexer.next_token();
        loop {
            let lookahead = match self.statement(session, token)? {
                Flow::Stop => return Ok(()),
                Flow::Continue(lookahead) => lookahead,
            };
            let separator = lookahead.unwrap_or_else(|| self.lexer.next_token());
            match separator.kind {
                Kind::EndOfInput => return Ok(()),
                Kind::Space => token = self.lexer.next_token(),
                _ => return Err(self.syntax_error(separator, AFTER_STATEMENT)),
            }
        }
    }

    fn statement(&mut self, session: &mut Session<'_>, token: Token) -> Result<Flow, ParseError> {
        if let Some(behavior) = numeric_behavior(token.kind) {
            let value = self.expect_number()?;
            let value = i64::from(value) as u64;
            session.actions.push(Action::Behavior { behavior, value });
            return Ok(Flow::Continue(None));
        }
        if let Some((behavior, name)) = flag_behavior(token.kind) {
            session.set_flag(behavior, name)?;
            return Ok(Flow::Continue(None));
        }
        match token.kind {
            Kind::Comment | Kind::ParserDebug | Kind::UserData => {}
            Kind::End => return Ok(Flow::Stop),
            Kind::CslError => return Err(ParseError::parse("ERROR called directly")),
            Kind::Reset => session.reset(),
            Kind::FetchVersion => session.actions.push(Action::FetchVersion),
            Kind::Include => self.include(session)?,
            Kind::Server => return self.server(session).map(Flow::Continue),
            Kind::CslSocket => return self.socket(session).map(Flow::Continue),
            Kind::Distribution => return self.distribution(session).map(Flow::Continue),
            Kind::Hash => self.hash(session)?,
            Kind::ConfigureFile => {
                let name = self.expect_string()?;
                session.set_configure_file(&name)?;
            }
            Kind::Namespace => {
                let namespace = self.expect_string()?;
                session.set_namespace(namespace)?;
            }
            Kind::PoolMin => {
                let size = self.expect_number()? as u32;
                session.actions.push(Action::PoolMin(size));
            }
            Kind::PoolMax => {
                let size = self.expect_number()? as u32;
                session.actions.push(Action::PoolMax(size));
            }
            _ => return Err(self.syntax_error(token, UNLISTED)),
        }
        Ok(Flow::Continue(None))
    }

    /// Parses the rest of `INCLUDE "file"` and then the file's lines, as part of this string.
    fn include(&mut self, session: &mut Session<'_>) -> Result<(), ParseError> {
        let separator = self.lexer.next_token();
        if separator.kind != Kind::Space {
            return Err(self.syntax_error(separator, SPACE));
        }
        let name = self.expect_string()?;
        session.include(&name, self.depth)
    }

    /// Parses the rest of `--SERVER=host[:port][/?weight]` and records the server. Returns
    /// the lookahead token read after the host or port when no weight follows.
    fn server(&mut self, session: &mut Session<'_>) -> Result<Option<Token>, ParseError> {
        let host = self.lexer.next_token();
        if !matches!(host.kind, Kind::Hostname | Kind::IpAddress) {
            return Err(self.syntax_error(host, SERVER_HOST));
        }
        let host = self.lexer.text(&host);

        let mut next = self.lexer.next_token();
        let mut port = u32::from(DEFAULT_PORT);
        if next.kind == Kind::Port {
            port = atoi(&self.lexer.text(&next)[1..]) as u32;
            next = self.lexer.next_token();
        }
        let mut weight = 1;
        let mut lookahead = Some(next);
        if next.kind == Kind::WeightStart {
            weight = atoi(&self.lexer.text(&next)[2..]) as u32;
            lookahead = None;
        }

        // libmemcached keeps the latest host name in one buffer, so a host-shaped lookahead
        // replaces the host before the server is added. The statement fails in that case
        // anyway, and only the error message depends on it.
        let host = match lookahead {
            Some(next) if matches!(next.kind, Kind::Hostname | Kind::IpAddress) => {
                self.lexer.text(&next)
            }
            _ => host,
        };
        if host.len() >= MAX_HOST_LENGTH {
            let mut message = b"Failed to add server: ".to_vec();
            message.extend_from_slice(&host[..MAX_HOST_LENGTH]);
            message.extend_from_slice(format!(":{port}").as_bytes());
            return Err(add_failure(message));
        }
        // The port is a 16-bit value, and memcached_server_add_with_weight turns 0 into the
        // default port.
        let port = match port as u16 {
            0 => DEFAULT_PORT,
            port => port,
        };
        session.actions.push(Action::Server {
            host: host.to_vec(),
            port,
            weight,
        });
        self.lexer.in_server = false;
        Ok(lookahead)
    }

    /// Parses the rest of `--SOCKET="path"[/?weight]` and records the socket. Returns the
    /// lookahead token when no weight follows.
    fn socket(&mut self, session: &mut Session<'_>) -> Result<Option<Token>, ParseError> {
        let mut value = self.expect_string()?;

        let next = self.lexer.next_token();
        let (weight, lookahead) = match next.kind {
            Kind::WeightStart => (atoi(&self.lexer.text(&next)[2..]) as u32, None),
            _ => (1, Some(next)),
        };
        // As with host names, a string lookahead replaces the path in libmemcached's shared
        // string buffer. The statement fails in that case anyway.
        if let Some(string) = self.string_value(next) {
            value = string;
        }
        let path = until_nul(&value);

        if path.is_empty() || path.len() >= MAX_HOST_LENGTH {
            let mut message = b"Failed to add socket: ".to_vec();
            message.extend_from_slice(path);
            return Err(add_failure(message));
        }
        session.actions.push(Action::Socket {
            path: path.to_vec(),
            weight,
        });
        Ok(lookahead)
    }

    /// Parses the rest of `--DISTRIBUTION=name[,hash]` and records the behaviors. Returns the
    /// lookahead token when no hash follows.
    fn distribution(&mut self, session: &mut Session<'_>) -> Result<Option<Token>, ParseError> {
        let name = self.lexer.next_token();
        let value = match name.kind {
            Kind::Modula => 0,
            Kind::Consistent => 1,
            Kind::Random => 3,
            _ => return Err(self.syntax_error(name, DISTRIBUTION_NAME)),
        };

        let next = self.lexer.next_token();
        if next.kind != Kind::Comma {
            session.actions.push(Action::Behavior {
                behavior: DISTRIBUTION,
                value,
            });
            return Ok(Some(next));
        }
        let hash = self.expect_hash()?;
        session.actions.push(Action::Behavior {
            behavior: DISTRIBUTION,
            value,
        });
        session.actions.push(Action::Behavior {
            behavior: KETAMA_HASH,
            value: hash,
        });
        Ok(None)
    }

    /// Parses the rest of `--HASH=name`. HSIEH is accepted: this library offers it, unlike
    /// Debian's libmemcached, which rejects it with the repeated-option message.
    fn hash(&mut self, session: &mut Session<'_>) -> Result<(), ParseError> {
        let hash = self.expect_hash()?;
        if self.hash_set {
            return Err(ParseError::parse("--HASH can only be set once"));
        }
        self.hash_set = true;
        session.actions.push(Action::Behavior {
            behavior: HASH,
            value: hash,
        });
        Ok(())
    }

    /// Reads a STRING or QUOTED_STRING and returns its value (a quoted string without its
    /// first and last byte).
    fn expect_string(&mut self) -> Result<Vec<u8>, ParseError> {
        let token = self.lexer.next_token();
        self.string_value(token)
            .ok_or_else(|| self.syntax_error(token, STRING_VALUE))
    }

    /// Returns the value of a STRING or QUOTED_STRING token, None for other tokens.
    fn string_value(&self, token: Token) -> Option<Vec<u8>> {
        let text = self.lexer.text(&token);
        match token.kind {
            Kind::String => Some(text.to_vec()),
            Kind::QuotedString => Some(text[1..text.len() - 1].to_vec()),
            _ => None,
        }
    }

    fn expect_number(&mut self) -> Result<i32, ParseError> {
        let token = self.lexer.next_token();
        match token.kind {
            Kind::Number => Ok(atoi(self.lexer.text(&token))),
            _ => Err(self.syntax_error(token, NUMBER_VALUE)),
        }
    }

    /// Reads a hash name and returns its `memcached_hash_t` value.
    fn expect_hash(&mut self) -> Result<u64, ParseError> {
        let token = self.lexer.next_token();
        let value = match token.kind {
            Kind::Md5 => 1,
            Kind::Crc => 2,
            Kind::Fnv1_64 => 3,
            Kind::Fnv1a64 => 4,
            Kind::Fnv1_32 => 5,
            Kind::Fnv1a32 => 6,
            Kind::Hsieh => 7,
            Kind::Murmur => 8,
            Kind::Jenkins => 9,
            _ => return Err(self.syntax_error(token, UNLISTED)),
        };
        Ok(value)
    }

    /// Builds libmemcached's syntax error message for an unexpected `token`, followed by the
    /// token's text and byte offset.
    fn syntax_error(&self, token: Token, expected: &[Kind]) -> ParseError {
        let mut description = format!("syntax error, unexpected {}", token.kind.message_name());
        for (index, kind) in expected.iter().enumerate() {
            description.push_str(if index == 0 { ", expecting " } else { " or " });
            description.push_str(kind.message_name());
        }

        // libmemcached names the last option keyword in place of an UNKNOWN token.
        let reported = match (token.kind, self.lexer.previous) {
            (Kind::Unknown, Kind::End) => Kind::Unknown,
            (Kind::Unknown, previous) => previous,
            (kind, _) => kind,
        };
        // "occured" is libmemcached's spelling, kept so that messages compare equal.
        let mut message = format!(
            "Error occured during parsing ({description}): last_token={}({})",
            reported.table_name(),
            reported.code()
        );
        if token.kind == Kind::EndOfInput {
            message.push_str(&format!(", at end of input (byte {})", token.start));
        } else {
            let text = escape_token(self.lexer.text(&token));
            message.push_str(&format!(", at byte {}: \"{text}\"", token.start));
        }
        ParseError::parse(message)
    }
}

impl Session<'_> {
    /// Applies a flag option, rejecting the combinations that libmemcached's behavior setter
    /// rejects.
    fn set_flag(&mut self, behavior: u32, name: &str) -> Result<(), ParseError> {
        let rejected = match behavior {
            VERIFY_KEY => self.binary_protocol,
            BUFFER_REQUESTS => self.use_udp,
            _ => false,
        };
        if rejected {
            return Err(ParseError::parse(format!("Could not set: {name}")));
        }
        match behavior {
            BINARY_PROTOCOL => self.binary_protocol = true,
            USE_UDP => self.use_udp = true,
            _ => {}
        }
        self.actions.push(Action::Behavior { behavior, value: 1 });
        Ok(())
    }

    fn set_namespace(&mut self, namespace: Vec<u8>) -> Result<(), ParseError> {
        if self.has_namespace {
            return Err(ParseError::parse("--NAMESPACE can only be called once"));
        }
        check_namespace(&namespace, self.binary_protocol).map_err(ParseError::parse)?;
        self.has_namespace = true;
        self.actions.push(Action::Namespace(namespace));
        Ok(())
    }

    fn set_configure_file(&mut self, name: &[u8]) -> Result<(), ParseError> {
        // libmemcached 1.1.4 fails an assertion (and aborts the process) on an empty name.
        if name.is_empty() {
            return Err(ParseError::parse(
                "Invalid --CONFIGURE-FILE: the file name is empty",
            ));
        }
        let name = until_nul(name).to_vec();
        self.configure_file = Some(name.clone());
        self.actions.push(Action::ConfigureFile(name));
        Ok(())
    }
}

/// Checks a namespace as libmemcached's `memcached_set_namespace` does: not empty, at most 250
/// bytes, only printable ASCII unless the binary protocol is on, then at most 127 bytes.
fn check_namespace(namespace: &[u8], binary_protocol: bool) -> Result<(), String> {
    let length = namespace.len();
    if length == 0 {
        return Err("INVALID ARGUMENTS, the namespace is empty".to_string());
    }
    if length > MAX_KEY_LENGTH {
        return Err(format!(
            "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE, the namespace has {length} bytes, \
             more than the {MAX_KEY_LENGTH} allowed for a key"
        ));
    }
    if !binary_protocol {
        if let Some(offset) = namespace.iter().position(|b| !b.is_ascii_graphic()) {
            return Err(format!(
                "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE, namespace byte {offset} \
                 (0x{:02x}) is not printable ASCII",
                namespace[offset]
            ));
        }
    }
    if length > MAX_NAMESPACE_LENGTH {
        return Err(format!(
            "KEY RETURNED FROM SERVER WAS TOO LARGE, the namespace has {length} bytes, \
             more than the {MAX_NAMESPACE_LENGTH} allowed"
        ));
    }
    Ok(())
}

/// Behavior set to the NUMBER that follows the option.
fn numeric_behavior(kind: Kind) -> Option<u32> {
    let behavior = match kind {
        Kind::RemoveFailedServers => REMOVE_FAILED_SERVERS,
        Kind::ConnectTimeout => CONNECT_TIMEOUT,
        Kind::IoMsgWatermark => IO_MSG_WATERMARK,
        Kind::IoBytesWatermark => IO_BYTES_WATERMARK,
        Kind::IoKeyPrefetch => IO_KEY_PREFETCH,
        Kind::NumberOfReplicas => NUMBER_OF_REPLICAS,
        Kind::PollTimeout => POLL_TIMEOUT,
        Kind::RcvTimeout => RCV_TIMEOUT,
        Kind::RetryTimeout => RETRY_TIMEOUT,
        Kind::SndTimeout => SND_TIMEOUT,
        Kind::SocketRecvSize => SOCKET_RECV_SIZE,
        Kind::SocketSendSize => SOCKET_SEND_SIZE,
        _ => return None,
    };
    Some(behavior)
}

/// Behavior set to 1 by a flag option, with the name libmemcached's messages use for it.
fn flag_behavior(kind: Kind) -> Option<(u32, &'static str)> {
    let flag = match kind {
        Kind::BinaryProtocol => (BINARY_PROTOCOL, "MEMCACHED_BEHAVIOR_BINARY_PROTOCOL"),
        Kind::BufferRequests => (BUFFER_REQUESTS, "MEMCACHED_BEHAVIOR_BUFFER_REQUESTS"),
        Kind::HashWithNamespace => (
            HASH_WITH_PREFIX_KEY,
            "MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY",
        ),
        Kind::Noreply => (NOREPLY, "MEMCACHED_BEHAVIOR_NOREPLY"),
        Kind::RandomizeReplicaRead => (
            RANDOMIZE_REPLICA_READ,
            "MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ",
        ),
        Kind::SortHosts => (SORT_HOSTS, "MEMCACHED_BEHAVIOR_SORT_HOSTS"),
        Kind::SupportCas => (SUPPORT_CAS, "MEMCACHED_BEHAVIOR_SUPPORT_CAS"),
        Kind::TcpNodelay => (TCP_NODELAY, "MEMCACHED_BEHAVIOR_TCP_NODELAY"),
        Kind::TcpKeepalive => (TCP_KEEPALIVE, "MEMCACHED_BEHAVIOR_TCP_KEEPALIVE"),
        Kind::TcpKeepidle => (TCP_KEEPIDLE, "MEMCACHED_BEHAVIOR_TCP_KEEPIDLE"),
        Kind::UseUdp => (USE_UDP, "MEMCACHED_BEHAVIOR_USE_UDP"),
        Kind::VerifyKey => (VERIFY_KEY, "MEMCACHED_BEHAVIOR_VERIFY_KEY"),
        _ => return None,
    };
    Some(flag)
}

/// Returns the bytes before the first NUL, which is what C string functions use.
pub(super) fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

fn add_failure(mut message: Vec<u8>) -> ParseError {
    message.truncate(MAX_ADD_FAILURE_MESSAGE);
    ParseError::parse(String::from_utf8_lossy(&message).into_owned())
}

/// Token text for an error message: at most 40 bytes, with `"`, `\` and bytes outside
/// printable ASCII escaped.
fn escape_token(text: &[u8]) -> String {
    const MAX_SHOWN: usize = 40;
    let mut escaped = String::new();
    for &byte in text.iter().take(MAX_SHOWN) {
        match byte {
            b'"' => escaped.push_str("\\\""),
            b'\\' => escaped.push_str("\\\\"),
            0x20..=0x7e => escaped.push(char::from(byte)),
            _ => escaped.push_str(&format!("\\x{byte:02x}")),
        }
    }
    if text.len() > MAX_SHOWN {
        escaped.push_str("...");
    }
    escaped
}
