"""A next hop that fails on purpose (issue 14 "Fault injection", catalogue
case 152): a plain SMTP server on raw sockets whose every connection
follows one behaviour chosen by plan(n) (n counts connections from 0):

- "ok": a whole SMTP conversation; the message is kept;
- "drop_after_greeting": 220, then the connection is closed;
- "drop_after_mail": 250 to EHLO and MAIL, then closed when RCPT comes;
- "drop_mid_data": 354 to DATA, a few lines read, then closed (RST);
- "stall_mid_data": 354 to DATA, a few lines read, then nothing more is
  read or answered until the gateway gives up (or stop()).

The listening socket can be closed and opened again on the same port
(down() and up()): a closed port refuses connections. Nothing here ever
closes after the final dot of a message it kept, so a message delivered
twice is the gateway's duplicate, never the peer's."""

import socket
import struct
import threading

import mwsys

DATA_LINES_BEFORE_FAULT = 3


class FlakyPeer:
    def __init__(self, port, plan=lambda n: "ok"):
        self.port = port
        self.plan = plan
        self.connections = 0
        self.behaviours = []         # what each connection did, in order
        self.messages = []           # bodies of the messages kept
        self.cond = threading.Condition()
        self._listener = None
        self._released = threading.Event()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def up(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self._listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()
        return self

    def down(self):
        """Close the listening socket: connections are refused from now."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def stop(self):
        self.down()
        self._released.set()

    def with_token(self, token):
        with self.cond:
            return [m for m in self.messages if token.encode() in m]

    def wait_for(self, count, timeout=mwsys.TIMEOUT):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"{len(self.messages)} of {count} messages arrived at the flaky peer")

    def _accept(self, listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return   # down()
            with self.cond:
                n = self.connections
                self.connections += 1
                behaviour = self.plan(n)
                self.behaviours.append(behaviour)
            threading.Thread(target=self._serve, args=(conn, behaviour), daemon=True).start()

    def _serve(self, conn, behaviour):
        with conn:
            conn.settimeout(60)
            f = conn.makefile("rb")
            try:
                self._conversation(conn, f, behaviour)
            except OSError:
                pass

    def _conversation(self, conn, f, behaviour):
        conn.sendall(b"220 flaky.test ESMTP\r\n")
        if behaviour == "drop_after_greeting":
            return
        while True:
            line = f.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"RCPT" and behaviour == "drop_after_mail":
                return
            if verb == b"EHLO":
                conn.sendall(b"250-flaky.test\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                if not self._data(conn, f, behaviour):
                    return
                conn.sendall(b"250 2.0.0 kept\r\n")
            else:
                conn.sendall(b"250 ok\r\n")

    def _data(self, conn, f, behaviour):
        """Read a message body; False when the behaviour ends it first."""
        data = b""
        while True:
            if behaviour in ("drop_mid_data", "stall_mid_data") and data.count(b"\n") >= DATA_LINES_BEFORE_FAULT:
                if behaviour == "drop_mid_data":
                    # RST rather than FIN: the gateway is still writing.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    self._released.wait()
                return False
            line = f.readline()
            if not line:
                return False
            if line == b".\r\n":
                break
            data += line
        with self.cond:
            self.messages.append(data)
            self.cond.notify_all()
        return True
