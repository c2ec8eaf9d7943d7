//! Cases checked against libmemcached 1.1.4 (Debian 12) with
//! `libmemcached_check_configuration()` and `memcached()`.

use super::grammar::*;
use super::*;

use std::collections::HashMap;

fn no_files(name: &[u8]) -> Result<Vec<u8>, String> {
    let _ = name;
    Err("No such file or directory".to_string())
}

fn parse_text(config: &str) -> Result<Vec<Action>, ParseError> {
    parse(config.as_bytes(), &mut no_files)
}

/// Parses `config` with `files` as the only readable files.
fn parse_with_files(config: &str, files: &[(&str, &[u8])]) -> Result<Vec<Action>, ParseError> {
    let files: HashMap<Vec<u8>, Vec<u8>> = files
        .iter()
        .map(|(name, contents)| (name.as_bytes().to_vec(), contents.to_vec()))
        .collect();
    let mut read = |name: &[u8]| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| "No such file or directory".to_string())
    };
    parse(config.as_bytes(), &mut read)
}

fn server(host: &str, port: u16, weight: u32) -> Action {
    Action::Server {
        host: host.as_bytes().to_vec(),
        port,
        weight,
    }
}

fn set(behavior: u32, value: u64) -> Action {
    Action::Behavior { behavior, value }
}

fn message_of(config: &str) -> String {
    match parse_text(config) {
        Ok(actions) => panic!("{config:?} was accepted: {actions:?}"),
        Err(error) => error.message,
    }
}

#[test]
fn accepted_strings() {
    let cases: Vec<(&str, Vec<Action>)> = vec![
        ("--SERVER=localhost", vec![server("localhost", 11211, 1)]),
        (
            "--SERVER=10.0.0.1:11212/?3",
            vec![server("10.0.0.1", 11212, 3)],
        ),
        (
            "--SERVER=mc.example.com/?7",
            vec![server("mc.example.com", 11211, 7)],
        ),
        ("--SERVER=999.2.3.4", vec![server("999.2.3.4", 11211, 1)]),
        ("--SERVER=1.2.3.4.5", vec![server("1.2.3.4.5", 11211, 1)]),
        ("--SERVER=1.2.3", vec![server("1.2.3", 11211, 1)]),
        (
            "--SERVER=abc:99999/?99999",
            vec![server("abc", 34463, 99999)],
        ),
        ("--SERVER=abc:0", vec![server("abc", 11211, 1)]),
        ("--SERVER=abc:65536", vec![server("abc", 11211, 1)]),
        ("--SERVER=a_b-c:1/?0", vec![server("a_b-c", 1, 0)]),
        ("--SERVER=ab\"cd", vec![server("ab\"cd", 11211, 1)]),
        (
            "--server=abc --Binary-Protocol",
            vec![server("abc", 11211, 1), set(18, 1)],
        ),
        ("--SERVER=abc\t:11212", vec![server("abc", 11212, 1)]),
        (
            "--SERVER=abc --NOREPLY\r\n",
            vec![server("abc", 11211, 1), set(26, 1)],
        ),
        (
            "--SOCKET=\"/tmp/mc.sock\"/?2",
            vec![Action::Socket {
                path: b"/tmp/mc.sock".to_vec(),
                weight: 2,
            }],
        ),
        (
            "--SOCKET=abc",
            vec![Action::Socket {
                path: b"abc".to_vec(),
                weight: 1,
            }],
        ),
        ("--BINARY-PROTOCOL", vec![set(BINARY_PROTOCOL, 1)]),
        ("--BUFFER-REQUESTS", vec![set(BUFFER_REQUESTS, 1)]),
        ("--CONNECT-TIMEOUT=500", vec![set(CONNECT_TIMEOUT, 500)]),
        ("--POLL-TIMEOUT=0", vec![set(POLL_TIMEOUT, 0)]),
        ("--RCV-TIMEOUT=7", vec![set(RCV_TIMEOUT, 7)]),
        ("--SND-TIMEOUT=8", vec![set(SND_TIMEOUT, 8)]),
        ("--RETRY-TIMEOUT=9", vec![set(RETRY_TIMEOUT, 9)]),
        ("--IO-BYTES-WATERMARK=10", vec![set(IO_BYTES_WATERMARK, 10)]),
        ("--IO-KEY-PREFETCH=11", vec![set(IO_KEY_PREFETCH, 11)]),
        ("--IO-MSG-WATERMARK=12", vec![set(IO_MSG_WATERMARK, 12)]),
        ("--NUMBER-OF-REPLICAS=2", vec![set(NUMBER_OF_REPLICAS, 2)]),
        ("--SOCKET-RECV-SIZE=4096", vec![set(SOCKET_RECV_SIZE, 4096)]),
        ("--SOCKET-SEND-SIZE=8192", vec![set(SOCKET_SEND_SIZE, 8192)]),
        (
            "--REMOVE-FAILED-SERVERS=5",
            vec![set(REMOVE_FAILED_SERVERS, 5)],
        ),
        (
            "--CONNECT-TIMEOUT=4294967295",
            vec![set(CONNECT_TIMEOUT, u64::MAX)],
        ),
        (
            "--CONNECT-TIMEOUT=99999999999999999999",
            vec![set(CONNECT_TIMEOUT, u64::MAX)],
        ),
        (
            "--NUMBER-OF-REPLICAS=2147483648",
            vec![set(NUMBER_OF_REPLICAS, 0xffff_ffff_8000_0000)],
        ),
        ("--DISTRIBUTION=consistent", vec![set(DISTRIBUTION, 1)]),
        ("--DISTRIBUTION=MODULA", vec![set(DISTRIBUTION, 0)]),
        ("--DISTRIBUTION=Random", vec![set(DISTRIBUTION, 3)]),
        (
            "--DISTRIBUTION=modula,crc",
            vec![set(DISTRIBUTION, 0), set(KETAMA_HASH, 2)],
        ),
        (
            "--DISTRIBUTION=modula --DISTRIBUTION=random",
            vec![set(DISTRIBUTION, 0), set(DISTRIBUTION, 3)],
        ),
        ("--HASH=MD5", vec![set(HASH, 1)]),
        ("--HASH=crc", vec![set(HASH, 2)]),
        ("--HASH=FNV1_64", vec![set(HASH, 3)]),
        ("--HASH=fnv1a_64", vec![set(HASH, 4)]),
        ("--HASH=FNV1_32", vec![set(HASH, 5)]),
        ("--HASH=FNV1A_32", vec![set(HASH, 6)]),
        ("--HASH=MURMUR", vec![set(HASH, 8)]),
        ("--HASH=Jenkins", vec![set(HASH, 9)]),
        (
            "--HASH=md5 RESET --DISTRIBUTION=random,md5",
            vec![
                set(HASH, 1),
                Action::Reset,
                set(DISTRIBUTION, 3),
                set(KETAMA_HASH, 1),
            ],
        ),
        ("--HASH-WITH-NAMESPACE", vec![set(HASH_WITH_PREFIX_KEY, 1)]),
        ("--NAMESPACE=foo", vec![Action::Namespace(b"foo".to_vec())]),
        (
            "--NAMESPACE=\"foo:\"",
            vec![Action::Namespace(b"foo:".to_vec())],
        ),
        (
            "--NAMESPACE=ab\"cd",
            vec![Action::Namespace(b"ab\"cd".to_vec())],
        ),
        (
            "--NAMESPACE=\"a\\\"b\"",
            vec![Action::Namespace(b"a\\\"b".to_vec())],
        ),
        (
            "--NAMESPACE=L\"abc\"",
            vec![Action::Namespace(b"\"abc".to_vec())],
        ),
        (
            "--BINARY-PROTOCOL --NAMESPACE=\"a b\"",
            vec![set(BINARY_PROTOCOL, 1), Action::Namespace(b"a b".to_vec())],
        ),
        ("--NOREPLY", vec![set(NOREPLY, 1)]),
        (
            "--RANDOMIZE-REPLICA-READ",
            vec![set(RANDOMIZE_REPLICA_READ, 1)],
        ),
        ("--SORT-HOSTS", vec![set(SORT_HOSTS, 1)]),
        ("--SUPPORT-CAS", vec![set(SUPPORT_CAS, 1)]),
        ("--TCP-KEEPALIVE", vec![set(TCP_KEEPALIVE, 1)]),
        ("--TCP-NODELAY", vec![set(TCP_NODELAY, 1)]),
        ("--TCP-KEEPIDLE", vec![set(TCP_KEEPIDLE, 1)]),
        ("--USE-UDP", vec![set(USE_UDP, 1)]),
        (
            "--VERIFY-KEY --BINARY-PROTOCOL",
            vec![set(VERIFY_KEY, 1), set(BINARY_PROTOCOL, 1)],
        ),
        (
            "--BUFFER-REQUESTS --USE-UDP",
            vec![set(BUFFER_REQUESTS, 1), set(USE_UDP, 1)],
        ),
        ("--USER-DATA", vec![]),
        (
            "--POOL-MIN=5 --POOL-MAX=10",
            vec![Action::PoolMin(5), Action::PoolMax(10)],
        ),
        ("--FETCH-VERSION", vec![Action::FetchVersion]),
        ("RESET", vec![Action::Reset]),
        ("DEBUG", vec![]),
        ("END garbage  ,,", vec![]),
        ("--SERVER=abc END --FOO", vec![server("abc", 11211, 1)]),
        ("#comment\n", vec![]),
        (
            "--NAMESPACE=foo RESET --NAMESPACE=bar",
            vec![
                Action::Namespace(b"foo".to_vec()),
                Action::Reset,
                Action::Namespace(b"bar".to_vec()),
            ],
        ),
        (
            "--USE-UDP RESET --BUFFER-REQUESTS",
            vec![set(USE_UDP, 1), Action::Reset, set(BUFFER_REQUESTS, 1)],
        ),
        (
            "--BINARY-PROTOCOL RESET --VERIFY-KEY",
            vec![set(BINARY_PROTOCOL, 1), Action::Reset, set(VERIFY_KEY, 1)],
        ),
        (
            "--CONFIGURE-FILE=\"/etc/mc.conf\" RESET",
            vec![
                Action::ConfigureFile(b"/etc/mc.conf".to_vec()),
                Action::Reset,
            ],
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(parse_text(config), Ok(expected), "{config:?}");
    }
}

#[test]
fn rejected_strings_exact_messages() {
    let cases = [
        (
            "--SERVER=localhost  --NOREPLY",
            "Error occured during parsing (syntax error, unexpected ' '): last_token=' '(32), \
             at byte 19: \" \"",
        ),
        (
            "--SERVER=localhost,--NOREPLY",
            "Error occured during parsing (syntax error, unexpected ',', expecting end of file \
             or ' '): last_token=','(44), at byte 18: \",\"",
        ),
        (
            "--SERVER=abc\t--NOREPLY",
            "Error occured during parsing (syntax error, unexpected NOREPLY, expecting end of \
             file or ' '): last_token=NOREPLY(283), at byte 13: \"--NOREPLY\"",
        ),
        (
            "ERROR",
            "Error occured during parsing (syntax error, unexpected STRING): \
             last_token=STRING(325), at byte 0: \"ERROR\"",
        ),
        (
            "#x",
            "Error occured during parsing (syntax error, unexpected UNKNOWN): \
             last_token=UNKNOWN(271), at byte 0: \"#\"",
        ),
        (
            "--SERVER=ab",
            "Error occured during parsing (syntax error, unexpected UNKNOWN, expecting IPADDRESS \
             or HOSTNAME): last_token=SERVER(266), at byte 9: \"a\"",
        ),
        (
            "--SERVER=[::1]:11211",
            "Error occured during parsing (syntax error, unexpected UNKNOWN, expecting IPADDRESS \
             or HOSTNAME): last_token=SERVER(266), at byte 9: \"[\"",
        ),
        (
            "--SERVER=",
            "Error occured during parsing (syntax error, unexpected end of file, expecting \
             IPADDRESS or HOSTNAME): last_token=\"end of file\"(0), at end of input (byte 9)",
        ),
        (
            "--SOCKET=/tmp/mc.sock",
            "Error occured during parsing (syntax error, unexpected UNKNOWN, expecting STRING or \
             QUOTED_STRING): last_token=CSL_SOCKET(267), at byte 9: \"/\"",
        ),
        (
            "--FOO",
            "Error occured during parsing (syntax error, unexpected UNKNOWN_OPTION): \
             last_token=UNKNOWN_OPTION(270), at byte 0: \"--FOO\"",
        ),
        (
            "--DISTRIBUTION=ketama",
            "Error occured during parsing (syntax error, unexpected STRING, expecting \
             CONSISTENT or MODULA or RANDOM): last_token=STRING(325), at byte 15: \"ketama\"",
        ),
        (
            "--DISTRIBUTION=modula,",
            "Error occured during parsing (syntax error, unexpected end of file): \
             last_token=\"end of file\"(0), at end of input (byte 22)",
        ),
        (
            "INCLUDE",
            "Error occured during parsing (syntax error, unexpected end of file, expecting ' '): \
             last_token=\"end of file\"(0), at end of input (byte 7)",
        ),
        (
            "--POOL-MIN=-5",
            "Error occured during parsing (syntax error, unexpected UNKNOWN, expecting NUMBER): \
             last_token=POOL_MIN(303), at byte 11: \"-\"",
        ),
        (
            "--TCP-KEEPIDLE=5",
            "Error occured during parsing (syntax error, unexpected '=', expecting end of file \
             or ' '): last_token='='(61), at byte 14: \"=\"",
        ),
        (
            "--SERVER=abc:123456",
            "Error occured during parsing (syntax error, unexpected NUMBER, expecting end of file \
             or ' '): last_token=NUMBER(320), at byte 18: \"6\"",
        ),
        (
            "SERVERS",
            "Error occured during parsing (syntax error, unexpected SERVERS): \
             last_token=SERVERS(268), at byte 0: \"SERVERS\"",
        ),
        (
            "",
            "Error occured during parsing (syntax error, unexpected end of file): \
             last_token=\"end of file\"(0), at end of input (byte 0)",
        ),
        ("CSL_ERROR", "ERROR called directly"),
        ("--HASH=MD5 --HASH=CRC", "--HASH can only be set once"),
        ("--HASH=MD5 RESET --HASH=CRC", "--HASH can only be set once"),
        (
            "--NAMESPACE=foo --NAMESPACE=bar",
            "--NAMESPACE can only be called once",
        ),
        (
            "--BINARY-PROTOCOL --VERIFY-KEY",
            "Could not set: MEMCACHED_BEHAVIOR_VERIFY_KEY",
        ),
        (
            "--VERIFY-KEY --BINARY-PROTOCOL --VERIFY-KEY",
            "Could not set: MEMCACHED_BEHAVIOR_VERIFY_KEY",
        ),
        (
            "--USE-UDP --BUFFER-REQUESTS",
            "Could not set: MEMCACHED_BEHAVIOR_BUFFER_REQUESTS",
        ),
        ("--SOCKET=\"\"", "Failed to add socket: "),
        ("--SOCKET=\"/x\"\"\"", "Failed to add socket: "),
    ];
    for (config, expected) in cases {
        assert_eq!(message_of(config), expected, "{config:?}");
    }
}

#[test]
fn rejected_strings_message_prefixes() {
    let unexpected = "Error occured during parsing (syntax error, unexpected ";
    let unknown_option = format!("{unexpected}UNKNOWN_OPTION)");
    let string = format!("{unexpected}STRING)");
    let namespace_value = format!(
        "{unexpected}UNKNOWN, expecting STRING or QUOTED_STRING): last_token=NAMESPACE(302)"
    );
    let server_end = format!("{unexpected}END, expecting IPADDRESS or HOSTNAME)");
    let comment_glued = format!("{unexpected}SERVER, expecting end of file or ' ')");
    let long_host = format!("--SERVER={}", "h".repeat(1025));
    let long_lookahead = format!("--SERVER=abc:5{}", "h".repeat(1025));
    let long_path = format!("--SOCKET=\"{}\"", "p".repeat(1025));
    let cases: &[(&str, &str)] = &[
        ("--REMOVE-FAILED-SERVERS", &unknown_option),
        ("--REMOVE_FAILED_SERVERS=1", &unknown_option),
        ("--SERVER-FAILURE-LIMIT=1", &unknown_option),
        ("--DEAD-TIMEOUT=1", &unknown_option),
        ("--KETAMA", &unknown_option),
        ("--HASH=MURMUR3", &string),
        ("--HASH=DEFAULT", &string),
        ("--NAMESPACE=x", &namespace_value),
        ("--SERVER=end", &server_end),
        ("#x\n--SERVER=abc", &comment_glued),
        ("--NAMESPACE=\"\"", "INVALID ARGUMENTS"),
        (
            "--NAMESPACE=\"a b\"",
            "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE",
        ),
        (
            "--NAMESPACE=\"a\nb\"",
            "A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE",
        ),
        (
            "INCLUDE \"/missing.conf\"",
            "Failed to parse configuration file",
        ),
        ("INCLUDE \"\"", "Failed to parse configuration file"),
        ("--CONFIGURE-FILE=\"\"", "Invalid --CONFIGURE-FILE"),
        (&long_host, "Failed to add server: hhh"),
        (&long_lookahead, "Failed to add server: hhh"),
        (&long_path, "Failed to add socket: ppp"),
    ];
    for &(config, prefix) in cases {
        let message = message_of(config);
        assert!(message.starts_with(prefix), "{config:?} gave {message:?}");
    }
}

#[test]
fn namespace_length_limits() {
    let namespace = |length: usize| format!("--NAMESPACE={}", "n".repeat(length));
    assert!(parse_text(&namespace(127)).is_ok());
    assert!(message_of(&namespace(128)).starts_with("KEY RETURNED FROM SERVER WAS TOO LARGE"));
    assert!(message_of(&namespace(250)).starts_with("KEY RETURNED FROM SERVER WAS TOO LARGE"));
    assert!(message_of(&namespace(251)).starts_with("A BAD KEY WAS PROVIDED"));
    let binary = format!("--BINARY-PROTOCOL {}", namespace(128));
    assert!(message_of(&binary).starts_with("KEY RETURNED FROM SERVER WAS TOO LARGE"));
}

#[test]
fn host_and_socket_length_limits() {
    let host = "h".repeat(1024);
    assert_eq!(
        parse_text(&format!("--SERVER={host}")),
        Ok(vec![server(&host, 11211, 1)])
    );
    let path = "p".repeat(1024);
    let expected = Action::Socket {
        path: path.clone().into_bytes(),
        weight: 1,
    };
    assert_eq!(
        parse_text(&format!("--SOCKET=\"{path}\"")),
        Ok(vec![expected])
    );

    // The message keeps 1023 bytes, like libmemcached's 1024-byte buffer.
    let message = message_of(&format!("--SERVER={}:7", "h".repeat(3000)));
    assert_eq!(message.len(), 1023);
}

#[test]
fn nul_bytes_in_values() {
    let socket = parse(b"--SOCKET=\"/tmp/x\0yz\"", &mut no_files);
    let expected = Action::Socket {
        path: b"/tmp/x".to_vec(),
        weight: 1,
    };
    assert_eq!(socket, Ok(vec![expected]));

    let binary = parse(b"--BINARY-PROTOCOL --NAMESPACE=\"a\0b\"", &mut no_files);
    let expected = vec![set(BINARY_PROTOCOL, 1), Action::Namespace(b"a\0b".to_vec())];
    assert_eq!(binary, Ok(expected));

    assert!(parse(b"--NAMESPACE=\"a\0b\"", &mut no_files).is_err());
    assert_eq!(parse(b"#\0x\n", &mut no_files), Ok(vec![]));
}

#[test]
fn include_parses_lines_in_place() {
    let file: &[u8] = b"--SERVER=abc\n\n# comment\n--NAMESPACE=foo\n";
    let actions = parse_with_files(
        "--SERVER=first INCLUDE \"a.conf\" --SERVER=last",
        &[("a.conf", file)],
    );
    let expected = vec![
        server("first", 11211, 1),
        server("abc", 11211, 1),
        Action::Namespace(b"foo".to_vec()),
        server("last", 11211, 1),
    ];
    assert_eq!(actions, Ok(expected));
}

#[test]
fn include_failures() {
    let cases: [(&str, &[u8]); 8] = [
        ("no trailing newline after comment", b"--SERVER=abc\n#last"),
        ("CRLF blank line", b"--SERVER=abc\r\n\r\n"),
        ("empty file", b""),
        ("only blank lines", b"\n\n"),
        ("bad option", b"--SERVER=abc --FOO\n"),
        ("leading space", b" --SERVER=abc\n"),
        ("trailing space", b"--SERVER=abc \n"),
        ("line after END", b"END xx\n--FOO\n"),
    ];
    for (what, contents) in cases {
        let result = parse_with_files("INCLUDE \"f.conf\"", &[("f.conf", contents)]);
        let error = result.expect_err(what);
        assert_eq!(error.kind, ParseErrorKind::Parse, "{what}");
        assert!(
            error
                .message
                .starts_with("Failed to parse configuration file"),
            "{what}"
        );
    }
}

#[test]
fn include_accepts_file_forms() {
    let cases: [(&str, &[u8]); 5] = [
        ("CRLF line ends", b"--SERVER=abc\r\n--SERVER=def\r\n"),
        ("END stops only its line", b"END --FOO\n--SERVER=abc\n"),
        ("NUL cuts the line", b"--SERVER=abc\0--FOO\n"),
        ("comment first", b"#x\n--SERVER=abc"),
        ("hash again in file", b"--HASH=CRC\n"),
    ];
    for (what, contents) in cases {
        let result = parse_with_files("--HASH=MD5 INCLUDE \"f.conf\"", &[("f.conf", contents)]);
        assert!(result.is_ok(), "{what}: {result:?}");
    }
}

#[test]
fn include_shares_handle_state() {
    let namespace = parse_with_files(
        "--NAMESPACE=foo INCLUDE \"n.conf\"",
        &[("n.conf", b"--NAMESPACE=bar\n")],
    );
    assert!(namespace.is_err());
    let verify = parse_with_files(
        "--BINARY-PROTOCOL INCLUDE \"v.conf\"",
        &[("v.conf", b"--VERIFY-KEY\n")],
    );
    assert!(verify.is_err());
}

#[test]
fn include_splits_long_lines() {
    // fgets reads 8191 bytes at a time, so a longer line is parsed in pieces.
    let mut contents = b"--SERVER=abc".to_vec();
    contents.resize(8191, b' ');
    contents.extend_from_slice(b"--SERVER=def\n");
    let result = parse_with_files("INCLUDE \"l.conf\"", &[("l.conf", &contents)]);
    assert!(result.is_err());

    let mut contents = b"--SERVER=abc\n".to_vec();
    contents.resize(contents.len() + 9000, b'#');
    contents.push(b'\n');
    let result = parse_with_files("INCLUDE \"l.conf\"", &[("l.conf", &contents)]);
    // The first 8191-byte piece of the comment has no newline, so it is no comment.
    assert!(result.is_err());
}

#[test]
fn include_depth_is_limited() {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for level in 1..=MAX_INCLUDE_DEPTH {
        let contents = format!("INCLUDE \"f{}.conf\"\n", level + 1).into_bytes();
        files.push((format!("f{level}.conf"), contents));
    }
    let deepest = format!("f{}.conf", MAX_INCLUDE_DEPTH + 1);
    files.push((deepest, b"--SERVER=deep\n".to_vec()));
    let as_refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, contents)| (name.as_str(), contents.as_slice()))
        .collect();

    // f1 is at depth 1, so f8 may not include f9.
    let error = parse_with_files("INCLUDE \"f1.conf\"", &as_refs).unwrap_err();
    assert!(
        error.message.contains("nested more than 8 deep"),
        "{}",
        error.message
    );

    // Starting at f2 puts f9 at depth 8, which is allowed.
    let actions = parse_with_files("INCLUDE \"f2.conf\"", &as_refs);
    assert_eq!(actions, Ok(vec![server("deep", 11211, 1)]));

    let looped = parse_with_files("INCLUDE \"me\"", &[("me", b"INCLUDE \"me\"\n")]);
    assert!(looped.is_err());
}

#[test]
fn configure_file_is_parsed_after_string() {
    let actions = parse_with_files(
        "--CONFIGURE-FILE=\"c.conf\" --SERVER=abc",
        &[("c.conf", b"--SERVER=def\n--CONFIGURE-FILE=\"other\"\n")],
    );
    let expected = vec![
        Action::ConfigureFile(b"c.conf".to_vec()),
        server("abc", 11211, 1),
        server("def", 11211, 1),
        Action::ConfigureFile(b"other".to_vec()),
    ];
    assert_eq!(actions, Ok(expected));
}

#[test]
fn configure_file_named_in_include_is_read() {
    let actions = parse_with_files(
        "INCLUDE \"i.conf\"",
        &[
            ("i.conf", b"--CONFIGURE-FILE=\"c.conf\"\n"),
            ("c.conf", b"--NOREPLY\n"),
        ],
    );
    let expected = vec![Action::ConfigureFile(b"c.conf".to_vec()), set(NOREPLY, 1)];
    assert_eq!(actions, Ok(expected));
}

#[test]
fn configure_file_failures() {
    let missing = parse_text("--CONFIGURE-FILE=\"/nonexist\"").unwrap_err();
    assert_eq!(missing.kind, ParseErrorKind::ConfigureFileUnreadable);
    assert_eq!(missing.message, "/nonexist: No such file or directory");

    let empty = parse_with_files("--CONFIGURE-FILE=\"e\"", &[("e", b"\n")]).unwrap_err();
    assert_eq!(empty.kind, ParseErrorKind::ConfigureFileEmpty);

    // Errors on the file's lines come back unchanged.
    let verify = parse_with_files(
        "--BINARY-PROTOCOL --CONFIGURE-FILE=\"v\"",
        &[("v", b"--VERIFY-KEY\n")],
    );
    let verify = verify.unwrap_err();
    assert_eq!(verify.kind, ParseErrorKind::Parse);
    assert_eq!(
        verify.message,
        "Could not set: MEMCACHED_BEHAVIOR_VERIFY_KEY"
    );

    // The file is read only when the string parsed.
    let mut reads = 0;
    let mut counting = |_: &[u8]| {
        reads += 1;
        Ok(b"--NOREPLY\n".to_vec())
    };
    assert!(parse(b"--CONFIGURE-FILE=\"c\" --FOO", &mut counting).is_err());
    assert_eq!(reads, 0);
}

#[test]
fn pool_sizes_follow_actions() {
    assert_eq!(pool_sizes(&[]), (1, 1));
    let actions = parse_text("--POOL-MIN=5 --POOL-MAX=10").unwrap();
    assert_eq!(pool_sizes(&actions), (5, 10));
    let actions = parse_text("--POOL-MAX=10 RESET --POOL-MIN=2").unwrap();
    assert_eq!(pool_sizes(&actions), (2, 1));
    let actions = parse_text("--POOL-MAX=4294967295").unwrap();
    assert_eq!(pool_sizes(&actions), (1, u32::MAX));
}

/// Deterministic xorshift64* generator, so failures reproduce.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Text that is random bytes mixed with pieces of real options, so that the parser gets
/// past the first token often.
fn random_config(rng: &mut Xorshift) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"--SERVER=",
        b"--SOCKET=",
        b"--NAMESPACE=",
        b"--HASH=",
        b"--DISTRIBUTION=",
        b"--CONFIGURE-FILE=",
        b"INCLUDE ",
        b"--POOL-MIN=",
        b"--BINARY-PROTOCOL",
        b"--VERIFY-KEY",
        b"--USE-UDP",
        b"--BUFFER-REQUESTS",
        b"RESET",
        b"END",
        b"localhost",
        b"1.2.3.4",
        b":11211",
        b"/?3",
        b"\"f\"",
        b"\"",
        b"md5",
        b"modula,",
        b"#",
        b"\n",
        b" ",
        b"\t",
        b",",
        b"=",
        b"L\"",
        b"\\",
        b"123",
        b"\0",
    ];
    let mut config = Vec::new();
    for _ in 0..rng.below(12) {
        if rng.below(3) == 0 {
            config.push(rng.next() as u8);
        } else {
            config.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    config
}

#[test]
fn random_input_never_panics() {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..30_000 {
        let config = random_config(&mut rng);
        let file = random_config(&mut rng);
        // Every file name resolves to the same random file, which may include itself.
        let mut read = |_: &[u8]| Ok(file.clone());
        let Ok(actions) = parse(&config, &mut read) else {
            continue;
        };
        for action in &actions {
            match action {
                Action::Server { host, port, .. } => {
                    assert!(!host.is_empty(), "{config:?}");
                    assert!(host.len() < 1025, "{config:?}");
                    assert_ne!(*port, 0, "{config:?}");
                }
                Action::Socket { path, .. } => {
                    assert!(!path.is_empty(), "{config:?}");
                    assert!(path.len() < 1025, "{config:?}");
                    assert!(!path.contains(&0), "{config:?}");
                }
                Action::Namespace(namespace) => {
                    assert!(!namespace.is_empty(), "{config:?}");
                    assert!(namespace.len() <= 127, "{config:?}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Xorshift(42);
    for _ in 0..30_000 {
        let length = rng.below(48);
        let config: Vec<u8> = (0..length).map(|_| rng.next() as u8).collect();
        let _ = parse(&config, &mut no_files);
    }
}

#[test]
fn hsieh_hash_is_accepted() {
    let actions = parse(b"--HASH=HSIEH", &mut |_| Err("no files".into())).expect("HSIEH parses");
    assert_eq!(
        actions,
        vec![Action::Behavior {
            behavior: 2,
            value: 7
        }]
    );
    let actions = parse(b"--DISTRIBUTION=modula,hsieh", &mut |_| {
        Err("no files".into())
    })
    .expect("parses");
    assert_eq!(
        actions.last(),
        Some(&Action::Behavior {
            behavior: 17,
            value: 7
        })
    );
}

#[test]
fn configure_file_name_starting_with_nul_is_rejected_without_panic() {
    let input = include_bytes!("../../fuzz/regressions/config_string/configure_file_name_starting_with_nul");
    let _ = parse(input, &mut |_| Ok(Vec::new()));
}
