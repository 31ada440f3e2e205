"""TLS in the blocking driver: verification on by default, verify=False, SNI, bad files."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_stomp_connection import Recorder, graceful_end
from test_stomp_heartbeat import SelectProbe
from test_stomp_support import WAIT, FakeServer, Peer, fake_server

import stomp
from stomp.exception import ConnectFailedException, NotConnectedException

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Throw-away CA, broker and client certificates (the project's own script)."""
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "brokers" / "make-certs.sh")],
        env={**os.environ, "STOMP_TEST_CERT_DIR": str(directory)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


def server_context(certs: Path, *, client_ca: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs / "broker.pem", certs / "broker.key")
    if client_ca:
        context.load_verify_locations(certs / "ca.pem")
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def with_sni(context: ssl.SSLContext, names: list[str | None]) -> ssl.SSLContext:
    def record(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = record  # type: ignore[assignment]
    return context


def ok_script(peer: Peer) -> None:
    peer.connected()
    graceful_end(peer)


def test_verified_with_ca_certs_and_sni(certs: Path) -> None:
    names: list[str | None] = []
    with fake_server(ok_script, tls=with_sni(server_context(certs), names)) as server:
        address = ("localhost", server.port)
        conn = stomp.Connection([address], timeout=WAIT, try_loopback_connect=False)
        conn.set_ssl([address], ca_certs=str(certs / "ca.pem"))
        assert conn.get_ssl(address) is not None
        assert conn.get_ssl(address)["verify"] is True  # type: ignore[index]
        conn.connect(wait=True)
        assert conn.is_connected()
        assert conn.get_ssl() is not None  # the current host's settings
        conn.disconnect()
    assert names == ["localhost"]


def test_unknown_ca_is_refused_by_default(certs: Path) -> None:
    server = FakeServer(ok_script, tls=server_context(certs))
    try:
        conn = stomp.Connection([server.address], timeout=WAIT, reconnect_attempts_max=1)
        conn.set_ssl([server.address])  # no ca_certs: the system store, which lacks our CA
        with pytest.raises(ConnectFailedException, match="CERTIFICATE_VERIFY_FAILED"):
            conn.connect(wait=True)
    finally:
        server.close(check=False)


def test_wrong_ca_is_refused(certs: Path) -> None:
    server = FakeServer(ok_script, tls=server_context(certs))
    try:
        conn = stomp.Connection([server.address], timeout=WAIT, reconnect_attempts_max=1)
        conn.set_ssl([server.address], ca_certs=str(certs / "wrong-ca.pem"))
        with pytest.raises(ConnectFailedException):
            conn.connect(wait=True)
    finally:
        server.close(check=False)


def test_verify_false_opts_out(certs: Path) -> None:
    with fake_server(ok_script, tls=server_context(certs)) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_ssl([server.address], verify=False)
        conn.connect(wait=True)
        conn.disconnect()


def test_client_certificate_and_validator(certs: Path) -> None:
    seen: list[str] = []

    def validator(cert: dict[str, object], host: str) -> tuple[bool, str]:
        seen.append(host)
        return True, ""

    with fake_server(ok_script, tls=server_context(certs, client_ca=True)) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_ssl(
            key_file=str(certs / "client.key"),
            cert_file=str(certs / "client.pem"),
            ca_certs=str(certs / "ca.pem"),
            cert_validator=validator,
        )  # no for_hosts: every host
        conn.connect(wait=True)
        conn.disconnect()
    assert seen == ["127.0.0.1"]


def test_validator_can_refuse(certs: Path) -> None:
    server = FakeServer(ok_script, tls=server_context(certs))
    try:
        conn = stomp.Connection([server.address], timeout=WAIT, reconnect_attempts_max=1)
        conn.set_ssl(
            [server.address],
            ca_certs=str(certs / "ca.pem"),
            cert_validator=lambda cert, host: (False, "not this one"),
        )
        with pytest.raises(ConnectFailedException, match="not this one"):
            conn.connect(wait=True)
    finally:
        server.close(check=False)


def test_missing_certificate_file_fails_the_connect_at_once(tmp_path: Path) -> None:
    # As stomp.py, set_ssl only stores the settings (the file may be created later);
    # unlike stomp.py's retry loop, a file still missing at connect fails at once.
    conn = stomp.Connection([("127.0.0.1", 1)], reconnect_attempts_max=-1)
    missing = str(tmp_path / "nope.pem")
    conn.set_ssl(cert_file=missing)
    assert conn.get_ssl(("127.0.0.1", 1))["cert_file"] == missing
    started = time.monotonic()
    with pytest.raises(ConnectFailedException, match="cert_file") as info:
        conn.connect(wait=True)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert info.value.__cause__.filename == missing
    assert time.monotonic() - started < 1


def test_certificate_files_may_appear_after_set_ssl(certs: Path, tmp_path: Path) -> None:
    ca_later = tmp_path / "ca.pem"
    with fake_server(ok_script, tls=server_context(certs)) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_ssl([server.address], ca_certs=str(ca_later), ssl_version="not checked yet")
        conn.set_ssl([server.address], ca_certs=str(ca_later))
        ca_later.write_bytes((certs / "ca.pem").read_bytes())
        conn.connect(wait=True)
        conn.disconnect()
    # After the disconnect, get_ssl() still answers for the host last connected to.
    assert conn.get_ssl() is not None
    assert conn.get_ssl()["ca_certs"] == str(ca_later)


def test_unusable_tls_settings_fail_the_connect_at_once() -> None:
    conn = stomp.Connection([("127.0.0.1", 1)], reconnect_attempts_max=-1)
    conn.set_ssl(cert_validator="not callable")  # stored as given, like stomp.py
    started = time.monotonic()
    with pytest.raises(ConnectFailedException, match="cert_validator"):
        conn.connect(wait=True)
    assert time.monotonic() - started < 1


def test_passes_ssl_version(certs: Path) -> None:
    with fake_server(ok_script, tls=server_context(certs)) as server:
        conn = stomp.Connection([server.address], timeout=WAIT)
        conn.set_ssl(
            [server.address], ca_certs=str(certs / "ca.pem"), ssl_version=ssl.PROTOCOL_TLS_CLIENT
        )
        conn.connect(wait=True)
        conn.disconnect()
    assert sys.version_info >= (3, 10)


def test_a_tls_write_the_broker_never_takes_fails_after_the_timeout(certs: Path) -> None:
    # TLS keeps Python's socket timeout (reads switch the socket to non-blocking).
    finished = threading.Event()

    def script(peer: Peer) -> None:
        peer.connected()
        assert finished.wait(WAIT)

    with fake_server(script, tls=server_context(certs)) as server:
        conn = stomp.Connection([server.address], timeout=1)
        conn.set_ssl([server.address], verify=False)
        conn.connect(wait=True)
        started = time.monotonic()
        with pytest.raises(NotConnectedException, match="stopped reading"):
            conn.send("/q", b"x" * (64 * 1024 * 1024))
        elapsed = time.monotonic() - started
        finished.set()
        conn.disconnect()
    assert 0.9 < elapsed < WAIT


def test_tls_reads_wait_in_select(certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A readable TLS socket may hold no application data (a session ticket), so unlike
    # plain TCP (test_plain_tcp_reads_wait_in_recv_...) the I/O thread waits in select.
    probe = SelectProbe()
    monkeypatch.setattr(stomp._session, "select", probe)

    def script(peer: Peer) -> None:
        peer.connected()
        peer.send_frame("MESSAGE", {"subscription": "1", "message-id": "1", "destination": "/q"})
        graceful_end(peer)

    recorder = Recorder()
    with fake_server(script, tls=server_context(certs)) as server:
        address = ("localhost", server.port)
        conn = stomp.Connection([address], timeout=WAIT, try_loopback_connect=False)
        conn.set_ssl([address], ca_certs=str(certs / "ca.pem"))
        conn.set_listener("r", recorder)
        conn.connect(wait=True)
        recorder.wait_for("message")
        conn.disconnect()
    assert probe.calls > 0
