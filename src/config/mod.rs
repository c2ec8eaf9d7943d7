//! Parser for libmemcached configuration strings, the text `memcached()`,
//! `memcached_pool()` and `libmemcached_check_configuration()` take, such as
//! `--SERVER=10.0.0.1:11211 --BINARY-PROTOCOL --NAMESPACE="app:"`.
//!
//! [`parse`] accepts what libmemcached 1.1.4 accepts and rejects what it rejects, except that
//! it rejects an empty `--CONFIGURE-FILE=""` (on which libmemcached aborts) and `INCLUDE` files
//! nested deeper than [`MAX_INCLUDE_DEPTH`]. It turns the text into [`Action`]s, one for each
//! change libmemcached makes to the handle, in order. The caller applies them to a fresh
//! handle. The parser performs the checks that depend on earlier options (a second
//! `--NAMESPACE`, `--VERIFY-KEY` after `--BINARY-PROTOCOL`, `--BUFFER-REQUESTS` after
//! `--USE-UDP`, namespace characters), so every action of a successful parse is one that
//! libmemcached's own calls accept.
//!
//! Files named by `INCLUDE "file"` and `--CONFIGURE-FILE=` are read through a caller-supplied
//! function, and nothing else touches the file system.

mod grammar;
mod lexer;

#[cfg(test)]
mod tests;

use std::fmt;

use grammar::until_nul;

/// One change to a handle, in the order the configuration makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// `--SERVER=host[:port][/?weight]`: `memcached_server_add_with_weight(host, port,
    /// weight)`. The port is the given one truncated to 16 bits, with 0 replaced by 11211
    /// (the default when no port is given). The weight defaults to 1. The host is shorter
    /// than 1025 bytes and contains no NUL.
    Server {
        host: Vec<u8>,
        port: u16,
        weight: u32,
    },
    /// `--SOCKET="path"[/?weight]`: `memcached_server_add_unix_socket_with_weight(path,
    /// weight)`. The path is 1-1024 bytes without NUL (a quoted path is cut at its first NUL).
    Socket { path: Vec<u8>, weight: u32 },
    /// `memcached_behavior_set(behavior, value)` with a `memcached_behavior_t` number. The
    /// caller applies the setter's side effects too, because no separate actions follow for
    /// them: `USE_UDP` turns `NOREPLY` on and `BUFFER_REQUESTS` off, and `BINARY_PROTOCOL`
    /// turns `VERIFY_KEY` off. A number option's value is the C `int` it parsed to,
    /// sign-extended to 64 bits (`--POLL-TIMEOUT=4294967295` gives `u64::MAX`).
    Behavior { behavior: u32, value: u64 },
    /// `--NAMESPACE=value`: the key prefix, already checked as `memcached_set_namespace`
    /// checks it.
    Namespace(Vec<u8>),
    /// `--CONFIGURE-FILE=name`: the name to store as the handle's configuration file
    /// (`MEMCACHED_BEHAVIOR_LOAD_FROM_FILE` then reads 1). [`parse`] has already read that
    /// file and appended its actions, so the caller must not read it again.
    ConfigureFile(Vec<u8>),
    /// `--POOL-MIN=N`: the number of handles `memcached_pool()` creates up front.
    PoolMin(u32),
    /// `--POOL-MAX=N`: the maximum number of handles in a `memcached_pool()` pool.
    PoolMax(u32),
    /// `RESET`: `memcached_reset()`, which drops servers, behaviors, the namespace, the
    /// configuration file name and the pool sizes back to defaults.
    Reset,
    /// `--FETCH-VERSION`: libmemcached sets an internal flag that has no visible effect.
    FetchVersion,
}

/// Kind of a [`ParseError`], which decides the `memcached_return_t` that libmemcached returns
/// for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A syntax error, a rejected option or an `INCLUDE` failure: `MEMCACHED_PARSE_ERROR` (43).
    Parse,
    /// The `--CONFIGURE-FILE=` file could not be read: `MEMCACHED_ERRNO` (26).
    ConfigureFileUnreadable,
    /// The `--CONFIGURE-FILE=` file had no lines other than empty ones:
    /// `MEMCACHED_INVALID_ARGUMENTS` (38). libmemcached records no message in this case.
    ConfigureFileEmpty,
}

/// Failure of a configuration: its kind and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// libmemcached's message where it has one (such as "--NAMESPACE can only be called
    /// once"). Syntax errors also name the offending token and its byte offset in the string
    /// or file line.
    pub message: String,
}

impl ParseError {
    fn parse(message: impl Into<String>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Parse,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Function that returns the contents of the named file, or an error text such as "No such file
/// or directory".
pub type FileReader<'a> = dyn FnMut(&[u8]) -> Result<Vec<u8>, String> + 'a;

/// Maximum nesting of files: `INCLUDE` inside a file at this depth fails. libmemcached has no
/// limit and recurses until it runs out of stack or file descriptors.
pub const MAX_INCLUDE_DEPTH: usize = 8;

/// Line buffer of libmemcached's file reader (glibc's `BUFSIZ`, including the NUL), so longer
/// lines are parsed in pieces of 8191 bytes.
const LINE_BUFFER_SIZE: usize = 8192;

/// Parses a configuration string as `memcached()` does, including the `--CONFIGURE-FILE=`
/// file it names, and returns the actions to apply to a fresh handle.
///
/// `read_file` returns the contents of the file with the given name (the bytes of the name
/// before any NUL), or an error text such as "No such file or directory". `INCLUDE` files are
/// parsed where they appear. The configuration file recorded last (`RESET` clears it) is read
/// after the whole string, and only when the string parsed. Its actions follow the string's.
/// Each file line is a configuration string of its own, except that empty lines are skipped.
/// A `--CONFIGURE-FILE=` inside that file is recorded but not read.
///
/// An empty `config` is a syntax error, as in libmemcached, whose `memcached()` handles empty
/// strings before parsing.
pub fn parse(config: &[u8], read_file: &mut FileReader<'_>) -> Result<Vec<Action>, ParseError> {
    let mut session = Session::new(read_file);
    grammar::parse_statements(&mut session, config, 0)?;
    if let Some(name) = session.configure_file.clone() {
        session.parse_configure_file(&name)?;
    }
    Ok(session.actions)
}

/// Returns the `(initial, max)` pool sizes that `memcached_pool()` uses after applying
/// `actions`: the last `--POOL-MIN`/`--POOL-MAX`, 1 and 1 by default and after `RESET`.
pub fn pool_sizes(actions: &[Action]) -> (u32, u32) {
    let mut sizes = (1, 1);
    for action in actions {
        match action {
            Action::PoolMin(size) => sizes.0 = *size,
            Action::PoolMax(size) => sizes.1 = *size,
            Action::Reset => sizes = (1, 1),
            _ => {}
        }
    }
    sizes
}

/// State of one `parse` call: the actions so far and the handle state that later options are
/// checked against. Strings and file lines share it.
struct Session<'r> {
    read_file: &'r mut FileReader<'r>,
    actions: Vec<Action>,
    binary_protocol: bool,
    use_udp: bool,
    has_namespace: bool,
    configure_file: Option<Vec<u8>>,
}

impl<'r> Session<'r> {
    fn new(read_file: &'r mut FileReader<'r>) -> Session<'r> {
        Session {
            read_file,
            actions: Vec::new(),
            binary_protocol: false,
            use_udp: false,
            has_namespace: false,
            configure_file: None,
        }
    }

    fn reset(&mut self) {
        self.binary_protocol = false;
        self.use_udp = false;
        self.has_namespace = false;
        self.configure_file = None;
        self.actions.push(Action::Reset);
    }

    /// Parses the file named by `INCLUDE` in text at `depth`. Every failure, including one
    /// inside the file, becomes libmemcached's "Failed to parse configuration file" followed
    /// by the cause.
    fn include(&mut self, name: &[u8], depth: usize) -> Result<(), ParseError> {
        let path = until_nul(name);
        let fail = |cause: &str| {
            ParseError::parse(format!(
                "Failed to parse configuration file \"{}\": {cause}",
                String::from_utf8_lossy(path)
            ))
        };
        if name.is_empty() {
            return Err(fail("the file name is empty"));
        }
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(fail(&format!(
                "INCLUDE files are nested more than {MAX_INCLUDE_DEPTH} deep"
            )));
        }

        let contents = (self.read_file)(path).map_err(|error| fail(&error))?;
        match self.parse_file(&contents, depth + 1) {
            Ok(true) => Ok(()),
            Ok(false) => Err(fail("the file has only empty lines")),
            Err(error) => Err(fail(&error.message)),
        }
    }

    /// Parses the `--CONFIGURE-FILE=` file after the string. Errors on its lines are
    /// returned unchanged.
    fn parse_configure_file(&mut self, name: &[u8]) -> Result<(), ParseError> {
        let display_name = String::from_utf8_lossy(name).into_owned();
        let contents = (self.read_file)(name).map_err(|error| ParseError {
            kind: ParseErrorKind::ConfigureFileUnreadable,
            message: format!("{display_name}: {error}"),
        })?;
        if self.parse_file(&contents, 1)? {
            return Ok(());
        }
        Err(ParseError {
            kind: ParseErrorKind::ConfigureFileEmpty,
            message: format!("configuration file \"{display_name}\" has only empty lines"),
        })
    }

    /// Parses each line of a file as its own configuration string, the way libmemcached's
    /// `fgets` loop splits it. Returns whether any line was parsed.
    fn parse_file(&mut self, contents: &[u8], depth: usize) -> Result<bool, ParseError> {
        let mut parsed_any = false;
        for line in file_lines(contents) {
            if line == b"\n" {
                continue;
            }
            grammar::parse_statements(self, line, depth)?;
            parsed_any = true;
        }
        Ok(parsed_any)
    }
}

/// Splits a file as libmemcached reads it: pieces ending after each LF or after 8191 bytes,
/// each cut at its first NUL (the reader measures them with `strlen`).
fn file_lines(contents: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = contents;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let limit = rest.len().min(LINE_BUFFER_SIZE - 1);
        let length = match rest[..limit].iter().position(|&b| b == b'\n') {
            Some(newline) => newline + 1,
            None => limit,
        };
        let (piece, tail) = rest.split_at(length);
        rest = tail;
        Some(until_nul(piece))
    })
}
