//! Servers of a handle (`memcached_instance_st`) and server lists (`memcached_server_st`).

#![allow(non_camel_case_types)]

use std::ffi::CString;

use crate::conn::{Conn, SockAddr};
use crate::ffi::types::{memcached_connection_t, memcached_return_t, memcached_server_st};

/// Connection state of a server, as in libmemcached's failure handling.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ServerState {
    New,
    Connected,
    /// Inside the retry window after a failed connect.
    InTimeout,
}

/// A server of a handle. C callers only ever see pointers to it.
pub struct memcached_instance_st {
    /// The host name exactly as given (brackets of IPv6 literals kept), or a socket path.
    pub hostname: CString,
    pub port: u16,
    pub weight: u32,
    pub kind: memcached_connection_t,
    pub conn: Option<Conn>,
    pub addrs: Option<Vec<SockAddr>>,
    pub state: ServerState,
    pub failure_count: u32,
    pub failure_query_id: u64,
    pub timeout_count: u32,
    pub timeout_query_id: u64,
    /// Absolute wall-clock seconds before which no connect is tried (0: none).
    pub next_retry: i64,
    pub major_version: u8,
    pub minor_version: u8,
    pub micro_version: u8,
    /// The last error seen on this server, for `memcached_server_error`.
    pub error: Option<(memcached_return_t, CString)>,
    /// Replies this server still owes to mget requests.
    pub pending_fetch: bool,
    /// Terminators (END lines, or the NOOP) still expected for the current mget.
    pub fetch_terminators: u32,
    /// Commands queued with BUFFER_REQUESTS, sent before the next request or on flush.
    pub write_queue: Vec<u8>,
}

impl memcached_instance_st {
    pub fn new(hostname: &[u8], port: u16, weight: u32, kind: memcached_connection_t) -> memcached_instance_st {
        let bytes: Vec<u8> = hostname.iter().copied().take_while(|&b| b != 0).collect();
        memcached_instance_st {
            hostname: CString::new(bytes).expect("NUL bytes were removed"),
            port,
            weight,
            kind,
            conn: None,
            addrs: None,
            state: ServerState::New,
            failure_count: 0,
            failure_query_id: 0,
            timeout_count: 0,
            timeout_query_id: 0,
            next_retry: 0,
            major_version: u8::MAX,
            minor_version: u8::MAX,
            micro_version: u8::MAX,
            error: None,
            pending_fetch: false,
            fetch_terminators: 0,
            write_queue: Vec::new(),
        }
    }

    /// An unconnected copy with the same address and weight (clone, last-disconnect record).
    pub fn copy_config(&self) -> memcached_instance_st {
        memcached_instance_st::new(self.hostname.as_bytes(), self.port, self.weight, self.kind)
    }

    pub fn name(&self) -> &str {
        self.hostname.to_str().unwrap_or("?")
    }

    pub fn is_unix_socket(&self) -> bool {
        self.kind == memcached_connection_t::MEMCACHED_CONNECTION_UNIX_SOCKET
            || self.hostname.as_bytes().first() == Some(&b'/')
    }

    /// Closes the connection (without a quit command) and returns to the `New` state, as every
    /// close in libmemcached does; also forgets the server version.
    pub fn disconnect(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.close();
        }
        self.pending_fetch = false;
        self.write_queue.clear();
        if self.state == ServerState::Connected {
            self.state = ServerState::New;
        }
        self.major_version = u8::MAX;
        self.minor_version = u8::MAX;
        self.micro_version = u8::MAX;
    }

    /// Records `code`/`text` as this server's last error.
    pub fn set_error(&mut self, code: memcached_return_t, text: &str) {
        self.error = CString::new(text.replace('\0', "")).ok().map(|t| (code, t));
    }
}

/// Size of the hostname field of `memcached_server_st`.
pub(crate) const HOSTNAME_CAPACITY: usize = 1025;

/// Fills one server list element the way libmemcached does (`options` 0x02, versions 255).
pub fn init_list_element(
    element: &mut memcached_server_st,
    hostname: &[u8],
    port: u16,
    weight: u32,
    kind: memcached_connection_t,
) {
    // SAFETY: memcached_server_st is a plain C struct for which all-zero bytes are valid
    // (integers, null pointers, and enums whose zero value exists).
    *element = unsafe { std::mem::zeroed() };
    element.options = 0x02;
    element.port = port;
    element.weight = weight;
    element.r#type = kind;
    element.major_version = u8::MAX;
    element.minor_version = u8::MAX;
    element.micro_version = u8::MAX;
    element.version = u32::MAX;
    for (dst, &src) in element.hostname.iter_mut().zip(hostname.iter().take(HOSTNAME_CAPACITY - 1)) {
        *dst = src as libc::c_char;
    }
}

/// Reads the hostname of a list element (up to its NUL, never past the field).
pub fn list_element_hostname(element: &memcached_server_st) -> Vec<u8> {
    element.hostname.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect()
}
