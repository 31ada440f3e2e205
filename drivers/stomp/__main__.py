"""The ``stomp`` command-line client (also ``python -m stomp``), compatible with stomp.py's.

Usage::

    stomp [-H HOST] [-P PORT] [-U USER] [-W PASSWORD] [-S 1.0|1.1|1.2] [-F FILE] [-L QUEUE]
          [-V] [--heartbeats CX,CY] [--ssl] [--ssl-key-file F] [--ssl-cert-file F]
          [--ssl-ca-file F] [--ssl-insecure] [--version]

Without ``-F`` or ``-L`` it reads commands interactively (``help`` lists them).  With TLS,
the broker's certificate is verified unless ``--ssl-insecure`` is given.  The password can
also come from the environment variable ``STOMP_PASSWORD`` so it stays out of the process
list.
"""

from __future__ import annotations

import argparse
import base64
import cmd
import functools
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TextIO

from . import __version__, colours, sansio_version
from .connect import StompConnection10, StompConnection11, StompConnection12
from .exception import StompException
from .listener import ConnectionListener, StatsListener
from .utils import Frame, get_uuid

__all__ = ["StompCLI", "SubscriptionInfo", "do_nothing_loop", "heartbeat_pattern", "main"]

#: What ``--heartbeats`` accepts.
heartbeat_pattern = re.compile(r"^[0-9]+,[0-9]+$")

_HELP = {
    "subscribe": (
        "subscribe <destination> [ack]",
        "destination",
        "ack (auto, client, client-individual)",
        "Register to listen to a given destination.",
    ),
    "unsubscribe": (
        "unsubscribe <destination>",
        "destination",
        "",
        "Stop listening to a given destination.",
    ),
    "send": (
        "send <destination> <message>",
        "destination, message",
        "",
        "Send a message to a destination (in the open transaction, if any).",
    ),
    "sendrec": (
        "sendrec <destination> <message>",
        "destination, message",
        "",
        "Send a message and ask for a receipt (printed when it arrives).",
    ),
    "sendreply": (
        "sendreply <destination> <correlation-id> <message>",
        "destination, correlation-id, message",
        "",
        "Send a reply message with a correlation-id header.",
    ),
    "sendfile": (
        "sendfile <destination> <filename> [headers.json]",
        "destination, filename",
        "headers.json (a file holding a JSON object of extra headers)",
        "Send a file (base64-encoded) with a 'filename' header.",
    ),
    "begin": ("begin", "", "", "Start a transaction; sends and acks then belong to it."),
    "commit": ("commit", "", "", "Commit the open transaction."),
    "abort": ("abort", "", "", "Roll back the open transaction."),
    "rollback": ("rollback", "", "", "Roll back the open transaction (same as abort)."),
    "ack": (
        "ack <id> [subscription]",
        "id (1.2: the 'ack' header; else the message-id)",
        "subscription (1.1)",
        "Acknowledge a message.",
    ),
    "nack": (
        "nack <id> [subscription]",
        "id (1.2: the 'ack' header; else the message-id)",
        "subscription (1.1)",
        "Negatively acknowledge a message (1.1 and 1.2).",
    ),
    "stats": ("stats [on|off]", "", "on or off", "Record statistics, or print them."),
    "run": ("run <filename>", "filename", "", "Run the commands in a file."),
    "version": ("version", "", "", "Print the version."),
    "quit": ("quit", "", "", "Disconnect and leave."),
}


class SubscriptionInfo(NamedTuple):
    """One subscription of the CLI session."""

    id: str
    ack: str


class StompCLI(ConnectionListener, cmd.Cmd):
    """An interactive STOMP client: a :class:`cmd.Cmd` that is also a connection listener.

    Args:
        host: broker host.
        port: broker port.
        user: login.
        passcode: password.
        ver: ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        prompt: the prompt.
        verbose: print every header of received frames, and frames sent.
        heartbeats: ``(cx, cy)`` in ms (1.1 and 1.2).
        use_ssl: connect with TLS.
        ssl_key_file: client key.
        ssl_cert_file: client certificate.
        ssl_ca_file: CA bundle to verify the broker with.
        ssl_insecure: do not verify the broker's certificate.
        stdin: where commands come from.
        stdout: where output goes.

    Raises:
        RuntimeError: ``ver`` is not a known version.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int | str = 61613,
        user: str = "",
        passcode: str = "",
        ver: str = "1.1",
        prompt: str = "> ",
        verbose: bool = True,
        heartbeats: tuple[int, int] = (0, 0),
        use_ssl: bool = False,
        ssl_key_file: str | None = None,
        ssl_cert_file: str | None = None,
        ssl_ca_file: str | None = None,
        ssl_insecure: bool = False,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
    ) -> None:
        cmd.Cmd.__init__(self, "Tab", stdin, stdout)
        self.nversion = ver
        self.verbose = verbose
        self.prompt = prompt
        self.user = user
        self.passcode = passcode
        self.transaction_id: str | None = None
        self.version = ver
        self.__subscriptions: dict[str, SubscriptionInfo] = {}
        self.__subscription_id = 1
        self.__quit = False
        # The first frame printed (CONNECTED) comes before the command loop prints its
        # prompt: printing one after it too would show the prompt twice.
        self.__start = True
        self.__leaving = False
        #: An ERROR frame arrived (the command exits with status 1).
        self.error_received = False
        # The last frame from the broker was an ERROR (see on_disconnected).
        self.__after_error = False
        self.conn: Any
        if ver in ("1.0", "1.1", "1.2"):
            address = [(host or "localhost", int(port or 61613))]
        if ver == "1.0":
            self.conn = StompConnection10(address)
        elif ver == "1.1":
            self.conn = StompConnection11(address, heartbeats=heartbeats)
        elif ver == "1.2":
            self.conn = StompConnection12(address, heartbeats=heartbeats)
        elif ver == "multicast":
            from .adapter.multicast import MulticastConnection

            self.conn = MulticastConnection()
            self.nversion = "1.2"
        else:
            raise RuntimeError("Unknown version")
        if use_ssl:
            self.conn.set_ssl(
                address,
                key_file=ssl_key_file,
                cert_file=ssl_cert_file,
                ca_certs=ssl_ca_file,
                verify=not ssl_insecure,
            )
        self.conn.set_listener("", self)
        self.conn.connect(self.user or "", self.passcode or "", wait=True)

    # ------------------------------------------------------------------ output

    def __print(self, text: str = "", end: str = "\n") -> None:
        self.stdout.write(text + end)
        self.stdout.flush()

    def __error(self, msg: str, end: str = "\n") -> None:
        self.__print(f"{colours.BOLD}{colours.RED}{msg}{colours.NO_COLOUR}", end)

    def __sysout(self, msg: str, end: str = "\n") -> None:
        self.__print(msg, end)

    def __print_async(self, frame_type: str, frame: Frame) -> None:
        # The text, line for line, is stomp.py's: scripts parse it.
        if self.__quit:
            return
        if self.verbose:
            self.__sysout(frame_type)
            for key, value in frame.headers.items():
                self.__sysout(f"{key}: {value}")
        else:
            if "message-id" in frame.headers:
                self.__sysout(f"message-id: {frame.headers['message-id']}")
            if "subscription" in frame.headers:
                self.__sysout(f"subscription: {frame.headers['subscription']}")
        if self.prompt != "":
            self.__sysout("")
        body = frame.body
        self.__sysout(body.decode(errors="replace") if isinstance(body, bytes) else str(body))
        if self.__start:
            self.__start = False
        else:
            self.__sysout(self.prompt, end="")

    def quitting(self) -> None:
        """The session is ending on purpose: no "lost connection", no DISCONNECT receipt.

        An ERROR the broker still sends (about the last commands) is printed.
        """
        self.__leaving = True

    # ------------------------------------------------------------------ listener

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Nothing to show."""

    def on_disconnected(self) -> None:
        """Report a lost connection (unless we are quitting)."""
        if self.__quit or self.__leaving:
            return
        if self.__after_error:
            # Spec 1.2 "ERROR": the server closes the connection after it.  Not a lost
            # connection, and a race with the end of a -F run: said as what it is.
            self.__error("the broker closed the connection after its ERROR")
        else:
            self.__error("lost connection")

    def on_message(self, frame: Frame) -> None:
        """Print a MESSAGE; save it to a file if it carries a ``filename`` header."""
        self.__after_error = False
        if not self.__quit:
            self.__sysout("")
        if "filename" in frame.headers:
            content = base64.b64decode(
                frame.body if isinstance(frame.body, bytes) else frame.body.encode()
            )
            fname = str(frame.headers["filename"])
            if os.path.exists(fname):
                fname = f"{fname}.{int(time.time())}"
            with open(fname, "wb") as f:
                f.write(content)
            frame = Frame(frame.cmd, frame.headers, f"Saved file: {fname}")
        self.__print_async("MESSAGE", frame)

    def on_error(self, frame: Frame) -> None:
        """Print an ERROR (and remember it for the exit status)."""
        self.error_received = True
        self.__after_error = True
        self.__print_async("ERROR", frame)

    def on_receipt(self, frame: Frame) -> None:
        """Print a RECEIPT (not the one of the final DISCONNECT)."""
        self.__after_error = False
        if not self.__leaving:
            self.__print_async("RECEIPT", frame)

    def on_connected(self, frame: Frame) -> None:
        """Print CONNECTED."""
        self.__print_async("CONNECTED", frame)

    def on_send(self, frame: Frame) -> None:
        """In verbose mode, show what is sent (passcode masked)."""
        if self.verbose:
            self.__sysout(f"Sending {frame}")

    # ------------------------------------------------------------------ commands

    def onecmd(self, line: str) -> bool:
        """Run one command; a refused command is reported, not fatal."""
        try:
            return bool(cmd.Cmd.onecmd(self, line))
        except (StompException, ValueError, TypeError) as exc:
            self.__error(str(exc))
            return False

    def default(self, line: str) -> None:
        """An unknown command."""
        self.__error(f"Unknown command: {line.split()[0]}")

    def emptyline(self) -> bool:
        """An empty line does nothing."""
        return False

    def help(self, usage: str, description: str, required: str = "", optional: str = "") -> None:
        """Print the help of one command."""
        lines = [("Usage", usage)]
        if required:
            lines.append(("Required", required))
        if optional:
            lines.append(("Optional", optional))
        lines.append(("Description", description))
        for name, text in lines:
            self.__print(f"{colours.BOLD}{colours.GREEN}{name}:{colours.NO_COLOUR} {text}")

    def __help(self, name: str) -> None:
        usage, required, optional, description = _HELP[name]
        self.help(usage, description, required, optional)

    def do_quit(self, args: str) -> bool:
        """Leave the command loop."""
        self.__quit = True
        self.__sysout("Shutting down, please wait")
        return True

    do_exit = do_quit
    do_EOF = do_quit

    def help_help(self) -> None:
        """Help of help."""
        self.help("help [command]", "Show the commands, or the help of one command.")

    def help_quit(self) -> None:
        """Help of quit."""
        self.__help("quit")

    help_exit = help_quit
    help_EOF = help_quit

    def do_subscribe(self, args: str) -> None:
        """subscribe <destination> [ack]."""
        words = args.split()
        if not words:
            self.__error("Expecting: subscribe <destination> [ack]")
            return
        name = words[0]
        if name in self.__subscriptions:
            self.__error(f"Already subscribed to {name}")
            return
        ack_mode = words[1] if len(words) > 1 else "auto"
        sid = str(self.__subscription_id)
        self.__subscription_id += 1
        self.__sysout(
            f"Subscribing to '{name}' with acknowledge set to '{ack_mode}', id set to '{sid}'"
        )
        self.conn.subscribe(destination=name, ack=ack_mode, id=sid)
        self.__subscriptions[name] = SubscriptionInfo(sid, ack_mode)

    def help_subscribe(self) -> None:
        """Help of subscribe."""
        self.__help("subscribe")

    def do_unsubscribe(self, args: str) -> None:
        """unsubscribe <destination>."""
        words = args.split()
        if not words:
            self.__error("Expecting: unsubscribe <destination>")
            return
        name = words[0]
        if name not in self.__subscriptions:
            self.__sysout(f"Subscription {name} not found")
            return
        info = self.__subscriptions.pop(name)
        self.__sysout(f"Unsubscribing from '{name}'")
        if self.nversion == "1.0":
            self.conn.unsubscribe(destination=name, id=info.id)
        else:
            self.conn.unsubscribe(info.id, headers={"destination": name})

    def help_unsubscribe(self) -> None:
        """Help of unsubscribe."""
        self.__help("unsubscribe")

    def __send(self, args: str, *, receipt: bool = False) -> None:
        words = args.split()
        if len(words) < 2:
            self.__error("Expecting: send <destination> <message>")
            return
        headers: dict[str, Any] = {}
        if receipt:
            headers["receipt"] = get_uuid()
        if self.transaction_id is not None:
            headers["transaction"] = self.transaction_id
        self.conn.send(words[0], " ".join(words[1:]), headers=headers)

    def do_send(self, args: str) -> None:
        """send <destination> <message>."""
        self.__send(args)

    def help_send(self) -> None:
        """Help of send."""
        self.__help("send")

    def do_sendrec(self, args: str) -> None:
        """sendrec <destination> <message>: the RECEIPT is printed when it arrives."""
        self.__send(args, receipt=True)

    def help_sendrec(self) -> None:
        """Help of sendrec."""
        self.__help("sendrec")

    def do_sendreply(self, args: str) -> None:
        """sendreply <destination> <correlation-id> <message>."""
        words = args.split()
        if len(words) < 3:
            self.__error("Expecting: sendreply <destination> <correlation-id> <message>")
            return
        self.conn.send(words[0], " ".join(words[2:]) + "\n", headers={"correlation-id": words[1]})

    def help_sendreply(self) -> None:
        """Help of sendreply."""
        self.__help("sendreply")

    def do_sendfile(self, args: str) -> None:
        """sendfile <destination> <filename> [headers.json]."""
        words = args.split()
        if len(words) < 2:
            self.__error("Expecting: sendfile <destination> <filename> [headers.json]")
            return
        if not os.path.exists(words[1]):
            self.__error(f"File {words[1]} does not exist")
            return
        headers: dict[str, Any] = {}
        # As stomp.py: a third argument names the headers file; more words (an inline
        # JSON object, say) leave the headers out.
        if len(words) == 3:
            if not os.path.exists(words[2]):
                self.__error(f"File {words[2]} does not exist")
                return
            self.__sysout(f"Loading {words[2]}")
            try:
                with open(words[2]) as f:
                    headers = dict(json.load(f))
            except (OSError, ValueError, TypeError) as exc:
                self.__error(f"Cannot read headers from {words[2]}: {exc}")
                return
            self.__sysout(f"Using headers {headers}")
        with open(words[1], "rb") as f:
            data = base64.b64encode(f.read()).decode()
        headers["filename"] = words[1]
        if self.transaction_id is not None:
            headers["transaction"] = self.transaction_id
        self.conn.send(words[0], data, headers=headers)

    def help_sendfile(self) -> None:
        """Help of sendfile."""
        self.__help("sendfile")

    def do_begin(self, args: str) -> None:
        """begin: open a transaction."""
        if self.transaction_id is not None:
            self.__error(f"Currently in a transaction ({self.transaction_id})")
            return
        self.transaction_id = self.conn.begin()
        self.__sysout(f"Transaction id: {self.transaction_id}")

    def help_begin(self) -> None:
        """Help of begin."""
        self.__help("begin")

    def do_commit(self, args: str) -> None:
        """commit: commit the open transaction."""
        if self.transaction_id is None:
            self.__error("Not currently in a transaction")
            return
        self.__sysout(f"Committing {self.transaction_id}")
        self.conn.commit(transaction=self.transaction_id)
        self.transaction_id = None

    def help_commit(self) -> None:
        """Help of commit."""
        self.__help("commit")

    def do_abort(self, args: str) -> None:
        """abort: roll back the open transaction."""
        if self.transaction_id is None:
            self.__error("Not currently in a transaction")
            return
        self.conn.abort(transaction=self.transaction_id)
        self.__sysout(f"Aborted transaction: {self.transaction_id}")
        self.transaction_id = None

    do_rollback = do_abort

    def help_abort(self) -> None:
        """Help of abort."""
        self.__help("abort")

    help_rollback = help_abort

    def check_ack_nack(
        self, acknackfunc: Callable[..., Any], args: Sequence[str]
    ) -> Callable[..., Any] | None:
        """``acknackfunc`` with the ids from ``args`` filled in, or ``None`` (error printed).

        1.1 needs the message id and the subscription id; 1.0 the message id; 1.2 the
        MESSAGE's ``ack`` header.
        """
        name = getattr(acknackfunc, "__name__", "ack")
        needed = 2 if self.nversion == "1.1" else 1
        if len(args) < needed:
            expected = {"1.1": "<message-id> <subscription-id>", "1.0": "<message-id>"}
            self.__error(f"Expecting: {name} {expected.get(self.nversion, '<ack-id>')}")
            return None
        return functools.partial(acknackfunc, *args[:needed])

    def __ack(self, args: str, *, nack: bool) -> None:
        if nack and self.nversion == "1.0":
            self.__error("nack is not available in STOMP 1.0")
            return
        call = self.check_ack_nack(self.conn.nack if nack else self.conn.ack, args.split())
        if call is not None:
            call(transaction=self.transaction_id)

    def do_ack(self, args: str) -> None:
        """ack <id> [subscription]."""
        self.__ack(args, nack=False)

    def help_ack(self) -> None:
        """Help of ack."""
        self.__help("ack")

    def do_nack(self, args: str) -> None:
        """nack <id> [subscription]."""
        self.__ack(args, nack=True)

    def help_nack(self) -> None:
        """Help of nack."""
        self.__help("nack")

    def do_stats(self, args: str) -> None:
        """stats [on|off]."""
        words = args.split()
        if not words:
            stats = self.conn.get_listener("stats")
            if stats is not None:
                self.__sysout(str(stats))
            else:
                self.__error("No stats available")
        elif words[0] == "on":
            self.conn.set_listener("stats", StatsListener())
        elif words[0] == "off":
            if self.conn.get_listener("stats") is not None:
                self.conn.remove_listener("stats")
        else:
            self.__error("Expecting: stats [on|off]")

    def help_stats(self) -> None:
        """Help of stats."""
        self.__help("stats")

    def do_run(self, args: str) -> None:
        """run <filename>: run each line as a command."""
        words = args.split()
        if not words:
            self.__error("Expecting: run <filename>")
            return
        if not os.path.exists(words[0]):
            self.__error(f"File {words[0]} was not found")
            return
        with open(words[0]) as f:
            for line in f:
                self.onecmd(line.rstrip("\n"))

    def help_run(self) -> None:
        """Help of run."""
        self.__help("run")

    def do_version(self, args: str) -> None:
        """version: the version and the protocol version, as stomp.py 9.0 prints them."""
        version = getattr(self.conn, "version", self.nversion)
        self.__sysout(
            f"{colours.BOLD}{__version__} [Protocol version {version}]{colours.NO_COLOUR}"
        )

    do_ver = do_version

    def help_version(self) -> None:
        """Help of version."""
        self.__help("version")

    help_ver = help_version

    def complete_destinations(
        self, text: str, line: str, begidx: int = 0, endidx: int = 0
    ) -> list[str]:
        """Tab completion of subscribed destinations (stomp.py's ``(text, line)`` too).

        readline hands over only the part after its last delimiter (``/`` is one), so
        the candidates are matched against the whole first argument of ``line`` and cut
        to what ``text`` stands for.
        """
        words = line.split(" ")
        typed = words[1] if len(words) > 1 else ""
        cut = len(typed) - len(text)
        return [name[cut:] for name in self.__subscriptions if name.startswith(typed)]

    complete_send = complete_destinations
    complete_sendrec = complete_destinations
    complete_sendreply = complete_destinations
    complete_sendfile = complete_destinations
    complete_unsubscribe = complete_destinations


def do_nothing_loop() -> None:
    """Block the calling thread for good (stomp.py's helper for listen-only scripts)."""
    forever = threading.Event()
    while not forever.wait(3600):
        pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stomp", description="A command-line STOMP client.", add_help=True
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("-H", "--host", default="localhost", help="broker host [localhost]")
    parser.add_argument("-P", "--port", default="61613", help="broker port [61613]")
    parser.add_argument("-U", "--user", default=None, help="user name")
    parser.add_argument(
        "-W", "--password", default=None, help="password (or the STOMP_PASSWORD variable)"
    )
    parser.add_argument("-F", "--file", default=None, help="run the commands in a file, then exit")
    parser.add_argument("-S", "--protocol", default="1.1", help="STOMP version: 1.0, 1.1, 1.2")
    parser.add_argument("-L", "--listen", default=None, help="listen to a destination and print")
    parser.add_argument("-V", "--verbose", action="store_true", help="print every header")
    parser.add_argument("--heartbeats", default="0,0", help="cx,cy in ms [0,0]")
    parser.add_argument("--ssl", action="store_true", help="connect with TLS")
    parser.add_argument("--ssl-key-file", default=None, help="client private key")
    parser.add_argument("--ssl-cert-file", default=None, help="client certificate")
    parser.add_argument("--ssl-ca-file", default=None, help="CA bundle to verify the broker")
    parser.add_argument(
        "--ssl-insecure", action="store_true", help="do not verify the broker's certificate"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command-line client; returns the exit status."""
    options = _parser().parse_args(argv)
    if options.version:
        # stomp.py prints its version alone; ours leads with the stomp.py API version it
        # implements (what stomp.__version__ says), then names the real distribution.
        print(f"{__version__} (stomp-sansio {sansio_version})")
        return 0
    if not heartbeat_pattern.match(options.heartbeats):
        print("Invalid heartbeats, expecting cx,cy")
        return 1
    cx, cy = (int(v) for v in options.heartbeats.split(","))
    password = options.password
    if password is None:
        password = os.environ.get("STOMP_PASSWORD", "")
    prompt = "" if options.listen else "> "  # stomp.py's choice, -F included
    try:
        client = StompCLI(
            options.host,
            int(options.port),
            options.user or "",
            password,
            options.protocol,
            prompt,
            options.verbose,
            (cx, cy) if options.protocol != "1.0" else (0, 0),
            options.ssl,
            options.ssl_key_file,
            options.ssl_cert_file,
            options.ssl_ca_file,
            options.ssl_insecure,
        )
    except (StompException, RuntimeError, ValueError, OSError) as exc:
        print(f"{colours.BOLD}{colours.RED}{exc}{colours.NO_COLOUR}", file=sys.stderr)
        return 1
    try:
        if options.listen:
            client.do_subscribe(options.listen)
            while client.conn.is_connected():
                time.sleep(0.5)  # listening is the whole job; Ctrl-C stops it
        elif options.file:
            client.do_run(options.file)
        else:
            # Ctrl-C must not kill the session half-way; quit or EOF leaves.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            client.cmdloop()
    except KeyboardInterrupt:
        pass
    finally:
        # Leaving is on purpose: no "lost connection" when the socket closes.
        client.quitting()
        client.conn.disconnect()
    # A broker ERROR (a refused frame, say) makes the run a failure for scripts.
    return 1 if client.error_received else 0


if __name__ == "__main__":
    sys.exit(main())
