//! Tokenizer for configuration strings.
//!
//! libmemcached 1.1.4 tokenizes with a flex scanner, so this one follows flex's rules: at each
//! position every pattern is tried, the longest match wins, and a tie goes to the pattern listed
//! first. The patterns, in libmemcached's order:
//!
//! 1. `=`, `,` and a single space are tokens of their own.
//! 2. `[0-9]+` is a NUMBER, `:[0-9]{1,5}` a PORT, `/?[0-9]{1,5}` a WEIGHT_START.
//! 3. Tab, CR and LF are dropped.
//! 4. At the start of a line, `#` up to (not including) the next LF is a COMMENT. Without a
//!    following LF there is no comment, and `#` is an UNKNOWN token.
//! 5. The fixed option and keyword spellings ([`FIXED_SPELLINGS`]), in any letter case.
//! 6. `--` followed by letters and digits is an UNKNOWN_OPTION.
//! 7. Four dot-separated groups of 1-3 digits are an IPADDRESS (no range check).
//! 8. A letter or digit, one or more of letters, digits, `.`, `"`, `_` and `-`, then a letter or
//!    digit: a HOSTNAME right after `--SERVER=`, a STRING elsewhere.
//! 9. An optionally `L`-prefixed `"..."` in which a backslash takes the next byte (except LF)
//!    literally is a QUOTED_STRING.
//! 10. Any other single byte except LF is an UNKNOWN token.
//!
//! Letters and digits are ASCII only, and a NUL byte is an ordinary byte.

/// Token kinds, named as libmemcached's grammar names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    EndOfInput,
    Space,
    Comma,
    Equals,
    Comment,
    End,
    CslError,
    Reset,
    ParserDebug,
    Include,
    ConfigureFile,
    Server,
    CslSocket,
    Servers,
    UnknownOption,
    Unknown,
    BinaryProtocol,
    BufferRequests,
    ConnectTimeout,
    Distribution,
    Hash,
    HashWithNamespace,
    IoBytesWatermark,
    IoKeyPrefetch,
    IoMsgWatermark,
    Noreply,
    NumberOfReplicas,
    PollTimeout,
    RandomizeReplicaRead,
    RcvTimeout,
    RemoveFailedServers,
    RetryTimeout,
    SndTimeout,
    SocketRecvSize,
    SocketSendSize,
    SortHosts,
    SupportCas,
    UserData,
    UseUdp,
    VerifyKey,
    TcpKeepalive,
    TcpKeepidle,
    TcpNodelay,
    FetchVersion,
    Namespace,
    PoolMin,
    PoolMax,
    Md5,
    Crc,
    Fnv1_64,
    Fnv1a64,
    Fnv1_32,
    Fnv1a32,
    Hsieh,
    Murmur,
    Jenkins,
    Consistent,
    Modula,
    Random,
    True,
    False,
    Number,
    Port,
    WeightStart,
    IpAddress,
    Hostname,
    String,
    QuotedString,
}

impl Kind {
    /// Token number in libmemcached's generated parser, which prints it in syntax error
    /// messages. A character token's number is its byte value.
    pub(super) fn code(self) -> u32 {
        match self {
            Kind::EndOfInput => 0,
            Kind::Space => 32,
            Kind::Comma => 44,
            Kind::Equals => 61,
            Kind::Comment => 258,
            Kind::End => 259,
            Kind::CslError => 260,
            Kind::Reset => 261,
            Kind::ParserDebug => 262,
            Kind::Include => 263,
            Kind::ConfigureFile => 264,
            Kind::Server => 266,
            Kind::CslSocket => 267,
            Kind::Servers => 268,
            Kind::UnknownOption => 270,
            Kind::Unknown => 271,
            Kind::BinaryProtocol => 272,
            Kind::BufferRequests => 273,
            Kind::ConnectTimeout => 274,
            Kind::Distribution => 275,
            Kind::Hash => 276,
            Kind::HashWithNamespace => 277,
            Kind::IoBytesWatermark => 278,
            Kind::IoKeyPrefetch => 279,
            Kind::IoMsgWatermark => 280,
            Kind::Noreply => 283,
            Kind::NumberOfReplicas => 284,
            Kind::PollTimeout => 285,
            Kind::RandomizeReplicaRead => 286,
            Kind::RcvTimeout => 287,
            Kind::RemoveFailedServers => 288,
            Kind::RetryTimeout => 289,
            Kind::SndTimeout => 290,
            Kind::SocketRecvSize => 291,
            Kind::SocketSendSize => 292,
            Kind::SortHosts => 293,
            Kind::SupportCas => 294,
            Kind::UserData => 295,
            Kind::UseUdp => 296,
            Kind::VerifyKey => 297,
            Kind::TcpKeepalive => 298,
            Kind::TcpKeepidle => 299,
            Kind::TcpNodelay => 300,
            Kind::FetchVersion => 301,
            Kind::Namespace => 302,
            Kind::PoolMin => 303,
            Kind::PoolMax => 304,
            Kind::Md5 => 305,
            Kind::Crc => 306,
            Kind::Fnv1_64 => 307,
            Kind::Fnv1a64 => 308,
            Kind::Fnv1_32 => 309,
            Kind::Fnv1a32 => 310,
            Kind::Hsieh => 311,
            Kind::Murmur => 312,
            Kind::Jenkins => 313,
            Kind::Consistent => 314,
            Kind::Modula => 315,
            Kind::Random => 316,
            Kind::True => 317,
            Kind::False => 318,
            Kind::Number => 320,
            Kind::Port => 321,
            Kind::WeightStart => 322,
            Kind::IpAddress => 323,
            Kind::Hostname => 324,
            Kind::String => 325,
            Kind::QuotedString => 326,
        }
    }

    /// Token name as libmemcached's parser tables spell it. The end of input is `"end of file"`
    /// with the double quotes, and a character token is the character in single quotes.
    pub(super) fn table_name(self) -> &'static str {
        match self {
            Kind::EndOfInput => "\"end of file\"",
            Kind::Space => "' '",
            Kind::Comma => "','",
            Kind::Equals => "'='",
            Kind::Comment => "COMMENT",
            Kind::End => "END",
            Kind::CslError => "CSL_ERROR",
            Kind::Reset => "RESET",
            Kind::ParserDebug => "PARSER_DEBUG",
            Kind::Include => "INCLUDE",
            Kind::ConfigureFile => "CONFIGURE_FILE",
            Kind::Server => "SERVER",
            Kind::CslSocket => "CSL_SOCKET",
            Kind::Servers => "SERVERS",
            Kind::UnknownOption => "UNKNOWN_OPTION",
            Kind::Unknown => "UNKNOWN",
            Kind::BinaryProtocol => "BINARY_PROTOCOL",
            Kind::BufferRequests => "BUFFER_REQUESTS",
            Kind::ConnectTimeout => "CONNECT_TIMEOUT",
            Kind::Distribution => "DISTRIBUTION",
            Kind::Hash => "HASH",
            Kind::HashWithNamespace => "HASH_WITH_NAMESPACE",
            Kind::IoBytesWatermark => "IO_BYTES_WATERMARK",
            Kind::IoKeyPrefetch => "IO_KEY_PREFETCH",
            Kind::IoMsgWatermark => "IO_MSG_WATERMARK",
            Kind::Noreply => "NOREPLY",
            Kind::NumberOfReplicas => "NUMBER_OF_REPLICAS",
            Kind::PollTimeout => "POLL_TIMEOUT",
            Kind::RandomizeReplicaRead => "RANDOMIZE_REPLICA_READ",
            Kind::RcvTimeout => "RCV_TIMEOUT",
            Kind::RemoveFailedServers => "REMOVE_FAILED_SERVERS",
            Kind::RetryTimeout => "RETRY_TIMEOUT",
            Kind::SndTimeout => "SND_TIMEOUT",
            Kind::SocketRecvSize => "SOCKET_RECV_SIZE",
            Kind::SocketSendSize => "SOCKET_SEND_SIZE",
            Kind::SortHosts => "SORT_HOSTS",
            Kind::SupportCas => "SUPPORT_CAS",
            Kind::UserData => "USER_DATA",
            Kind::UseUdp => "USE_UDP",
            Kind::VerifyKey => "VERIFY_KEY",
            Kind::TcpKeepalive => "_TCP_KEEPALIVE",
            Kind::TcpKeepidle => "_TCP_KEEPIDLE",
            Kind::TcpNodelay => "_TCP_NODELAY",
            Kind::FetchVersion => "FETCH_VERSION",
            Kind::Namespace => "NAMESPACE",
            Kind::PoolMin => "POOL_MIN",
            Kind::PoolMax => "POOL_MAX",
            Kind::Md5 => "MD5",
            Kind::Crc => "CRC",
            Kind::Fnv1_64 => "FNV1_64",
            Kind::Fnv1a64 => "FNV1A_64",
            Kind::Fnv1_32 => "FNV1_32",
            Kind::Fnv1a32 => "FNV1A_32",
            Kind::Hsieh => "HSIEH",
            Kind::Murmur => "MURMUR",
            Kind::Jenkins => "JENKINS",
            Kind::Consistent => "CONSISTENT",
            Kind::Modula => "MODULA",
            Kind::Random => "RANDOM",
            Kind::True => "CSL_TRUE",
            Kind::False => "CSL_FALSE",
            Kind::Number => "NUMBER",
            Kind::Port => "PORT",
            Kind::WeightStart => "WEIGHT_START",
            Kind::IpAddress => "IPADDRESS",
            Kind::Hostname => "HOSTNAME",
            Kind::String => "STRING",
            Kind::QuotedString => "QUOTED_STRING",
        }
    }

    /// Token name as it appears in the "unexpected ..., expecting ..." text, which drops the
    /// double quotes of the table name.
    pub(super) fn message_name(self) -> &'static str {
        self.table_name().trim_matches('"')
    }

    /// True for the tokens whose scanning libmemcached records as the "previous token", which
    /// its syntax error messages report in place of an UNKNOWN token.
    fn is_recorded(self) -> bool {
        FIXED_SPELLINGS[..RECORDED_SPELLINGS]
            .iter()
            .any(|&(_, kind)| kind == self)
    }
}

/// The fixed spellings of libmemcached's scanner, matched without regard to letter case. The
/// first [`RECORDED_SPELLINGS`] entries (options and statement keywords) update the "previous
/// token" that syntax error messages report.
const FIXED_SPELLINGS: &[(&[u8], Kind)] = &[
    (b"--SERVER=", Kind::Server),
    (b"--SOCKET=", Kind::CslSocket),
    (b"--BINARY-PROTOCOL", Kind::BinaryProtocol),
    (b"--BUFFER-REQUESTS", Kind::BufferRequests),
    (b"--CONFIGURE-FILE=", Kind::ConfigureFile),
    (b"--CONNECT-TIMEOUT=", Kind::ConnectTimeout),
    (b"--DISTRIBUTION=", Kind::Distribution),
    (b"--HASH-WITH-NAMESPACE", Kind::HashWithNamespace),
    (b"--HASH=", Kind::Hash),
    (b"--IO-BYTES-WATERMARK=", Kind::IoBytesWatermark),
    (b"--IO-KEY-PREFETCH=", Kind::IoKeyPrefetch),
    (b"--IO-MSG-WATERMARK=", Kind::IoMsgWatermark),
    (b"--NOREPLY", Kind::Noreply),
    (b"--NUMBER-OF-REPLICAS=", Kind::NumberOfReplicas),
    (b"--POLL-TIMEOUT=", Kind::PollTimeout),
    (b"--RANDOMIZE-REPLICA-READ", Kind::RandomizeReplicaRead),
    (b"--RCV-TIMEOUT=", Kind::RcvTimeout),
    (b"--REMOVE-FAILED-SERVERS=", Kind::RemoveFailedServers),
    (b"--RETRY-TIMEOUT=", Kind::RetryTimeout),
    (b"--SND-TIMEOUT=", Kind::SndTimeout),
    (b"--SOCKET-RECV-SIZE=", Kind::SocketRecvSize),
    (b"--SOCKET-SEND-SIZE=", Kind::SocketSendSize),
    (b"--SORT-HOSTS", Kind::SortHosts),
    (b"--SUPPORT-CAS", Kind::SupportCas),
    (b"--TCP-KEEPALIVE", Kind::TcpKeepalive),
    (b"--TCP-KEEPIDLE", Kind::TcpKeepidle),
    (b"--TCP-NODELAY", Kind::TcpNodelay),
    (b"--USE-UDP", Kind::UseUdp),
    (b"--USER-DATA", Kind::UserData),
    (b"--VERIFY-KEY", Kind::VerifyKey),
    (b"--POOL-MIN=", Kind::PoolMin),
    (b"--POOL-MAX=", Kind::PoolMax),
    (b"--NAMESPACE=", Kind::Namespace),
    (b"--FETCH-VERSION", Kind::FetchVersion),
    (b"INCLUDE", Kind::Include),
    (b"RESET", Kind::Reset),
    (b"DEBUG", Kind::ParserDebug),
    (b"SERVERS", Kind::Servers),
    (b"END", Kind::End),
    (b"CSL_ERROR", Kind::CslError),
    (b"TRUE", Kind::True),
    (b"FALSE", Kind::False),
    (b"CONSISTENT", Kind::Consistent),
    (b"MODULA", Kind::Modula),
    (b"RANDOM", Kind::Random),
    (b"MD5", Kind::Md5),
    (b"CRC", Kind::Crc),
    (b"FNV1_64", Kind::Fnv1_64),
    (b"FNV1A_64", Kind::Fnv1a64),
    (b"FNV1_32", Kind::Fnv1_32),
    (b"FNV1A_32", Kind::Fnv1a32),
    (b"HSIEH", Kind::Hsieh),
    (b"MURMUR", Kind::Murmur),
    (b"JENKINS", Kind::Jenkins),
];

/// Number of leading [`FIXED_SPELLINGS`] entries that update the previous token.
const RECORDED_SPELLINGS: usize = 42;

/// Maximum number of digits in a PORT (`:`) or WEIGHT_START (`/?`) token.
const MAX_PORT_DIGITS: usize = 5;

/// One token: its kind and where its text lies in the input.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Result of a scanner pattern: a token to return, or a dropped byte.
#[derive(Clone, Copy)]
enum Outcome {
    Emit(Kind),
    /// A dropped byte (tab, CR, LF).
    Skip,
}

/// Scanner over one configuration string (or one line of a configuration file).
pub(super) struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    at_line_start: bool,
    /// Set after `--SERVER=` until the server statement is complete. A word then scans as a
    /// HOSTNAME instead of a STRING.
    pub(super) in_server: bool,
    /// The last recorded option or keyword token, which libmemcached starts at END.
    pub(super) previous: Kind,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(input: &'a [u8]) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            at_line_start: true,
            in_server: false,
            previous: Kind::End,
        }
    }

    pub(super) fn text(&self, token: &Token) -> &'a [u8] {
        &self.input[token.start..token.end]
    }

    /// Scans the next token, skipping dropped bytes. At the end it returns EndOfInput, and
    /// keeps doing so.
    pub(super) fn next_token(&mut self) -> Token {
        loop {
            if self.pos >= self.input.len() {
                return Token {
                    kind: Kind::EndOfInput,
                    start: self.pos,
                    end: self.pos,
                };
            }
            let start = self.pos;
            let (len, outcome) = self.longest_match();
            self.pos += len;
            self.at_line_start = self.input[self.pos - 1] == b'\n';
            match outcome {
                Outcome::Skip => continue,
                Outcome::Emit(kind) => {
                    if kind.is_recorded() {
                        self.previous = kind;
                    }
                    if kind == Kind::Server {
                        self.in_server = true;
                    }
                    return Token {
                        kind,
                        start,
                        end: self.pos,
                    };
                }
            }
        }
    }

    /// Tries every pattern at the current position, in libmemcached's order, and returns the
    /// longest match (the earliest pattern on a tie). At least one byte always matches.
    fn longest_match(&self) -> (usize, Outcome) {
        let rest = &self.input[self.pos..];
        let mut best = (0, Outcome::Emit(Kind::Unknown));
        let mut consider = |len: usize, outcome: Outcome| {
            if len > best.0 {
                best = (len, outcome);
            }
        };

        match rest[0] {
            b'=' => consider(1, Outcome::Emit(Kind::Equals)),
            b',' => consider(1, Outcome::Emit(Kind::Comma)),
            b' ' => consider(1, Outcome::Emit(Kind::Space)),
            _ => {}
        }
        consider(
            count_digits(rest, 0, usize::MAX),
            Outcome::Emit(Kind::Number),
        );
        if let Some(len) = prefixed_digits(rest, b":") {
            consider(len, Outcome::Emit(Kind::Port));
        }
        if let Some(len) = prefixed_digits(rest, b"/?") {
            consider(len, Outcome::Emit(Kind::WeightStart));
        }
        if matches!(rest[0], b'\t' | b'\r' | b'\n') {
            consider(1, Outcome::Skip);
        }
        if self.at_line_start && rest[0] == b'#' {
            // The comment needs a following LF, which stays unconsumed.
            if let Some(newline) = rest.iter().position(|&b| b == b'\n') {
                consider(newline, Outcome::Emit(Kind::Comment));
            }
        }
        for &(spelling, kind) in FIXED_SPELLINGS {
            if starts_with_ignore_case(rest, spelling) {
                consider(spelling.len(), Outcome::Emit(kind));
            }
        }
        if rest.starts_with(b"--") {
            let letters = rest[2..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            consider(2 + letters, Outcome::Emit(Kind::UnknownOption));
        }
        consider(ip_address_length(rest), Outcome::Emit(Kind::IpAddress));
        let word = if self.in_server {
            Kind::Hostname
        } else {
            Kind::String
        };
        consider(word_length(rest), Outcome::Emit(word));
        consider(quoted_length(rest), Outcome::Emit(Kind::QuotedString));
        if rest[0] != b'\n' {
            consider(1, Outcome::Emit(Kind::Unknown));
        }
        best
    }
}

fn starts_with_ignore_case(text: &[u8], spelling: &[u8]) -> bool {
    text.len() >= spelling.len() && text[..spelling.len()].eq_ignore_ascii_case(spelling)
}

/// Number of ASCII digits at `text[from..]`, at most `max`.
fn count_digits(text: &[u8], from: usize, max: usize) -> usize {
    text.get(from..)
        .unwrap_or_default()
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Length of `prefix` followed by 1-5 digits, if `text` starts that way.
fn prefixed_digits(text: &[u8], prefix: &[u8]) -> Option<usize> {
    if !text.starts_with(prefix) {
        return None;
    }
    let digits = count_digits(text, prefix.len(), MAX_PORT_DIGITS);
    (digits > 0).then_some(prefix.len() + digits)
}

/// Length of the longest `([0-9]{1,3}\.){3}[0-9]{1,3}` prefix, 0 if none.
fn ip_address_length(text: &[u8]) -> usize {
    let mut pos = 0;
    for _ in 0..3 {
        let digits = count_digits(text, pos, 3);
        if digits == 0 || text.get(pos + digits) != Some(&b'.') {
            return 0;
        }
        pos += digits + 1;
    }
    let digits = count_digits(text, pos, 3);
    if digits == 0 {
        return 0;
    }
    pos + digits
}

/// Length of the longest STRING/HOSTNAME prefix: a letter or digit, one or more of letters,
/// digits and `."_-`, then a letter or digit. 0 if none.
fn word_length(text: &[u8]) -> usize {
    if !text[0].is_ascii_alphanumeric() {
        return 0;
    }
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'"' | b'_' | b'-');
    let run_end = 1 + text[1..].iter().take_while(|b| inner(b)).count();
    // The match ends at the last letter or digit of the run, which must leave at least one
    // byte between it and the first byte.
    match text[2.min(run_end)..run_end]
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
    {
        Some(offset) => 2 + offset + 1,
        None => 0,
    }
}

/// Length of the QUOTED_STRING prefix, 0 if none.
fn quoted_length(text: &[u8]) -> usize {
    let open = usize::from(matches!(text[0], b'L' | b'l'));
    if text.get(open) != Some(&b'"') {
        return 0;
    }
    let mut pos = open + 1;
    while let Some(&byte) = text.get(pos) {
        match byte {
            b'"' => return pos + 1,
            b'\\' => match text.get(pos + 1) {
                Some(&next) if next != b'\n' => pos += 2,
                _ => return 0,
            },
            _ => pos += 1,
        }
    }
    0
}

/// Converts decimal digits as C's `atoi` does with glibc: `strtol` clamps to the `long` range,
/// then the conversion to `int` keeps the low 32 bits.
pub(super) fn atoi(digits: &[u8]) -> i32 {
    let mut value: i64 = 0;
    for digit in digits.iter().filter_map(|&b| char::from(b).to_digit(10)) {
        value = value.saturating_mul(10).saturating_add(i64::from(digit));
    }
    value as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &[u8]) -> Vec<Kind> {
        let mut lexer = Lexer::new(input);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token();
            out.push(token.kind);
            if token.kind == Kind::EndOfInput {
                return out;
            }
        }
    }

    #[test]
    fn recorded_spellings_end_after_false() {
        assert_eq!(FIXED_SPELLINGS[RECORDED_SPELLINGS - 1].1, Kind::False);
        assert_eq!(FIXED_SPELLINGS[RECORDED_SPELLINGS].1, Kind::Consistent);
    }

    #[test]
    fn keyword_wins_tie_with_word() {
        assert_eq!(kinds(b"end"), [Kind::End, Kind::EndOfInput]);
        assert_eq!(kinds(b"endx"), [Kind::String, Kind::EndOfInput]);
        assert_eq!(kinds(b"fnv1a_64"), [Kind::Fnv1a64, Kind::EndOfInput]);
    }

    #[test]
    fn number_and_ip_win_ties_with_word() {
        assert_eq!(kinds(b"123"), [Kind::Number, Kind::EndOfInput]);
        assert_eq!(kinds(b"123a"), [Kind::String, Kind::EndOfInput]);
        assert_eq!(kinds(b"1.2.3.4"), [Kind::IpAddress, Kind::EndOfInput]);
        assert_eq!(kinds(b"1.2.3.4.5"), [Kind::String, Kind::EndOfInput]);
    }

    #[test]
    fn option_spelling_beats_unknown_option() {
        assert_eq!(kinds(b"--NOREPLY"), [Kind::Noreply, Kind::EndOfInput]);
        assert_eq!(
            kinds(b"--noreplyx"),
            [Kind::UnknownOption, Kind::EndOfInput]
        );
        assert_eq!(
            kinds(b"--USE-UDPx"),
            [Kind::UseUdp, Kind::Unknown, Kind::EndOfInput]
        );
        assert_eq!(kinds(b"--"), [Kind::UnknownOption, Kind::EndOfInput]);
    }

    #[test]
    fn word_needs_three_bytes() {
        assert_eq!(
            kinds(b"ab"),
            [Kind::Unknown, Kind::Unknown, Kind::EndOfInput]
        );
        assert_eq!(kinds(b"a\"b"), [Kind::String, Kind::EndOfInput]);
        assert_eq!(
            kinds(b"ab-"),
            [
                Kind::Unknown,
                Kind::Unknown,
                Kind::Unknown,
                Kind::EndOfInput
            ]
        );
    }

    #[test]
    fn quoted_string_forms() {
        assert_eq!(kinds(b"\"a b\""), [Kind::QuotedString, Kind::EndOfInput]);
        assert_eq!(kinds(b"L\"ab\""), [Kind::QuotedString, Kind::EndOfInput]);
        assert_eq!(kinds(b"L\"a\"b"), [Kind::String, Kind::EndOfInput]);
        assert_eq!(kinds(b"\"a\\\"b\""), [Kind::QuotedString, Kind::EndOfInput]);
        assert_eq!(kinds(b"\"a\\\nb\"")[0], Kind::Unknown);
    }

    #[test]
    fn comment_needs_line_start_and_newline() {
        assert_eq!(kinds(b"#x\n"), [Kind::Comment, Kind::EndOfInput]);
        assert_eq!(
            kinds(b"#x"),
            [Kind::Unknown, Kind::Unknown, Kind::EndOfInput]
        );
        assert_eq!(kinds(b" #x\n")[1], Kind::Unknown);
        assert_eq!(kinds(b"\n#x\n"), [Kind::Comment, Kind::EndOfInput]);
    }

    #[test]
    fn port_and_weight_take_five_digits() {
        assert_eq!(
            kinds(b":123456"),
            [Kind::Port, Kind::Number, Kind::EndOfInput]
        );
        assert_eq!(
            kinds(b"/?123456"),
            [Kind::WeightStart, Kind::Number, Kind::EndOfInput]
        );
    }

    #[test]
    fn atoi_wraps_like_glibc() {
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"2147483647"), i32::MAX);
        assert_eq!(atoi(b"2147483648"), i32::MIN);
        assert_eq!(atoi(b"4294967295"), -1);
        assert_eq!(atoi(b"4294967296"), 0);
        assert_eq!(atoi(b"99999999999999999999"), -1);
    }
}
