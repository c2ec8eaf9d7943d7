//! The state behind a `memcached_st`: behaviors, servers, selection, callbacks and errors,
//! plus the connect procedure with libmemcached's failure counting and retry windows.

use std::ffi::CString;
use std::time::{SystemTime, UNIX_EPOCH};

use libc::c_void;

use crate::conn::{self, Conn, SocketOptions};
use crate::dist::{Selector, ServerPoint};
use crate::error::{Error, ErrorRecord};
use crate::ffi::types::memcached_connection_t::*;
use crate::ffi::types::memcached_return_t::*;
use crate::ffi::types::*;
use crate::server::{memcached_instance_st, ServerState};

/// The behavior values of a handle (section "behaviors" of libmemcached), with the defaults
/// of `memcached_create`.
#[derive(Clone, Debug)]
pub struct Behaviors {
    pub no_block: bool,
    pub tcp_nodelay: bool,
    pub support_cas: bool,
    pub buffer_requests: bool,
    pub sort_hosts: bool,
    pub verify_key: bool,
    pub binary: bool,
    /// `NOREPLY`: requests are sent without waiting for replies.
    pub noreply: bool,
    pub use_udp: bool,
    /// `AUTO_EJECT_HOSTS` and `REMOVE_FAILED_SERVERS` are one flag.
    pub auto_eject: bool,
    pub randomize_replica_read: bool,
    pub tcp_keepalive: bool,
    pub hash_with_namespace: bool,
    pub poll_timeout: i32,
    pub connect_timeout: i32,
    pub retry_timeout: i32,
    pub dead_timeout: i32,
    pub snd_timeout: i32,
    pub rcv_timeout: i32,
    pub send_size: i32,
    pub recv_size: i32,
    pub server_failure_limit: u32,
    pub server_timeout_limit: u32,
    pub io_msg_watermark: u32,
    pub io_bytes_watermark: u32,
    pub io_key_prefetch: u32,
    pub tcp_keepidle: u32,
    pub number_of_replicas: u32,
}

impl Default for Behaviors {
    fn default() -> Behaviors {
        Behaviors {
            no_block: false,
            tcp_nodelay: false,
            support_cas: false,
            buffer_requests: false,
            sort_hosts: false,
            verify_key: false,
            binary: false,
            noreply: false,
            use_udp: false,
            auto_eject: false,
            randomize_replica_read: false,
            tcp_keepalive: false,
            hash_with_namespace: false,
            poll_timeout: 5000,
            connect_timeout: 4000,
            retry_timeout: 2,
            dead_timeout: 0,
            snd_timeout: 0,
            rcv_timeout: 0,
            send_size: -1,
            recv_size: -1,
            server_failure_limit: 5,
            server_timeout_limit: 0,
            io_msg_watermark: 500,
            io_bytes_watermark: 65 * 1024,
            io_key_prefetch: 0,
            tcp_keepidle: 0,
            number_of_replicas: 0,
        }
    }
}

/// User callbacks installed with `memcached_callback_set`.
#[derive(Clone, Copy, Default)]
pub struct Callbacks {
    pub on_clone: memcached_clone_fn,
    pub on_cleanup: memcached_cleanup_fn,
    pub get_failure: memcached_trigger_key_fn,
    pub delete_trigger: memcached_trigger_delete_key_fn,
}

/// Memory functions of `memcached_set_memory_allocators`; None means the C library's.
#[derive(Clone, Copy)]
pub struct Allocators {
    pub malloc: memcached_malloc_fn,
    pub free: memcached_free_fn,
    pub realloc: memcached_realloc_fn,
    pub calloc: memcached_calloc_fn,
    pub context: *mut c_void,
}

impl Default for Allocators {
    fn default() -> Allocators {
        Allocators {
            malloc: None,
            free: None,
            realloc: None,
            calloc: None,
            context: std::ptr::null_mut(),
        }
    }
}

/// State of the result stream that `memcached_mget` starts and `memcached_fetch*` drains.
#[derive(Default)]
pub struct FetchState {
    /// Servers that still owe replies, in the order they are drained.
    pub pending: Vec<usize>,
    /// Binary protocol: each server's batch, numbered by opaque from its first request to
    /// the NOOP that ends it.
    pub batches: Vec<Batch>,
    /// A connection failure seen while fetching, reported at the end of the stream.
    pub failure: Option<Error>,
}

/// The opaques of one server's binary mget requests: `first` for its first key, one more for
/// each further key, and `end` for the closing NOOP.
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    pub first: u32,
    pub end: u32,
}

impl Batch {
    /// Returns where a reply with this opaque falls in the batch, or None for a reply to an
    /// earlier request.
    pub fn position(&self, opaque: u32) -> Option<u32> {
        let position = opaque.wrapping_sub(self.first);
        (position <= self.end.wrapping_sub(self.first)).then_some(position)
    }
}

/// The library's state behind one `memcached_st`.
pub struct Handle {
    pub servers: Vec<Box<memcached_instance_st>>,
    pub selector: Selector,
    pub behaviors: Behaviors,
    /// The namespace (`MEMCACHED_CALLBACK_PREFIX_KEY`), NUL-terminated for callback_get.
    pub namespace: Option<CString>,
    pub user_data: *mut c_void,
    pub callbacks: Callbacks,
    pub allocators: Allocators,
    pub query_id: u64,
    pub error: ErrorRecord,
    pub last_disconnect: Option<Box<memcached_instance_st>>,
    pub fetch: FetchState,
    /// Reused request buffer, so a request allocates nothing once warmed up.
    pub scratch: Vec<u8>,
    random_state: u64,
    /// With auto-eject: when the continuum must be rebuilt to take servers back (unix seconds).
    pub next_rebuild: Option<i64>,
    pub config_file: Option<CString>,
    pub pool_min: u32,
    pub pool_max: u32,
    pub sasl: Option<(Vec<u8>, Vec<u8>)>,
    /// The value encryption key of `memcached_set_encoding_key`.
    pub encoding: Option<crate::encoding::EncodingKey>,
    /// The C struct this state belongs to, passed to user callbacks.
    pub owner: *mut memcached_st,
    /// The result object of `memcached_fetch` and `memcached_fetch_execute`.
    pub result: Box<memcached_result_st>,
}

/// Current wall-clock time in whole seconds.
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Handle {
    pub fn new(owner: *mut memcached_st) -> Handle {
        conn::install_fork_handler();
        let seed = (now_seconds() as u64) ^ (owner as u64).rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15;
        Handle {
            servers: Vec::new(),
            selector: Selector::new(),
            behaviors: Behaviors::default(),
            namespace: None,
            user_data: std::ptr::null_mut(),
            callbacks: Callbacks::default(),
            allocators: Allocators::default(),
            query_id: 1,
            error: ErrorRecord::default(),
            last_disconnect: None,
            fetch: FetchState::default(),
            scratch: Vec::with_capacity(512),
            random_state: seed | 1,
            next_rebuild: None,
            config_file: None,
            pool_min: 1,
            pool_max: 1,
            sasl: None,
            encoding: None,
            owner,
            result: crate::result::new_result(owner, false),
        }
    }

    /// A pseudo-random number for RANDOM distribution and randomized replica reads
    /// (xorshift64*; not for cryptography).
    pub fn next_random(&mut self) -> u32 {
        let mut x = self.random_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random_state = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    pub fn namespace_bytes(&self) -> &[u8] {
        self.namespace
            .as_ref()
            .map(|ns| ns.as_bytes())
            .unwrap_or(&[])
    }

    /// Starts an operation: a new query id and an empty error record.
    pub fn begin(&mut self) {
        self.query_id += 1;
        self.error.clear();
        if !self.owner.is_null() {
            // SAFETY: `owner` is the memcached_st this state is attached to, alive while the
            // state is; only the mirrored field is written.
            unsafe { (*self.owner).query_id = self.query_id };
        }
    }

    /// The `flags` bits of libmemcached's `memcached_st` for the current behaviors.
    fn public_flags(&self) -> u16 {
        let b = &self.behaviors;
        let bits = [
            b.auto_eject,
            b.binary,
            b.buffer_requests,
            b.hash_with_namespace,
            b.no_block,
            !b.noreply,
            b.randomize_replica_read,
            b.support_cas,
            b.tcp_nodelay,
            b.sort_hosts,
            b.use_udp,
            b.verify_key,
            b.tcp_keepalive,
        ];
        bits.iter()
            .enumerate()
            .fold(0, |flags, (bit, &on)| flags | (u16::from(on) << bit))
    }

    /// Writes the mirrored public fields (see `memcached_st`) into `st`.
    pub fn publish_into(&self, st: &mut memcached_st) {
        use memcached_server_distribution_t::*;
        let b = &self.behaviors;
        st.flags = self.public_flags().to_le_bytes();
        st.distribution = match self.selector.distribution() {
            1 => MEMCACHED_DISTRIBUTION_CONSISTENT,
            2 => MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA,
            3 => MEMCACHED_DISTRIBUTION_RANDOM,
            4 => MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA_SPY,
            5 => MEMCACHED_DISTRIBUTION_CONSISTENT_WEIGHTED,
            6 => MEMCACHED_DISTRIBUTION_VIRTUAL_BUCKET,
            _ => MEMCACHED_DISTRIBUTION_MODULA,
        };
        st.number_of_hosts = self.servers.len() as u32;
        st.snd_timeout = b.snd_timeout;
        st.rcv_timeout = b.rcv_timeout;
        st.server_failure_limit = b.server_failure_limit;
        st.server_timeout_limit = b.server_timeout_limit;
        st.io_msg_watermark = b.io_msg_watermark;
        st.io_bytes_watermark = b.io_bytes_watermark;
        st.io_key_prefetch = b.io_key_prefetch;
        st.tcp_keepidle = b.tcp_keepidle;
        st.poll_timeout = b.poll_timeout;
        st.connect_timeout = b.connect_timeout;
        st.retry_timeout = b.retry_timeout;
        st.dead_timeout = b.dead_timeout;
        st.send_size = b.send_size;
        st.recv_size = b.recv_size;
        st.user_data = self.user_data;
        st.query_id = self.query_id;
        st.number_of_replicas = b.number_of_replicas;
        st.on_clone = self.callbacks.on_clone;
        st.on_cleanup = self.callbacks.on_cleanup;
        st.get_key_failure = self.callbacks.get_failure;
        st.delete_trigger = self.callbacks.delete_trigger;
    }

    /// Mirrors the public fields into the `memcached_st` this state belongs to.
    pub fn publish(&self) {
        if !self.owner.is_null() {
            // SAFETY: `owner` is the memcached_st this state is attached to and alive while
            // the state is; publish_into writes only the mirrored fields, never private_state.
            unsafe { self.publish_into(&mut *self.owner) };
        }
    }

    /// Records `error` (with the server it concerns) and returns its code.
    pub fn fail(&mut self, error: Error, server: Option<usize>) -> memcached_return_t {
        let name = server
            .and_then(|i| self.servers.get(i))
            .map(|s| (s.name().to_owned(), s.port));
        self.error
            .record(&error, name.as_ref().map(|(h, p)| (h.as_str(), *p)));
        if error.errno != 0 {
            // SAFETY: __errno_location returns this thread's errno slot.
            unsafe { *libc::__errno_location() = error.errno };
        }
        if let (Some(index), true) = (server, crate::error::is_fatal(error.code)) {
            if let Some(server) = self.servers.get_mut(index) {
                server.set_error(error.code, &error.detail);
            }
        }
        error.code
    }

    // ----- servers and selection -----

    /// Rebuilds the continuum ("run distribution"), sorting the servers first with SORT_HOSTS
    /// and leaving out servers in their retry window with auto-eject.
    pub fn rebuild(&mut self) {
        self.sort_servers();
        let auto_eject = self.behaviors.auto_eject;
        let now = now_seconds();
        // An ejected server whose time is up comes back, and its next request tries a connect.
        for server in self
            .servers
            .iter_mut()
            .filter(|s| s.ejected && s.next_retry <= now)
        {
            server.ejected = false;
            server.state = ServerState::New;
        }
        self.next_rebuild = if auto_eject {
            self.servers
                .iter()
                .filter(|s| s.next_retry > now)
                .map(|s| s.next_retry)
                .min()
        } else {
            None
        };
        let points = Self::points_of(&self.servers, auto_eject, now);
        self.selector.rebuild(&points);
    }

    pub fn points_of(
        servers: &[Box<memcached_instance_st>],
        only_live: bool,
        now: i64,
    ) -> Vec<ServerPoint<'_>> {
        servers
            .iter()
            .map(|s| ServerPoint {
                name: s.hostname.as_bytes(),
                port: s.port,
                weight: s.weight,
                live: !only_live || s.next_retry <= now,
            })
            .collect()
    }

    fn sort_servers(&mut self) {
        if self.behaviors.sort_hosts {
            self.servers.sort_by(|a, b| {
                a.hostname
                    .as_bytes()
                    .cmp(b.hostname.as_bytes())
                    .then(a.port.cmp(&b.port))
            });
        }
    }

    /// Adds one server (memcached_server_add_with_weight and friends).
    pub fn add_server(
        &mut self,
        hostname: &[u8],
        port: u16,
        weight: u32,
        kind: memcached_connection_t,
    ) {
        let weight = if weight == 0 { 1 } else { weight };
        self.servers.push(Box::new(memcached_instance_st::new(
            hostname, port, weight, kind,
        )));
        self.sort_servers();
        let points = Self::points_of(&self.servers, self.behaviors.auto_eject, now_seconds());
        self.selector.server_added(weight, &points);
        self.publish();
    }

    /// Appends copies of servers (memcached_server_push, memcached_push, clone).
    pub fn push_servers(
        &mut self,
        servers: impl Iterator<Item = (Vec<u8>, u16, u32, memcached_connection_t)>,
    ) {
        let mut any_weighted = false;
        for (hostname, port, weight, kind) in servers {
            let weight = if weight == 0 { 1 } else { weight };
            any_weighted |= weight > 1;
            self.servers.push(Box::new(memcached_instance_st::new(
                &hostname, port, weight, kind,
            )));
        }
        self.sort_servers();
        let points = Self::points_of(&self.servers, self.behaviors.auto_eject, now_seconds());
        self.selector.servers_pushed(any_weighted, &points);
        self.publish();
    }

    /// Closes and removes every server (memcached_servers_reset).
    pub fn reset_servers(&mut self) {
        self.quit_all(false);
        self.servers.clear();
        self.selector.clear();
        self.last_disconnect = None;
        self.fetch = FetchState::default();
        self.next_rebuild = None;
        self.publish();
    }

    /// Maps a key (or group key) to a server index, after the auto-eject rebuild check.
    pub fn pick_server(&mut self, key: &[u8]) -> usize {
        if self.behaviors.auto_eject {
            if let Some(at) = self.next_rebuild {
                if now_seconds() >= at {
                    self.rebuild();
                }
            }
        }
        self.pick_server_no_rebuild(key)
    }

    /// Maps a key to a server index without the auto-eject check (memcached_generate_hash).
    pub fn pick_server_no_rebuild(&mut self, key: &[u8]) -> usize {
        let count = self.servers.len();
        if count <= 1 {
            return 0;
        }
        let hash = self.key_hash(key);
        let mut random_state = self.random_state;
        let index = self.selector.pick(hash, count, || {
            random_state ^= random_state << 13;
            random_state ^= random_state >> 7;
            random_state ^= random_state << 17;
            (random_state >> 16) as u32
        });
        self.random_state = random_state;
        index.min(count - 1)
    }

    /// The hash of a key with the handle's key hash, including the namespace when
    /// HASH_WITH_PREFIX_KEY is on (0 if that combined key is longer than 250 bytes).
    pub fn key_hash(&self, key: &[u8]) -> u32 {
        if self.behaviors.hash_with_namespace {
            if let Some(ns) = &self.namespace {
                let ns = ns.as_bytes();
                if ns.len() + key.len() > 250 {
                    return 0;
                }
                let mut combined = [0u8; 256];
                combined[..ns.len()].copy_from_slice(ns);
                combined[ns.len()..ns.len() + key.len()].copy_from_slice(key);
                return self.selector.hash_key(&combined[..ns.len() + key.len()]);
            }
        }
        self.selector.hash_key(key)
    }

    // ----- connections -----

    /// SOCKET_SEND_SIZE / SOCKET_RECV_SIZE as read back: the value set, or the kernel's buffer
    /// size on server 0's connection (0 when there is no server or it cannot be reached).
    pub fn socket_buffer_size(&mut self, option: libc::c_int) -> u64 {
        let configured = if option == libc::SO_SNDBUF {
            self.behaviors.send_size
        } else {
            self.behaviors.recv_size
        };
        if configured > 0 {
            return configured as u64;
        }
        if self.servers.is_empty() {
            return 0;
        }
        match self.connection(0) {
            Ok(conn) => conn.socket_option(option).max(0) as u64,
            Err(_) => 0,
        }
    }

    fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            nodelay: self.behaviors.tcp_nodelay,
            keepalive: self.behaviors.tcp_keepalive,
            keepidle: self.behaviors.tcp_keepidle,
            send_size: self.behaviors.send_size,
            recv_size: self.behaviors.recv_size,
            linger_off: self.behaviors.no_block,
        }
    }

    /// Keeps a private copy of the server as the last-disconnect record.
    fn record_disconnect(&mut self, index: usize) {
        let server = &self.servers[index];
        if let Some(previous) = &self.last_disconnect {
            if previous.hostname == server.hostname && previous.port == server.port {
                return;
            }
        }
        self.last_disconnect = Some(Box::new(server.copy_config()));
    }

    /// Back-off gate before a connect: Ok(true) when this attempt is a retry after a timeout.
    fn connect_gate(&mut self, index: usize) -> Result<bool, Error> {
        let now = now_seconds();
        let limit = self.behaviors.server_failure_limit;
        let server = &mut self.servers[index];
        if server.failure_count >= limit {
            if self.behaviors.auto_eject {
                // Unlike libmemcached, an ejected server is tried again after its dead
                // timeout (or the retry timeout when no dead timeout is set), instead of never.
                let wait = if self.behaviors.dead_timeout > 0 {
                    self.behaviors.dead_timeout
                } else {
                    self.behaviors.retry_timeout.max(1)
                };
                server.next_retry = now + wait as i64;
                server.failure_count = limit.saturating_sub(1);
                server.state = ServerState::InTimeout;
                server.ejected = true;
                self.record_disconnect(index);
                self.rebuild();
                return Err(Error::new(
                    MEMCACHED_SERVER_MARKED_DEAD,
                    "server reached its failure limit",
                ));
            }
            server.state = ServerState::InTimeout;
            server.next_retry = server.next_retry.max(1);
        }
        let server = &mut self.servers[index];
        if server.state == ServerState::InTimeout {
            if server.next_retry < now {
                server.state = ServerState::New;
                server.timeout_count = 0;
                return Ok(true);
            }
            self.record_disconnect(index);
            return Err(Error::new(
                MEMCACHED_SERVER_TEMPORARILY_DISABLED,
                "server is inside its retry window",
            ));
        }
        Ok(false)
    }

    /// A failed connect: counts it (once per query) and opens the retry window.
    fn mark_for_timeout(&mut self, index: usize) {
        let query_id = self.query_id;
        let retry = self.behaviors.retry_timeout as i64;
        let timeout_limit = self.behaviors.server_timeout_limit;
        let server = &mut self.servers[index];
        if server.state != ServerState::InTimeout {
            if server.timeout_query_id != query_id {
                server.timeout_count += 1;
                server.timeout_query_id = query_id;
            }
            if server.timeout_count >= timeout_limit {
                server.next_retry = now_seconds() + retry;
                server.state = ServerState::InTimeout;
                if server.failure_query_id != query_id {
                    server.failure_count += 1;
                    server.failure_query_id = query_id;
                }
            }
        }
        self.record_disconnect(index);
    }

    /// Returns a usable connection to server `index`, connecting if needed.
    pub fn connection(&mut self, index: usize) -> Result<&mut Conn, Error> {
        self.connection_at(index, conn::coarse_now_ms())
    }

    /// As `connection`, with the current time supplied by the caller.
    pub fn connection_at(
        &mut self,
        index: usize,
        now_ms: u64,
    ) -> Result<&mut Conn, Error> {
        let poll_timeout = self.behaviors.poll_timeout;
        let server = &mut self.servers[index];
        let keep = match server.conn.as_mut() {
            Some(conn) if conn.is_inherited() => false,
            Some(conn) => conn.usable_after_idle(now_ms, self.behaviors.binary),
            None => false,
        };
        if !keep && server.conn.is_some() {
            server.disconnect();
        }
        if self.servers[index].conn.is_none() {
            self.connect(index)?;
        }
        let conn = self.servers[index].conn.as_mut().expect("connected above");
        conn.set_socket_timeout(poll_timeout);
        Ok(conn)
    }

    fn connect(&mut self, index: usize) -> Result<(), Error> {
        let is_retry = self.connect_gate(index)?;
        let options = self.socket_options();
        let (connect_timeout, poll_timeout) =
            (self.behaviors.connect_timeout, self.behaviors.poll_timeout);
        let result = self.connect_addresses(index, connect_timeout, poll_timeout, &options);
        match result {
            Ok(conn) => {
                let server = &mut self.servers[index];
                server.layout.fd = conn.fd();
                server.layout.state =
                    memcached_server_state_t::MEMCACHED_SERVER_STATE_CONNECTED as u32;
                server.conn = Some(conn);
                server.state = ServerState::Connected;
                server.failure_count = 0;
                server.timeout_count = 0;
                server.next_retry = 0;
                if let Some((user, password)) = self.sasl.clone() {
                    if let Err(error) = crate::ops::sasl_authenticate(self, index, &user, &password)
                    {
                        self.servers[index].disconnect();
                        return Err(error);
                    }
                }
                Ok(())
            }
            Err(error) => {
                self.servers[index].addrs = None;
                self.mark_for_timeout(index);
                if is_retry {
                    let mut retry_error = error;
                    retry_error.code = MEMCACHED_SERVER_TEMPORARILY_DISABLED;
                    Err(retry_error)
                } else {
                    Err(error)
                }
            }
        }
    }

    fn connect_addresses(
        &mut self,
        index: usize,
        connect_timeout: i32,
        poll_timeout: i32,
        options: &SocketOptions,
    ) -> Result<Conn, Error> {
        let server = &mut self.servers[index];
        if server.is_unix_socket() {
            let addr = conn::unix_address(server.hostname.as_bytes())?;
            return Conn::connect(&addr, connect_timeout, poll_timeout, options);
        }
        if server.kind == MEMCACHED_CONNECTION_UDP {
            return Err(Error::new(
                MEMCACHED_NOT_SUPPORTED,
                "UDP servers are not supported",
            ));
        }
        if server.addrs.is_none() {
            let name = server.name().to_owned();
            server.addrs = Some(conn::resolve(&name, server.port)?);
        }
        let addrs = server.addrs.as_ref().expect("resolved above");
        let mut last = Error::new(MEMCACHED_CONNECTION_FAILURE, "no address to connect to");
        for addr in addrs {
            match Conn::connect(addr, connect_timeout, poll_timeout, options) {
                Ok(conn) => return Ok(conn),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// Sends quit to every connected server and closes the connections. With `wait_for_close`,
    /// waits for the server to close each socket so queued commands are processed first.
    pub fn quit_all(&mut self, reset_counters: bool) {
        let binary = self.behaviors.binary;
        let deadline = conn::Deadline::after_ms(self.behaviors.poll_timeout.clamp(0, 1000));
        let drain = self.behaviors.buffer_requests || self.behaviors.number_of_replicas > 0;
        for server in self.servers.iter_mut() {
            if let Some(mut conn) = server.conn.take() {
                if !conn.is_inherited() && conn.is_still_ours() {
                    let queued = std::mem::take(&mut server.write_queue);
                    let mut quit = Vec::with_capacity(32);
                    if binary {
                        let _ = crate::protocol::binary::encode_request(
                            &mut quit,
                            crate::protocol::binary::opcode::QUIT,
                            0,
                            0,
                            &[],
                            &[],
                            &[],
                            0,
                        );
                    } else {
                        crate::protocol::text::encode_quit(&mut quit);
                    }
                    let _ = conn.send_all(&[&queued, &quit], &deadline);
                    if drain {
                        conn.drain_until_closed(&deadline);
                    }
                }
                conn.close();
                if reset_counters {
                    server.failure_count = 0;
                    server.timeout_count = 0;
                }
            }
            server.disconnect();
        }
        self.fetch = FetchState::default();
    }

    /// Closes every connection without sending anything (behavior changes that reconnect).
    pub fn reconnect_all(&mut self) {
        self.quit_all(false);
    }

    /// A copy of this handle's configuration and servers, unconnected (memcached_clone).
    pub fn clone_config(&self, owner: *mut memcached_st) -> Handle {
        let mut copy = Handle::new(owner);
        copy.behaviors = self.behaviors.clone();
        copy.selector = self.selector.clone();
        copy.namespace = self.namespace.clone();
        copy.user_data = self.user_data;
        copy.callbacks = self.callbacks;
        copy.allocators = self.allocators;
        copy.sasl = self.sasl.clone();
        copy.encoding = self.encoding.clone();
        copy.pool_min = self.pool_min;
        copy.pool_max = self.pool_max;
        copy.config_file = self.config_file.clone();
        copy.push_servers(
            self.servers
                .iter()
                .map(|s| (s.hostname.as_bytes().to_vec(), s.port, s.weight, s.kind)),
        );
        copy
    }
}

#[cfg(test)]
mod batch_tests {
    use super::Batch;

    #[test]
    fn positions_cover_the_batch_only() {
        let batch = Batch { first: 10, end: 13 };
        assert_eq!(batch.position(10), Some(0));
        assert_eq!(batch.position(13), Some(3));
        assert_eq!(batch.position(9), None);
        assert_eq!(batch.position(14), None);
        // Opaques wrap around at 2^32.
        let wrapped = Batch {
            first: u32::MAX - 1,
            end: 1,
        };
        assert_eq!(wrapped.position(u32::MAX - 1), Some(0));
        assert_eq!(wrapped.position(0), Some(2));
        assert_eq!(wrapped.position(1), Some(3));
        assert_eq!(wrapped.position(2), None);
        assert_eq!(wrapped.position(u32::MAX - 2), None);
    }
}
