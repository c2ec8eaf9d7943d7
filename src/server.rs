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

/// The first bytes of a server instance, at the offsets libmemcached 1.1.4 uses on x86_64.
///
/// `memcached_instance_st` is opaque in the public headers, but programs built from
/// libmemcached's own source tree (Debian's libmemcached-tools, for example `memcping`) read
/// `port` and `hostname` straight from the struct. The offsets were measured on Debian's
/// libmemcached.so.11 (1.1.4-1): port 16, weight 64, version bytes 104-106, type 108,
/// hostname 16576, size 17608.
#[repr(C)]
pub struct InstanceLayout {
    options: [u8; 16],
    pub port: u16,
    padding_18: u16,
    pub fd: i32,
    padding_24: [u8; 40],
    pub weight: u32,
    padding_68: u32,
    pub state: u32,
    padding_76: [u8; 28],
    pub major_version: u8,
    pub micro_version: u8,
    pub minor_version: u8,
    padding_107: u8,
    pub kind: u32,
    padding_112: [u8; 48],
    pub root: *mut crate::ffi::types::memcached_st,
    padding_168: [u8; 16576 - 168],
    pub hostname: [libc::c_char; 1025],
    padding_17601: [u8; 7],
}

const _: () = assert!(std::mem::size_of::<InstanceLayout>() == 17608);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, port) == 16);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, weight) == 64);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, major_version) == 104);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, kind) == 108);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, root) == 160);
const _: () = assert!(std::mem::offset_of!(InstanceLayout, hostname) == 16576);

impl InstanceLayout {
    fn new(
        hostname: &[u8],
        port: u16,
        weight: u32,
        kind: memcached_connection_t,
    ) -> InstanceLayout {
        // SAFETY: InstanceLayout holds only integers, a raw pointer and byte arrays, for which
        // all-zero bytes are valid.
        let mut layout: InstanceLayout = unsafe { std::mem::zeroed() };
        layout.port = port;
        layout.fd = -1;
        layout.weight = weight;
        layout.kind = kind as u32;
        layout.major_version = u8::MAX;
        layout.micro_version = u8::MAX;
        layout.minor_version = u8::MAX;
        for (dst, &src) in layout
            .hostname
            .iter_mut()
            .zip(hostname.iter().take(HOSTNAME_CAPACITY - 1))
        {
            *dst = src as libc::c_char;
        }
        layout
    }
}

/// A server of a handle. C callers only ever see pointers to it.
#[repr(C)]
pub struct memcached_instance_st {
    /// Must stay the first field: see InstanceLayout.
    pub layout: InstanceLayout,
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
    /// Set while the server is left out of the continuum after reaching its failure limit.
    pub ejected: bool,
    /// Replies this server still owes to mget requests.
    pub pending_fetch: bool,
    /// Terminators (END lines, or the NOOP) still expected for the current mget.
    pub fetch_terminators: u32,
    /// Commands queued with BUFFER_REQUESTS, sent before the next request or on flush.
    pub write_queue: Vec<u8>,
}

impl memcached_instance_st {
    pub fn new(
        hostname: &[u8],
        port: u16,
        weight: u32,
        kind: memcached_connection_t,
    ) -> memcached_instance_st {
        let bytes: Vec<u8> = hostname.iter().copied().take_while(|&b| b != 0).collect();
        memcached_instance_st {
            layout: InstanceLayout::new(&bytes, port, weight, kind),
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
            ejected: false,
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
        // As in libmemcached, every close ends a retry window too.
        self.state = ServerState::New;
        self.set_version(u8::MAX, u8::MAX, u8::MAX);
        self.layout.state =
            crate::ffi::types::memcached_server_state_t::MEMCACHED_SERVER_STATE_NEW as u32;
        self.layout.fd = -1;
    }

    /// Stores the version learnt from a version reply (255 each when unknown).
    pub fn set_version(&mut self, major: u8, minor: u8, micro: u8) {
        self.major_version = major;
        self.minor_version = minor;
        self.micro_version = micro;
        self.layout.major_version = major;
        self.layout.minor_version = minor;
        self.layout.micro_version = micro;
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
    for (dst, &src) in element
        .hostname
        .iter_mut()
        .zip(hostname.iter().take(HOSTNAME_CAPACITY - 1))
    {
        *dst = src as libc::c_char;
    }
}

/// Reads the hostname of a list element (up to its NUL, never past the field).
pub fn list_element_hostname(element: &memcached_server_st) -> Vec<u8> {
    element
        .hostname
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect()
}
