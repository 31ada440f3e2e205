"""The ``stomp`` command-line client against the embedded broker."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_stomp_support import WAIT

import stomp
from stomp.__main__ import StompCLI, main
from stomp_broker import run_broker_in_thread


class Output(io.StringIO):
    """stdout for the CLI: lets a test wait until some text was printed."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()

    def write(self, text: str) -> int:
        with self.cond:
            n = super().write(text)
            self.cond.notify_all()
            return n

    def wait_for(self, text: str, timeout: float = WAIT) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: text in self.getvalue(), timeout), self.getvalue()


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_cli_session(version: str, tmp_path: Path) -> None:
    with run_broker_in_thread() as broker:
        out = Output()
        cli = StompCLI(broker.host, broker.port, ver=version, stdout=out, verbose=False)
        if version == "1.0":
            cli.onecmd("subscribe /queue/cli client-individual")
            out.wait_for("ack mode 'client-individual' does not exist in STOMP 1.0")
        cli.onecmd("subscribe /queue/cli client")
        # stomp.py 9.0's text, quotes included: scripts parse it.
        sid = "2" if version == "1.0" else "1"  # the refused subscribe above took id 1
        out.wait_for(
            f"Subscribing to '/queue/cli' with acknowledge set to 'client', id set to '{sid}'"
        )
        cli.onecmd("subscribe /queue/cli")
        out.wait_for("Already subscribed to /queue/cli")
        cli.onecmd("send /queue/cli hello  world")
        out.wait_for("hello world")
        assert "message-id: " in out.getvalue()
        cli.onecmd("begin")
        out.wait_for("Transaction id: ")
        cli.onecmd("begin")
        out.wait_for("Currently in a transaction")
        cli.onecmd("sendrec /queue/cli in-tx")
        cli.onecmd("commit")
        out.wait_for("Committing ")
        out.wait_for("in-tx")
        out.wait_for("RECEIPT" if cli.verbose else "\n")
        cli.onecmd("commit")
        out.wait_for("Not currently in a transaction")
        cli.onecmd("begin")
        cli.onecmd("rollback")
        out.wait_for("Aborted transaction: ")
        cli.onecmd("stats")
        out.wait_for("No stats available")
        cli.onecmd("stats on")
        cli.onecmd("stats")
        out.wait_for("Connections: 0")
        cli.onecmd("stats off")
        payload = tmp_path / "data.bin"
        payload.write_bytes(b"\x00\x01binary")
        cli.onecmd(f"sendfile /queue/cli {payload}")
        out.wait_for("Saved file: ")
        saved = Path(out.getvalue().split("Saved file: ")[1].split()[0])
        assert saved.read_bytes() == b"\x00\x01binary"
        commands = tmp_path / "commands.txt"
        commands.write_text("send /queue/cli from-file\n")
        cli.onecmd(f"run {commands}")
        out.wait_for("from-file")
        cli.onecmd("nosuchcommand x")
        out.wait_for("Unknown command: nosuchcommand")
        cli.onecmd("version")
        out.wait_for(f"{stomp.__version__} [Protocol version {version}]")
        cli.onecmd("help send")
        out.wait_for("Usage:")
        cli.onecmd("unsubscribe /queue/cli")
        out.wait_for("Unsubscribing from '/queue/cli'")
        cli.onecmd("unsubscribe /queue/cli")
        out.wait_for("Subscription /queue/cli not found")
        assert cli.onecmd("quit") is True
        out.wait_for("Shutting down, please wait")
        cli.conn.disconnect()
        assert "lost connection" not in out.getvalue()


def test_cli_ack_nack_verbose() -> None:
    with run_broker_in_thread() as broker:
        out = Output()
        cli = StompCLI(broker.host, broker.port, ver="1.2", stdout=out, verbose=True)
        cli.onecmd("subscribe /queue/acks client-individual")
        cli.onecmd("send /queue/acks one")
        out.wait_for("ack: ")
        ack_id = out.getvalue().split("\nack: ")[1].split()[0]
        cli.onecmd(f"nack {ack_id}")
        out.wait_for("redelivered: true")
        ack_id = out.getvalue().split("\nack: ")[-1].split()[0]
        cli.onecmd(f"ack {ack_id}")
        assert "Sending {cmd=SEND" in out.getvalue()
        cli.do_quit("")
        cli.conn.disconnect()


def test_cli_rejects_an_unknown_version() -> None:
    with pytest.raises(RuntimeError, match="Unknown version"):
        StompCLI(ver="2.0", stdout=Output())


def test_main_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"9.0.0 (stomp-sansio {stomp.sansio_version})\n"
    assert main(["--heartbeats", "x"]) == 1
    assert "Invalid heartbeats, expecting cx,cy" in capsys.readouterr().out
    with run_broker_in_thread() as broker:
        commands = tmp_path / "c.txt"
        commands.write_text("send /queue/main hi\n")
        status = main(["-H", broker.host, "-P", str(broker.port), "-S", "1.2", "-F", str(commands)])
        assert status == 0
    assert main(["-H", "127.0.0.1", "-P", "1"]) == 1  # nobody listens: a clean error


def test_python_dash_m_stomp() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stomp", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("9.0.0 (stomp-sansio ")


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stomp", *args], capture_output=True, text=True, timeout=60
    )


def test_exit_status_is_1_after_a_broker_error(tmp_path: Path) -> None:
    refused = tmp_path / "refused.txt"
    refused.write_text("ack no-such-ack-id\n")  # the broker answers with ERROR
    fine = tmp_path / "fine.txt"
    fine.write_text("send /queue/cli-status hello\n")
    with run_broker_in_thread() as broker:
        address = ["-H", broker.host, "-P", str(broker.port), "-S", "1.2"]
        failed = _run_cli(*address, "-F", str(refused))
        passed = _run_cli(*address, "-F", str(fine))
    assert failed.returncode == 1, failed
    assert passed.returncode == 0, passed
    # The run ended on purpose: no "lost connection" when the socket closes.
    assert "lost connection" not in passed.stdout + passed.stderr
    assert "lost connection" not in failed.stdout + failed.stderr


def test_a_broker_closing_after_its_error_is_not_a_lost_connection() -> None:
    # Spec 1.2 "ERROR": the server closes the connection after an ERROR.  The CLI prints
    # the ERROR, then says that the broker closed the connection, not "lost connection"
    # (which a -F run ending at the same time would race with).
    with run_broker_in_thread() as broker:
        out = Output()
        cli = StompCLI(broker.host, broker.port, ver="1.2", stdout=out, verbose=False)
        cli.onecmd("ack no-such-ack-id")
        out.wait_for("the broker closed the connection after its ERROR")
        assert cli.error_received
        assert "lost connection" not in out.getvalue()
        cli.conn.disconnect()


def test_the_first_prompt_is_printed_once() -> None:
    with run_broker_in_thread() as broker:
        out = Output()
        commands = io.StringIO("quit\n")
        cli = StompCLI(broker.host, broker.port, ver="1.2", stdin=commands, stdout=out)
        out.wait_for("CONNECTED")
        cli.use_rawinput = False
        cli.cmdloop()
        cli.conn.disconnect()
    before_quit = out.getvalue().split("Shutting down, please wait")[0]
    assert before_quit.count("> ") == 1, before_quit


def test_completion_takes_stomp_py_arguments() -> None:
    with run_broker_in_thread() as broker:
        cli = StompCLI(broker.host, broker.port, ver="1.2", stdout=Output(), verbose=False)
        cli.onecmd("subscribe /queue/alpha")
        cli.onecmd("subscribe /queue/beta")
        # stomp.py's call, (text, line), and cmd's, whose text starts after the last "/".
        assert cli.complete_send("/queue/a", "send /queue/a") == ["/queue/alpha"]
        assert cli.complete_send(text="b", line="send /queue/b") == ["beta"]
        assert cli.complete_unsubscribe("al", "unsubscribe /queue/al", 19, 21) == ["alpha"]
        cli.do_quit("")
        cli.conn.disconnect()
