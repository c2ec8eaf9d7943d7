#!/usr/bin/env python3
"""FTP and FTPS client steps for run.sh, standard library only.

Every command prints one short line. Exit status: 0 the step succeeded, 1 the
server rejected it (the reply is printed), 2 any other failure.

  probe PORT TIMEOUT                   wait until PORT greets with 220
  login PORT SRC CONTENT               login, LIST, RETR hello.txt == CONTENT
  badlogin PORT SRC                    two wrong passwords (MaxLoginAttempts 2)
  tls-resume PORT_A PORT_B CONTENT     TLS 1.2 session from A resumed on B
  session-libs PORT SRC MASTER_PID     print libmemcached* files mapped by the
                                       master and by this client's session
  hold PORT SRC CONTENT READY GO SECS  login and transfer, create READY, wait
                                       for GO to exist, transfer again

SRC is the 127.0.0.x source address the client binds, so that one machine can
act as several hosts.
"""

import ftplib
import os
import socket
import ssl
import sys
import time

USER = "ftpuser"
PASSWORD = "secret123"
WRONG_PASSWORD = "not-the-password"
FILE_NAME = "hello.txt"
# Seconds for connect and for each reply. A stalled server fails the step.
SOCKET_TIMEOUT = 10


class Rejected(Exception):
    """A 4xx/5xx reply where the step needed success."""


def connect(cls, port, src, **kwargs):
    ftp = cls(**kwargs)
    try:
        ftp.connect("127.0.0.1", port, timeout=SOCKET_TIMEOUT, source_address=(src, 0))
    except (ftplib.error_perm, ftplib.error_temp) as e:
        # mod_ban sends its ban message instead of the 220 greeting.
        raise Rejected(str(e)) from None
    return ftp


def login(ftp):
    try:
        ftp.login(USER, PASSWORD)
    except (ftplib.error_perm, ftplib.error_temp) as e:
        raise Rejected(str(e)) from None


def transfer(ftp, content):
    """Run LIST and RETR: LIST must show the file, RETR must return CONTENT."""
    listing = []
    ftp.retrlines("LIST", listing.append)
    if not any(line.endswith(" " + FILE_NAME) for line in listing):
        raise RuntimeError("LIST did not show %s: %r" % (FILE_NAME, listing))
    chunks = []
    ftp.retrbinary("RETR " + FILE_NAME, chunks.append)
    data = b"".join(chunks)
    if data != content.encode():
        raise RuntimeError("RETR returned %r, expected %r" % (data, content))


def cmd_probe(port, timeout):
    deadline = time.monotonic() + float(timeout)
    last = "no attempt"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=2) as s:
                greeting = s.makefile("rb").readline()
                s.sendall(b"QUIT\r\n")
            if greeting.startswith(b"220"):
                print("ready: %s" % greeting.decode(errors="replace").strip())
                return 0
            last = "greeting %r" % greeting
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    print("not ready after %ss: %s" % (timeout, last))
    return 2


def cmd_login(port, src, content):
    start = time.monotonic()
    ftp = connect(ftplib.FTP, int(port), src)
    login(ftp)
    transfer(ftp, content)
    ftp.quit()
    elapsed_ms = (time.monotonic() - start) * 1000
    print("ok: login, LIST and RETR from %s in %d ms" % (src, elapsed_ms))
    return 0


def cmd_badlogin(port, src):
    ftp = connect(ftplib.FTP, int(port), src)
    replies = []
    for _ in range(2):
        try:
            ftp.login(USER, WRONG_PASSWORD)
            print("wrong password was accepted")
            return 2
        except ftplib.error_perm as e:
            replies.append(str(e))
    if not all(r.startswith("530") for r in replies):
        print("unexpected replies: %r" % replies)
        return 2
    # After the second failure the server ends the session, which is the
    # MaxLoginAttempts event mod_ban reacts to.
    try:
        extra = ftp.sock.recv(1024)
    except OSError:
        extra = b""
    ftp.close()
    print("ok: %d failed logins from %s, then %s" % (
        len(replies), src, "close" if not extra else "more data %r" % extra))
    return 0


class ResumingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS that can offer a saved session on AUTH TLS.

    It also resumes the control connection's session on data connections,
    because mod_tls requires that by default and plain ftplib does not do it.
    """

    offered_session = None

    def auth(self):
        resp = self.voidcmd("AUTH TLS")
        self.sock = self.context.wrap_socket(
            self.sock, server_hostname=self.host, session=self.offered_session)
        self.file = self.sock.makefile(mode="r", encoding=self.encoding)
        return resp

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def tls12_no_ticket_context():
    # No tickets: the only way to resume is the server-side session cache,
    # which is what memcached shares between the two instances.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.options |= ssl.OP_NO_TICKET
    return ctx


def cmd_tls_resume(port_a, port_b, content):
    ctx = tls12_no_ticket_context()
    a = connect(ResumingFTP_TLS, int(port_a), "127.0.0.1", context=ctx)
    a.auth()
    login(a)
    session = a.sock.session
    a.quit()
    if session is None or not session.id:
        print("instance A gave no TLS session id")
        return 2

    b = connect(ResumingFTP_TLS, int(port_b), "127.0.0.1", context=ctx)
    b.offered_session = session
    b.auth()
    reused = b.sock.session_reused
    version = b.sock.version()
    login(b)
    b.prot_p()
    chunks = []
    b.retrbinary("RETR " + FILE_NAME, chunks.append)
    b.quit()
    data = b"".join(chunks)
    print("session %s... from A resumed on B: %s (%s); protected RETR on B: %r" % (
        session.id.hex()[:16], reused, version, data))
    return 0 if reused and data == content.encode() else 2


def proc_net_tcp_addr(ip, port):
    """Format an address as /proc/net/tcp shows it: little-endian hex IP, hex port."""
    packed = socket.inet_aton(ip)
    return "%08X:%04X" % (int.from_bytes(packed, "little"), port)


def session_pid(master_pid, server_port, client_sock):
    """Find the child of master_pid that owns the server end of client_sock."""
    src_ip, src_port = client_sock.getsockname()[:2]
    local = proc_net_tcp_addr("127.0.0.1", server_port)
    remote = proc_net_tcp_addr(src_ip, src_port)
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                inode = fields[9]
    if inode is None:
        raise RuntimeError("server end of the control connection not in /proc/net/tcp")
    target = "socket:[%s]" % inode
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
            if ppid != str(master_pid):
                continue
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("no child of %s owns %s" % (master_pid, target))


def mapped_libmemcached(pid):
    paths = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) == 6 and os.path.basename(fields[5].strip()).startswith("libmemcached"):
                paths.add(fields[5].strip())
    return sorted(paths)


def cmd_session_libs(port, src, master_pid):
    ftp = connect(ftplib.FTP, int(port), src)
    login(ftp)
    pid = session_pid(int(master_pid), int(port), ftp.sock)
    for role, p in (("master", int(master_pid)), ("session", pid)):
        for path in mapped_libmemcached(p):
            print("%s %d %s" % (role, p, path))
    ftp.quit()
    return 0


def cmd_hold(port, src, content, ready_file, go_file, seconds):
    ftp = connect(ftplib.FTP, int(port), src)
    login(ftp)
    transfer(ftp, content)
    open(ready_file, "w").close()
    deadline = time.monotonic() + float(seconds)
    while not os.path.exists(go_file):
        if time.monotonic() > deadline:
            print("gave up waiting for %s" % go_file)
            return 2
        time.sleep(0.05)
    start = time.monotonic()
    transfer(ftp, content)
    ftp.quit()
    print("ok: session opened before the change still does LIST and RETR (%.3fs)" % (
        time.monotonic() - start))
    return 0


COMMANDS = {
    "probe": cmd_probe,
    "login": cmd_login,
    "badlogin": cmd_badlogin,
    "tls-resume": cmd_tls_resume,
    "session-libs": cmd_session_libs,
    "hold": cmd_hold,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[argv[1]](*argv[2:])
    except Rejected as e:
        print("rejected: %s" % e)
        return 1
    except (OSError, EOFError, ftplib.Error, RuntimeError, TypeError) as e:
        print("error: %s: %s" % (type(e).__name__, e))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
