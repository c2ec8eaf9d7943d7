//! Sockets: connecting with a timeout, sending and receiving with the handle's poll timeout,
//! and noticing connections inherited across `fork()`.
//!
//! Sockets are blocking once connected, with `SO_RCVTIMEO`/`SO_SNDTIMEO` set to the poll
//! timeout, so a request normally costs one `sendmsg` and one `recv`. A reply that arrives in
//! pieces switches to `poll` with the time left until the deadline, so no call waits longer than
//! the poll timeout in total. Calls that must not block (pipelined mget) pass `MSG_DONTWAIT`.

use std::ffi::CString;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use libc::{c_int, c_void, sockaddr_storage, socklen_t};

use crate::error::Error;
use crate::ffi::types::memcached_return_t::*;

/// Incremented in the child after every `fork()`; a connection made under another value was
/// inherited from the parent and must not be used or shut down by this process.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Registers the fork handler once per process.
pub fn install_fork_handler() {
    ATFORK.call_once(|| {
        // SAFETY: pthread_atfork only stores the function pointer; the child handler is
        // async-signal-safe (a single atomic add).
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
}

fn fork_generation() -> u64 {
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// How an I/O step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoFailure {
    Timeout,
    /// The peer closed the connection (EOF).
    Closed,
    Errno(i32),
}

impl IoFailure {
    pub fn into_error(self, what: &str) -> Error {
        match self {
            IoFailure::Timeout => Error::new(MEMCACHED_TIMEOUT, format!("{what}: timed out")),
            IoFailure::Closed => {
                let mut error = Error::new(
                    MEMCACHED_CONNECTION_FAILURE,
                    format!("{what}: connection closed by server"),
                );
                error.errno = libc::ENOTCONN;
                error
            }
            IoFailure::Errno(errno) => Error::from_errno(errno, what),
        }
    }
}

/// Socket options applied to every new connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct SocketOptions {
    /// MEMCACHED_BEHAVIOR_TCP_NODELAY: keep Nagle's algorithm off for good.
    pub nodelay: bool,
    pub keepalive: bool,
    pub keepidle: u32,
    pub send_size: i32,
    pub recv_size: i32,
    pub linger_off: bool,
}

/// The time limit of one blocking step sequence, measured on the coarse monotonic clock
/// (see `coarse_now_ms`). Its resolution is the kernel tick, a few milliseconds, which is
/// fine for timeouts in the hundreds of milliseconds. A request that completes with one
/// blocking send and one blocking receive reads no clock after it starts.
#[derive(Clone, Debug)]
pub struct Deadline {
    /// Coarse milliseconds when the limit started; None until a lazy deadline is armed.
    start_ms: std::cell::Cell<Option<u64>>,
    timeout_ms: i32,
}

impl Deadline {
    /// A deadline `timeout_ms` from now; negative means no limit, 0 means "fail at once".
    pub fn after_ms(timeout_ms: i32) -> Deadline {
        Deadline::starting_at(coarse_now_ms(), timeout_ms)
    }

    /// Creates a deadline `timeout_ms` after `start_ms`, a `coarse_now_ms` reading.
    pub fn starting_at(start_ms: u64, timeout_ms: i32) -> Deadline {
        Deadline { start_ms: std::cell::Cell::new(Some(start_ms)), timeout_ms }
    }

    /// A deadline that starts when something first waits on it. Reading replies that are
    /// already buffered (most of an mget's) then needs no clock read at all.
    pub fn lazy(timeout_ms: i32) -> Deadline {
        Deadline { start_ms: std::cell::Cell::new(None), timeout_ms }
    }

    /// Starts a lazy deadline now, if it has not started yet.
    fn arm(&self) {
        if self.start_ms.get().is_none() {
            self.start_ms.set(Some(coarse_now_ms()));
        }
    }

    /// Milliseconds left, for poll(): -1 for no limit, 0 when expired.
    fn remaining_ms(&self) -> c_int {
        self.arm();
        if self.timeout_ms < 0 {
            return -1;
        }
        let start = self.start_ms.get().unwrap_or(0);
        let elapsed = coarse_now_ms().saturating_sub(start);
        let left = (self.timeout_ms as u64).saturating_sub(elapsed);
        left.min(c_int::MAX as u64) as c_int
    }
}

/// One open connection to a server.
pub struct Conn {
    fd: c_int,
    /// Received bytes not yet consumed: `rbuf[rpos..]`.
    pub rbuf: Vec<u8>,
    pub rpos: usize,
    generation: u64,
    identity: (u64, u64),
    /// Socket timeout currently set with SO_RCVTIMEO/SO_SNDTIMEO, in milliseconds.
    socket_timeout_ms: i32,
    /// When the last request started, in coarse milliseconds (see `coarse_now_ms`); used to
    /// check idle connections before reuse.
    pub last_used_ms: u64,
    /// Whether a request was already completed on this connection.
    pub reused: bool,
    /// Binary protocol request counter (the opaque field).
    pub opaque: u32,
    /// Bytes received over the life of the connection.
    pub received: u64,
    /// The server's item size limit, once asked for (see ops::server_item_size_max).
    pub item_size_max: Option<u64>,
    /// Whether TCP_NODELAY is on for the socket right now.
    nodelay: bool,
    /// Whether the caller asked for TCP_NODELAY; then it stays on.
    nodelay_requested: bool,
    /// TCP rather than a Unix domain socket.
    tcp: bool,
    /// SO_RCVLOWAT as set on the socket now; 1 is the kernel's default.
    rcvlowat: c_int,
    /// The long reply being received, if any (see `begin_stream`).
    stream: Stream,
}

/// Progress through a long reply made of `total` similar parts (the END-terminated replies
/// to an mget's text commands, or the replies to its binary requests).
///
/// A server that sends the replies of a long mget writes them in small pieces, and waking the
/// client for each one makes client and server take turns on the CPU many thousand times.
/// While much of the reply is still to come, waits therefore ask the kernel (SO_RCVLOWAT) to
/// end only once a good part of it has arrived. The amount is half of what the parts received
/// so far predict for the rest, so the last piece does not wait for bytes that never come. A
/// wait that does not reach the mark within `STREAM_WAIT_MS` reads what did arrive. When
/// nothing arrived at all, the stream falls back to waking on any data. A wait therefore
/// lasts at most that delay longer than it would without a mark.
#[derive(Clone, Copy, Default)]
struct Stream {
    total: u32,
    done: u32,
    /// `Conn::received` when the stream began.
    start: u64,
    /// Whether a wait found nothing in time, so that waits end on any data until the stream
    /// ends.
    paused: bool,
}

impl Stream {
    /// Returns the SO_RCVLOWAT value for the next wait.
    fn low_water(&self, received: u64) -> c_int {
        if self.paused || self.done == 0 || self.done >= self.total {
            return 1;
        }
        let per_part = (received - self.start) / u64::from(self.done);
        let expected = per_part.saturating_mul(u64::from(self.total - self.done));
        let half = (expected / 2).min(STREAM_LOW_WATER_MAX as u64) as usize;
        if half < STREAM_LOW_WATER_MIN {
            1
        } else {
            // Rounded down to a multiple of the minimum, so the option rarely changes.
            (half - half % STREAM_LOW_WATER_MIN) as c_int
        }
    }
}

/// Writes above this size span several TCP segments on common networks (Ethernet MSS 1448).
const ONE_SEGMENT: usize = 1400;
/// An idle connection is checked for a pending close after this many milliseconds without
/// use.
const IDLE_CHECK_AFTER_MS: u64 = 20;

/// Monotonic milliseconds from CLOCK_MONOTONIC_COARSE: a few nanoseconds to read, with the
/// kernel tick's resolution (a few ms), enough for idle checks.
pub fn coarse_now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1000).wrapping_add(ts.tv_nsec as u64 / 1_000_000)
}
/// Read buffers grow in steps of at most this many bytes, whatever length a reply claims.
const MAX_READ_STEP: usize = 4 << 20;
const MIN_READ_SPARE: usize = 16 << 10;
/// An empty read buffer larger than this (after a big value) is freed rather than kept.
const KEEP_READ_BUFFER: usize = 8 << 20;
/// Streams wait for at least this many bytes at a time, or for any data.
const STREAM_LOW_WATER_MIN: usize = 32 << 10;
/// Maximum low-water mark of a stream.
const STREAM_LOW_WATER_MAX: usize = 256 << 10;
/// Maximum time a stream's wait holds out for its low-water mark before reading what arrived.
const STREAM_WAIT_MS: c_int = 1;

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn socket_identity(fd: c_int) -> (u64, u64) {
    let mut st = MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: `st` is a valid out-buffer of the right type; fstat writes it fully on success.
    let rc = unsafe { libc::fstat(fd, st.as_mut_ptr()) };
    if rc != 0 {
        return (u64::MAX, u64::MAX);
    }
    // SAFETY: fstat returned 0, so the buffer is initialised.
    let st = unsafe { st.assume_init() };
    (st.st_dev, st.st_ino)
}

fn set_int_option(fd: c_int, level: c_int, name: c_int, value: c_int) {
    // SAFETY: the option value points to a live c_int of the length passed.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const c_int as *const c_void,
            std::mem::size_of::<c_int>() as socklen_t,
        );
    }
}

fn set_timeout_option(fd: c_int, name: c_int, timeout_ms: i32) {
    let tv = libc::timeval {
        tv_sec: (timeout_ms / 1000) as libc::time_t,
        tv_usec: ((timeout_ms % 1000) * 1000) as libc::suseconds_t,
    };
    // SAFETY: the option value points to a live timeval of the length passed.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            &tv as *const libc::timeval as *const c_void,
            std::mem::size_of::<libc::timeval>() as socklen_t,
        );
    }
}

fn poll_fd(fd: c_int, events: i16, timeout_ms: c_int) -> Result<i16, IoFailure> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd structure is passed with count 1.
        let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if n > 0 {
            return Ok(pfd.revents);
        }
        if n == 0 {
            return Err(IoFailure::Timeout);
        }
        let errno = last_errno();
        if errno != libc::EINTR {
            return Err(IoFailure::Errno(errno));
        }
    }
}

/// A resolved server address.
#[derive(Clone)]
pub struct SockAddr {
    storage: sockaddr_storage,
    len: socklen_t,
    family: c_int,
}

/// Resolves `host` (brackets of an IPv6 literal removed) and `port` with getaddrinfo.
pub fn resolve(host: &str, port: u16) -> Result<Vec<SockAddr>, Error> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let node = CString::new(bare).map_err(|_| {
        Error::new(
            MEMCACHED_HOST_LOOKUP_FAILURE,
            "host name contains a NUL byte",
        )
    })?;
    let service = CString::new(port.to_string()).expect("digits contain no NUL");
    // SAFETY: an all-zero addrinfo is a valid "no hints" value; fields are set below.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    hints.ai_protocol = libc::IPPROTO_TCP;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: node and service are NUL-terminated; `list` receives a list we free below.
    let rc = unsafe { libc::getaddrinfo(node.as_ptr(), service.as_ptr(), &hints, &mut list) };
    if rc != 0 {
        let code = match rc {
            libc::EAI_AGAIN => MEMCACHED_TIMEOUT,
            libc::EAI_MEMORY => MEMCACHED_MEMORY_ALLOCATION_FAILURE,
            libc::EAI_BADFLAGS => MEMCACHED_INVALID_ARGUMENTS,
            libc::EAI_SYSTEM => MEMCACHED_ERRNO,
            _ => MEMCACHED_HOST_LOOKUP_FAILURE,
        };
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(Error::new(
            code,
            format!("getaddrinfo({bare}): {}", text.to_string_lossy()),
        ));
    }
    let mut out = Vec::new();
    let mut cursor = list;
    while !cursor.is_null() {
        // SAFETY: `cursor` walks the list getaddrinfo returned; each node is valid until freed.
        let ai = unsafe { &*cursor };
        let len = ai.ai_addrlen as usize;
        if !ai.ai_addr.is_null() && len <= std::mem::size_of::<sockaddr_storage>() {
            // SAFETY: zeroed sockaddr_storage is valid; we copy `len` bytes of the address,
            // which fits (checked above).
            let mut storage: sockaddr_storage = unsafe { std::mem::zeroed() };
            // SAFETY: source has `len` readable bytes, destination is large enough.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr as *const u8,
                    &mut storage as *mut sockaddr_storage as *mut u8,
                    len,
                );
            }
            out.push(SockAddr {
                storage,
                len: ai.ai_addrlen,
                family: ai.ai_family,
            });
        }
        cursor = ai.ai_next;
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    if out.is_empty() {
        return Err(Error::new(
            MEMCACHED_HOST_LOOKUP_FAILURE,
            format!("no address for {bare}"),
        ));
    }
    Ok(out)
}

/// Builds the address of a Unix domain socket.
pub fn unix_address(path: &[u8]) -> Result<SockAddr, Error> {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut storage: sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: sockaddr_un fits inside sockaddr_storage (both are C types sized for that).
    let un = unsafe { &mut *(&mut storage as *mut sockaddr_storage as *mut libc::sockaddr_un) };
    if path.is_empty() || path.len() >= un.sun_path.len() || path.contains(&0) {
        return Err(Error::new(
            MEMCACHED_INVALID_ARGUMENTS,
            "invalid unix socket path",
        ));
    }
    un.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (dst, src) in un.sun_path.iter_mut().zip(path) {
        *dst = *src as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + path.len() + 1) as socklen_t;
    Ok(SockAddr {
        storage,
        len,
        family: libc::AF_UNIX,
    })
}

impl Conn {
    /// Connects to `addr`, waiting at most `connect_timeout_ms` (0 fails at once with TIMEOUT,
    /// negative waits without limit).
    pub fn connect(
        addr: &SockAddr,
        connect_timeout_ms: i32,
        poll_timeout_ms: i32,
        options: &SocketOptions,
    ) -> Result<Conn, Error> {
        // SAFETY: plain socket creation; the result is checked.
        let fd = unsafe {
            libc::socket(
                addr.family,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(Error::from_errno(last_errno(), "socket"));
        }
        let conn_result = Self::connect_fd(fd, addr, connect_timeout_ms, options);
        if let Err(error) = conn_result {
            // SAFETY: fd is ours and not used after this.
            unsafe { libc::close(fd) };
            return Err(error);
        }
        let mut conn = Conn {
            fd,
            rbuf: Vec::new(),
            rpos: 0,
            generation: fork_generation(),
            identity: socket_identity(fd),
            socket_timeout_ms: 0,
            last_used_ms: coarse_now_ms(),
            reused: false,
            opaque: 0,
            received: 0,
            item_size_max: None,
            nodelay: options.nodelay && addr.family != libc::AF_UNIX,
            nodelay_requested: options.nodelay,
            tcp: addr.family != libc::AF_UNIX,
            rcvlowat: 1,
            stream: Stream::default(),
        };
        conn.set_socket_timeout(poll_timeout_ms);
        Ok(conn)
    }

    fn connect_fd(
        fd: c_int,
        addr: &SockAddr,
        connect_timeout_ms: i32,
        options: &SocketOptions,
    ) -> Result<(), Error> {
        if addr.family != libc::AF_UNIX {
            if options.nodelay {
                set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
            }
            if options.keepalive {
                set_int_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
            }
            if options.keepidle > 0 {
                set_int_option(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_KEEPIDLE,
                    options.keepidle as c_int,
                );
            }
        }
        if options.send_size > 0 {
            set_int_option(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, options.send_size);
        }
        if options.recv_size > 0 {
            set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, options.recv_size);
        }
        if options.linger_off {
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: the option value points to a live linger struct of the length passed.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const libc::linger as *const c_void,
                    std::mem::size_of::<libc::linger>() as socklen_t,
                );
            }
        }
        loop {
            // SAFETY: addr.storage holds addr.len valid bytes of a socket address.
            let rc = unsafe {
                libc::connect(
                    fd,
                    &addr.storage as *const sockaddr_storage as *const libc::sockaddr,
                    addr.len,
                )
            };
            if rc == 0 {
                break;
            }
            let errno = last_errno();
            match errno {
                libc::EINTR => continue,
                libc::EINPROGRESS | libc::EAGAIN | libc::EALREADY => {
                    if connect_timeout_ms == 0 {
                        return Err(Error::new(MEMCACHED_TIMEOUT, "connect: timed out"));
                    }
                    let wait = if connect_timeout_ms < 0 {
                        -1
                    } else {
                        connect_timeout_ms
                    };
                    poll_fd(fd, libc::POLLOUT, wait).map_err(|f| f.into_error("connect"))?;
                    let mut so_error: c_int = 0;
                    let mut len = std::mem::size_of::<c_int>() as socklen_t;
                    // SAFETY: so_error and len are valid out-parameters of the sizes given.
                    unsafe {
                        libc::getsockopt(
                            fd,
                            libc::SOL_SOCKET,
                            libc::SO_ERROR,
                            &mut so_error as *mut c_int as *mut c_void,
                            &mut len,
                        );
                    }
                    if so_error != 0 {
                        return Err(Error::from_errno(so_error, "connect"));
                    }
                    break;
                }
                _ => return Err(Error::from_errno(errno, "connect")),
            }
        }
        // Switch to blocking mode: waits are bounded by SO_RCVTIMEO/SO_SNDTIMEO or by poll.
        // SAFETY: fcntl on our own descriptor with valid flag arguments.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
            }
        }
        Ok(())
    }

    /// True when the connection can take a request with no check or system call: made by
    /// this process, used within the idle-check interval, nothing unread in the text protocol,
    /// and its socket timeout already `timeout_ms`. Otherwise `Handle::connection_at` decides.
    #[inline]
    pub fn ready_without_checks(&self, now_ms: u64, binary: bool, timeout_ms: i32) -> bool {
        self.generation == fork_generation()
            && (binary || self.rpos == self.rbuf.len())
            && now_ms.wrapping_sub(self.last_used_ms) < IDLE_CHECK_AFTER_MS
            && self.socket_timeout_ms == timeout_ms.max(0)
    }

    /// Sets SO_RCVTIMEO and SO_SNDTIMEO to the poll timeout if it changed.
    pub fn set_socket_timeout(&mut self, timeout_ms: i32) {
        let wanted = timeout_ms.max(0);
        if wanted != self.socket_timeout_ms {
            set_timeout_option(self.fd, libc::SO_RCVTIMEO, wanted);
            set_timeout_option(self.fd, libc::SO_SNDTIMEO, wanted);
            self.socket_timeout_ms = wanted;
        }
    }

    /// Chooses Nagle's algorithm for the next write, unless the caller asked for TCP_NODELAY.
    ///
    /// A request larger than one TCP segment goes out with TCP_NODELAY on, or its last, partial
    /// segment waits for an ACK the server may delay by 40 ms. Requests with no reply (quiet
    /// and noreply ones) go out with it off, so the kernel can combine a stream of them into
    /// fewer packets. `push_now` switches it on again: for a request that waits for a reply,
    /// because after quiet writes nothing is acknowledged yet, and for replica copies, which
    /// must not wait. Costs one setsockopt only when the mode changes.
    pub fn prepare_write(&mut self, total_len: usize, push_now: bool) {
        if self.nodelay_requested || !self.tcp {
            return;
        }
        // A request that waits for a reply goes out with Nagle's algorithm off: after quiet
        // writes the server has acknowledged nothing, so Nagle would hold it until a delayed
        // ACK (about 40 ms).
        let wanted = total_len > ONE_SEGMENT || push_now;
        if wanted != self.nodelay {
            set_int_option(
                self.fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                wanted as c_int,
            );
            self.nodelay = wanted;
        }
    }

    /// Returns true when this connection was opened by another process (before a fork).
    pub fn is_inherited(&self) -> bool {
        self.generation != fork_generation()
    }

    /// Returns true when the descriptor still refers to the socket this connection opened.
    /// A program may close our descriptor and reuse its number for something else.
    pub fn is_still_ours(&self) -> bool {
        socket_identity(self.fd) == self.identity
    }

    /// Reads an integer SOL_SOCKET option (-1 on failure).
    pub fn socket_option(&self, option: c_int) -> c_int {
        let mut value: c_int = -1;
        let mut len = std::mem::size_of::<c_int>() as socklen_t;
        // SAFETY: value and len are valid out-parameters of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_SOCKET,
                option,
                &mut value as *mut c_int as *mut c_void,
                &mut len,
            )
        };
        if rc == 0 {
            value
        } else {
            -1
        }
    }

    /// The local port of the socket, 0 if unknown.
    pub fn local_port(&self) -> u16 {
        // SAFETY: zeroed storage is a valid out-buffer; len is its size.
        let mut storage: sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<sockaddr_storage>() as socklen_t;
        // SAFETY: getsockname writes at most `len` bytes into storage.
        let rc = unsafe {
            libc::getsockname(
                self.fd,
                &mut storage as *mut sockaddr_storage as *mut libc::sockaddr,
                &mut len,
            )
        };
        if rc != 0 {
            return 0;
        }
        match storage.ss_family as c_int {
            libc::AF_INET => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let sin =
                    unsafe { &*(&storage as *const sockaddr_storage as *const libc::sockaddr_in) };
                u16::from_be(sin.sin_port)
            }
            libc::AF_INET6 => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let sin6 =
                    unsafe { &*(&storage as *const sockaddr_storage as *const libc::sockaddr_in6) };
                u16::from_be(sin6.sin6_port)
            }
            _ => 0,
        }
    }

    /// Checks a connection that sat idle: returns false if the server closed it, or, in the
    /// text protocol, if bytes nobody asked for are waiting (a reply that arrived after its
    /// request gave up). Binary replies carry an opaque, so unrequested ones (error replies to
    /// quiet requests) are skipped when read and do not make the connection unusable.
    pub fn usable_after_idle(&mut self, now_ms: u64, binary: bool) -> bool {
        if !binary && self.rpos < self.rbuf.len() {
            return false;
        }
        if now_ms.saturating_sub(self.last_used_ms) < IDLE_CHECK_AFTER_MS {
            return true;
        }
        let mut byte = 0u8;
        // SAFETY: one writable byte is passed with length 1.
        let n = unsafe {
            libc::recv(
                self.fd,
                &mut byte as *mut u8 as *mut c_void,
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n > 0 {
            return binary;
        }
        n < 0 && matches!(last_errno(), libc::EAGAIN | libc::EINTR)
    }

    /// Sends every byte of `parts` in order, within `deadline`.
    pub fn send_all(&mut self, parts: &[&[u8]], deadline: &Deadline) -> Result<(), IoFailure> {
        // The whole send counts against the deadline, however many writes it takes.
        deadline.arm();
        // Common case: everything leaves in one blocking sendmsg (SO_SNDTIMEO bounds it).
        // Empty parts become empty iovecs, which sendmsg skips.
        if parts.len() > 4 || deadline.timeout_ms <= 0 {
            return self.send_all_slow(parts, deadline, true);
        }
        let mut iov = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; 4];
        let mut total = 0;
        for (slot, part) in iov.iter_mut().zip(parts) {
            slot.iov_base = part.as_ptr() as *mut c_void;
            slot.iov_len = part.len();
            total += part.len();
        }
        if total == 0 {
            return Ok(());
        }
        // SAFETY: msghdr is zero-initialised and points at `parts.len()` valid iovecs borrowing
        // slices that live for this call.
        let sent = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = parts.len();
            libc::sendmsg(self.fd, &msg, libc::MSG_NOSIGNAL)
        };
        if sent >= 0 && sent as usize == total {
            return Ok(());
        }
        self.send_after_first(parts, sent, deadline)
    }

    /// Sends four parts (queued bytes, request, value, trailer) as `send_all` does. Every
    /// single-key request has this shape, and its deadline is already started.
    #[inline]
    pub fn send_four(&mut self, parts: [&[u8]; 4], deadline: &Deadline) -> Result<(), IoFailure> {
        if deadline.timeout_ms <= 0 {
            return self.send_all(&parts, deadline);
        }
        let total = parts[0].len() + parts[1].len() + parts[2].len() + parts[3].len();
        if total == parts[1].len() {
            // One contiguous request: send() costs the kernel less than sendmsg.
            // SAFETY: the request slice is valid for reads of its length.
            let sent = unsafe {
                libc::send(
                    self.fd,
                    parts[1].as_ptr() as *const c_void,
                    total,
                    libc::MSG_NOSIGNAL,
                )
            };
            if sent >= 0 && sent as usize == total {
                return Ok(());
            }
            return self.send_after_first(&parts, sent, deadline);
        }
        let mut iov = parts.map(|part| libc::iovec {
            iov_base: part.as_ptr() as *mut c_void,
            iov_len: part.len(),
        });
        // SAFETY: msghdr is zero-initialised and points at four valid iovecs borrowing slices
        // that live for this call.
        let sent = unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = iov.as_mut_ptr();
            msg.msg_iovlen = iov.len();
            libc::sendmsg(self.fd, &msg, libc::MSG_NOSIGNAL)
        };
        if sent >= 0 && sent as usize == total {
            return Ok(());
        }
        self.send_after_first(&parts, sent, deadline)
    }

    /// Sends the rest of `parts` after a first blocking sendmsg that returned `sent`.
    #[inline(never)]
    fn send_after_first(
        &mut self,
        parts: &[&[u8]],
        sent: isize,
        deadline: &Deadline,
    ) -> Result<(), IoFailure> {
        if sent > 0 {
            return self.send_remaining(parts, sent as usize, deadline);
        }
        let errno = last_errno();
        if sent < 0 && !matches!(errno, libc::EINTR | libc::EAGAIN) {
            return Err(IoFailure::Errno(errno));
        }
        // The blocking write already waited: go on with polls bounded by the deadline.
        self.send_all_slow(parts, deadline, false)
    }

    /// Sends what is left of `parts` after the first `done` bytes went out.
    fn send_remaining(
        &mut self,
        parts: &[&[u8]],
        mut done: usize,
        deadline: &Deadline,
    ) -> Result<(), IoFailure> {
        let mut rest: Vec<&[u8]> = Vec::with_capacity(parts.len());
        for part in parts {
            if done >= part.len() {
                done -= part.len();
            } else {
                rest.push(&part[done..]);
                done = 0;
            }
        }
        self.send_all_slow(&rest, deadline, false)
    }

    /// Sends every byte of `parts` with non-blocking writes and polls in between, within
    /// `deadline`.
    fn send_all_slow(
        &mut self,
        parts: &[&[u8]],
        deadline: &Deadline,
        may_block_first: bool,
    ) -> Result<(), IoFailure> {
        let mut index = 0;
        let mut offset = 0;
        let mut first = may_block_first;
        while index < parts.len() {
            if offset >= parts[index].len() {
                index += 1;
                offset = 0;
                continue;
            }
            let mut iov: [libc::iovec; 8] = [libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; 8];
            let mut count = 0;
            for (i, part) in parts[index..].iter().enumerate() {
                if count == iov.len() {
                    break;
                }
                let slice = if i == 0 { &part[offset..] } else { &part[..] };
                if slice.is_empty() {
                    continue;
                }
                iov[count] = libc::iovec {
                    iov_base: slice.as_ptr() as *mut c_void,
                    iov_len: slice.len(),
                };
                count += 1;
            }
            if count == 0 {
                break;
            }
            let blocking_wait = first && deadline.timeout_ms > 0;
            let flags = libc::MSG_NOSIGNAL | if blocking_wait { 0 } else { libc::MSG_DONTWAIT };
            // SAFETY: msghdr is zero-initialised and points at `count` valid iovecs that
            // borrow slices living for this call.
            let sent = unsafe {
                let mut msg: libc::msghdr = std::mem::zeroed();
                msg.msg_iov = iov.as_mut_ptr();
                msg.msg_iovlen = count;
                libc::sendmsg(self.fd, &msg, flags)
            };
            first = false;
            if sent < 0 {
                let errno = last_errno();
                match errno {
                    libc::EINTR => continue,
                    libc::EAGAIN => {
                        let remaining = deadline.remaining_ms();
                        if remaining == 0 {
                            return Err(IoFailure::Timeout);
                        }
                        poll_fd(self.fd, libc::POLLOUT, remaining)?;
                        continue;
                    }
                    _ => return Err(IoFailure::Errno(errno)),
                }
            }
            let mut sent = sent as usize;
            while sent > 0 && index < parts.len() {
                let left = parts[index].len() - offset;
                if sent >= left {
                    sent -= left;
                    index += 1;
                    offset = 0;
                } else {
                    offset += sent;
                    sent = 0;
                }
            }
        }
        Ok(())
    }

    /// Sends as much of `data` as the socket takes without blocking; returns the byte count.
    pub fn send_nonblocking(&mut self, data: &[u8]) -> Result<usize, IoFailure> {
        loop {
            // SAFETY: data is a valid readable slice for the length passed.
            let sent = unsafe {
                libc::send(
                    self.fd,
                    data.as_ptr() as *const c_void,
                    data.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                )
            };
            if sent >= 0 {
                return Ok(sent as usize);
            }
            match last_errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Ok(0),
                errno => return Err(IoFailure::Errno(errno)),
            }
        }
    }

    /// Drops consumed bytes from the front of the read buffer.
    pub fn compact(&mut self) {
        if self.rpos == self.rbuf.len() {
            self.rbuf.clear();
            self.rpos = 0;
            if self.rbuf.capacity() > KEEP_READ_BUFFER {
                self.rbuf = Vec::new();
            }
        } else if self.rpos > 0 && self.rpos >= self.rbuf.len() / 2 {
            self.rbuf.drain(..self.rpos);
            self.rpos = 0;
        }
    }

    /// Receives more bytes into the read buffer. `first` is true for the first wait of a
    /// request, which may block in recv() itself; later waits poll with the time left.
    /// `wanted` is the total unconsumed length the caller needs, when known.
    #[inline(always)]
    pub fn fill(
        &mut self,
        deadline: &Deadline,
        first: bool,
        wanted: Option<usize>,
    ) -> Result<usize, IoFailure> {
        // The usual case, a reply to a request just sent into an empty buffer, is one blocking
        // recv() with nothing to compact or grow.
        let empty = self.rpos == self.rbuf.len();
        let capacity = self.rbuf.capacity();
        if first
            && empty
            && wanted.is_none()
            && deadline.timeout_ms > 0
            && (MIN_READ_SPARE..=KEEP_READ_BUFFER).contains(&capacity)
            && self.stream.total == 0
        {
            deadline.arm();
            self.rbuf.clear();
            self.rpos = 0;
            // SAFETY: the buffer is empty, so its whole capacity is writable spare room; recv
            // initialises the bytes it reports.
            let n = unsafe {
                libc::recv(self.fd, self.rbuf.as_mut_ptr() as *mut c_void, capacity, 0)
            };
            if n > 0 {
                // SAFETY: recv initialised the first `n` bytes.
                unsafe { self.rbuf.set_len(n as usize) };
                self.received += n as u64;
                return Ok(n as usize);
            }
            if n == 0 {
                return Err(IoFailure::Closed);
            }
            match last_errno() {
                // With SO_RCVTIMEO, a blocking recv reports an expired timeout as EAGAIN.
                libc::EAGAIN => return Err(IoFailure::Timeout),
                libc::EINTR => {}
                errno => return Err(IoFailure::Errno(errno)),
            }
        }
        self.fill_slow(deadline, first, wanted)
    }

    /// Receives more bytes in every case `fill` does not handle itself.
    #[inline(never)]
    fn fill_slow(
        &mut self,
        deadline: &Deadline,
        first: bool,
        wanted: Option<usize>,
    ) -> Result<usize, IoFailure> {
        deadline.arm();
        self.compact();
        let have = self.rbuf.len() - self.rpos;
        let step = match wanted {
            Some(total) if total > have => (total - have).clamp(MIN_READ_SPARE, MAX_READ_STEP),
            _ => MIN_READ_SPARE,
        };
        let low_water = self.stream.low_water(self.received);
        self.set_low_water(low_water);
        // Room for what the wait lets gather, with some to spare.
        self.rbuf.reserve(step.max(low_water as usize * 2));
        // A blocking recv() would wait for the low-water mark past the stream's fallback.
        let blocking_wait = first && deadline.timeout_ms > 0 && low_water == 1;
        loop {
            let mut below_mark = false;
            if !blocking_wait {
                let remaining = deadline.remaining_ms();
                if remaining == 0 {
                    return Err(IoFailure::Timeout);
                }
                if self.rcvlowat > 1 {
                    match poll_fd(self.fd, libc::POLLIN, remaining.min(STREAM_WAIT_MS)) {
                        // Less than the mark arrived in time. What did arrive is read below
                        // and the stream goes on: a server on the same CPU often needs more
                        // than the delay to produce the mark.
                        Err(IoFailure::Timeout) => below_mark = true,
                        other => {
                            other?;
                        }
                    }
                } else {
                    poll_fd(self.fd, libc::POLLIN, remaining)?;
                }
            }
            let spare = self.rbuf.spare_capacity_mut();
            let flags = if blocking_wait { 0 } else { libc::MSG_DONTWAIT };
            // SAFETY: `spare` is writable uninitialised capacity of the length passed; recv
            // initialises the bytes it reports.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    spare.as_mut_ptr() as *mut c_void,
                    spare.len(),
                    flags,
                )
            };
            if n > 0 {
                let len = self.rbuf.len() + n as usize;
                // SAFETY: recv initialised `n` bytes right after the old length.
                unsafe { self.rbuf.set_len(len) };
                self.received += n as u64;
                return Ok(n as usize);
            }
            if n == 0 {
                return Err(IoFailure::Closed);
            }
            match last_errno() {
                libc::EINTR => continue,
                // With SO_RCVTIMEO, a blocking recv reports an expired timeout as EAGAIN.
                libc::EAGAIN if blocking_wait => return Err(IoFailure::Timeout),
                libc::EAGAIN => {
                    if below_mark {
                        // Nothing at all within the delay: the server paused, or the mark
                        // is more than the rest of the reply. Later waits end on any data
                        // until the stream ends.
                        self.stream.paused = true;
                        self.set_low_water(1);
                    }
                    continue;
                }
                errno => return Err(IoFailure::Errno(errno)),
            }
        }
    }

    fn set_low_water(&mut self, bytes: c_int) {
        if bytes != self.rcvlowat {
            set_int_option(self.fd, libc::SOL_SOCKET, libc::SO_RCVLOWAT, bytes);
            self.rcvlowat = bytes;
        }
    }

    /// Starts a long reply of `parts` similar parts (see `Stream`). Unix domain sockets wake
    /// on any data whatever the mark, so they get no stream.
    pub fn begin_stream(&mut self, parts: u32) {
        if !self.tcp {
            return;
        }
        self.stream = Stream {
            total: parts,
            start: self.received,
            ..Stream::default()
        };
    }

    /// Records that the first `done` parts of the stream were received.
    pub fn stream_progress(&mut self, done: u32) {
        self.stream.done = done;
    }

    /// Records that all but `left` parts of the stream were received.
    pub fn stream_left(&mut self, left: u32) {
        self.stream.done = self.stream.total.saturating_sub(left);
    }

    /// Ends the stream of an mget whose fetch was left unfinished, before another request
    /// waits on this connection.
    #[inline(always)]
    pub fn end_stale_stream(&mut self) {
        if self.stream.total != 0 {
            self.end_stream();
        }
    }

    /// Ends the stream: later waits end on any data again.
    pub fn end_stream(&mut self) {
        self.stream = Stream::default();
        self.set_low_water(1);
    }

    /// Receives whatever is available without waiting; Ok(0) when nothing is.
    pub fn fill_nonblocking(&mut self) -> Result<usize, IoFailure> {
        self.compact();
        self.rbuf.reserve(MIN_READ_SPARE);
        loop {
            let spare = self.rbuf.spare_capacity_mut();
            // SAFETY: as in `fill`.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    spare.as_mut_ptr() as *mut c_void,
                    spare.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 {
                let len = self.rbuf.len() + n as usize;
                // SAFETY: recv initialised `n` bytes right after the old length.
                unsafe { self.rbuf.set_len(len) };
                self.received += n as u64;
                return Ok(n as usize);
            }
            if n == 0 {
                return Err(IoFailure::Closed);
            }
            match last_errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Ok(0),
                errno => return Err(IoFailure::Errno(errno)),
            }
        }
    }

    /// The raw descriptor, for poll() over several connections.
    pub fn fd(&self) -> c_int {
        self.fd
    }

    /// Reads until the server closes the connection or `deadline` passes; used after a final
    /// quit so that queued commands are processed before the socket goes away.
    pub fn drain_until_closed(&mut self, deadline: &Deadline) {
        loop {
            self.rbuf.clear();
            self.rpos = 0;
            if self.fill(deadline, false, None).is_err() {
                return;
            }
        }
    }

    /// Closes the connection. An inherited connection, or a descriptor that no longer refers to
    /// our socket, is left alone: closing it would affect the other process or the new owner.
    pub fn close(self) {
        if self.is_inherited() && !self.is_still_ours() {
            std::mem::forget(self);
            return;
        }
        drop(self);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if !self.is_still_ours() {
            return;
        }
        // SAFETY: the descriptor is ours (identity checked) and is closed exactly once.
        unsafe { libc::close(self.fd) };
    }
}

/// Waits until one of `fds` is readable (or writable, for those with `want_write`), for at
/// most the time left in `deadline`. Returns the revents per descriptor.
pub fn poll_many(fds: &mut [libc::pollfd], deadline: &Deadline) -> Result<(), IoFailure> {
    loop {
        let remaining = deadline.remaining_ms();
        if remaining == 0 {
            return Err(IoFailure::Timeout);
        }
        // SAFETY: `fds` is a valid mutable slice of pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, remaining) };
        if n > 0 {
            return Ok(());
        }
        if n == 0 {
            return Err(IoFailure::Timeout);
        }
        let errno = last_errno();
        if errno != libc::EINTR {
            return Err(IoFailure::Errno(errno));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    #[test]
    fn low_water_from_remaining_parts() {
        let stream = |done: u32, total: u32, received: u64| {
            Stream {
                total,
                done,
                start: 1000,
                paused: false,
            }
            .low_water(1000 + received)
        };
        // Nothing received yet: no prediction.
        assert_eq!(stream(0, 100, 0), 1);
        // 10 of 100 parts in 150,000 bytes: 1,350,000 to come, half capped at the maximum.
        assert_eq!(stream(10, 100, 150_000), STREAM_LOW_WATER_MAX as c_int);
        // 90 of 100 parts: 150,000 to come, half is 75,000, rounded down to 65,536.
        assert_eq!(stream(90, 100, 1_350_000), 2 * STREAM_LOW_WATER_MIN as c_int);
        // 99 of 100: 15,000 to come, below the minimum.
        assert_eq!(stream(99, 100, 1_485_000), 1);
        assert_eq!(stream(100, 100, 1_500_000), 1);
        let paused = Stream {
            total: 100,
            done: 10,
            start: 0,
            paused: true,
        };
        assert_eq!(paused.low_water(150_000), 1);
        // No stream at all.
        assert_eq!(Stream::default().low_water(5_000_000), 1);
    }

    /// A peer that sends most of a stream, then stops short of the predicted amount for a
    /// while: the client gets every byte, and the wait for the missing rest ends after the
    /// fallback delay rather than the poll timeout.
    #[test]
    fn stream_short_late_tail() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let total = 400_000usize;
        let head = 300_000usize;
        let peer = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().expect("accept");
            let data = vec![b'x'; total];
            socket.write_all(&data[..head]).expect("peer failed to send the first part");
            std::thread::sleep(Duration::from_millis(200));
            socket.write_all(&data[head..]).expect("peer failed to send the rest");
            std::thread::sleep(Duration::from_millis(500));
        });

        let addrs = resolve("127.0.0.1", port).expect("resolve");
        let options = SocketOptions::default();
        let mut conn = Conn::connect(&addrs[0], 1000, 5000, &options).expect("connect");
        // One part of 100 done whatever arrives: the prediction stays far above the rest.
        conn.begin_stream(100);
        conn.stream_progress(1);
        let deadline = Deadline::after_ms(5000);
        let started = Instant::now();
        let mut got = 0usize;
        let mut highest_mark = 1;

        while got < total {
            got += conn.fill(&deadline, false, None).expect("fill");
            highest_mark = highest_mark.max(conn.rcvlowat);
            conn.rpos = conn.rbuf.len();
        }

        assert_eq!(got, total);
        assert!(highest_mark > 1, "the stream never raised SO_RCVLOWAT");
        assert!(conn.stream.paused, "the short tail did not end the bulk waits");
        conn.end_stream();
        assert_eq!(conn.rcvlowat, 1);
        // The tail came 200 ms after the head; nothing waited for the 5 s poll timeout.
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        peer.join().expect("peer");
    }
}
