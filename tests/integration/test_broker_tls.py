"""STOMP over TLS to ActiveMQ, per driver: verification works, and refuses what it must.

Ports (scripts/brokers/start-activemq.sh): ``ssl_port`` authenticates the broker only,
``mtls_port`` also requires a client certificate signed by the test CA.  The expired
server certificate is shown by a TLS front end (``tls_frontend.py``) relaying to the
same ActiveMQ, because ActiveMQ has a single key store for all its ports.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable

import pytest
from adapter_api import ConnectRefused, Driver, Session, TlsOptions
from broker_env import Broker, TlsFiles
from tls_frontend import TlsFrontend

pytestmark = pytest.mark.integration

WAIT = 10.0

TlsOptionsFn = Callable[..., TlsOptions]
Closing = Callable[[Session], Session]


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _verification_failure(exc: BaseException) -> str:
    """Why certificate verification failed, from the exception chain or its messages.

    Drivers may chain the :class:`ssl.SSLCertVerificationError` (then its
    ``verify_message`` is used) or only quote it in their own message.
    """
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"CERTIFICATE_VERIFY_FAILED {cause.verify_message} (code {cause.verify_code})"
    text = " | ".join(str(cause) for cause in _causes(exc))
    assert "CERTIFICATE_VERIFY_FAILED" in text, f"not a verification failure: {text}"
    return text


def _round_trip(session: Session) -> None:
    queue = f"/queue/stomp-it.tls.{uuid.uuid4().hex[:12]}"
    session.subscribe(queue, "s1", receipt="sub-1")
    session.send(queue, b"over TLS", receipt="send-1")
    message = session.get_message(WAIT)
    assert message is not None
    assert message.body == b"over TLS"


def test_tls_with_verification(
    driver: Driver, activemq: Broker, version: str, tls_options: TlsOptionsFn, closing: Closing
) -> None:
    assert activemq.ssl_port is not None
    session = closing(
        driver.connect(activemq, version=version, port=activemq.ssl_port, tls=tls_options())
    )
    assert session.version == version
    _round_trip(session)
    assert session.disconnect(receipt="bye-1", timeout=WAIT)


def test_tls_by_name_localhost(
    driver: Driver, activemq: Broker, tls_options: TlsOptionsFn, closing: Closing
) -> None:
    # The certificate names localhost as well as 127.0.0.1 (hostname checking is on).
    assert activemq.ssl_port is not None
    by_name = Broker(**{**activemq.__dict__, "host": "localhost"})
    session = closing(
        driver.connect(by_name, version="1.2", port=activemq.ssl_port, tls=tls_options())
    )
    _round_trip(session)


def test_tls_wrong_ca_is_refused(
    driver: Driver, activemq: Broker, tls_files: TlsFiles, tls_options: TlsOptionsFn
) -> None:
    assert activemq.ssl_port is not None
    with pytest.raises(ConnectRefused) as caught:
        driver.connect(
            activemq,
            version="1.2",
            port=activemq.ssl_port,
            tls=tls_options(ca_file=tls_files.wrong_ca),
        )
    reason = _verification_failure(caught.value)
    assert "expired" not in reason


def test_tls_expired_server_certificate_is_refused(
    driver: Driver, activemq: Broker, tls_files: TlsFiles, tls_options: TlsOptionsFn
) -> None:
    target = (activemq.host, activemq.port)
    with (
        TlsFrontend(tls_files.expired_cert, tls_files.expired_key, target) as frontend,
        pytest.raises(ConnectRefused) as caught,
    ):
        driver.connect(activemq, version="1.2", port=frontend.port, tls=tls_options())
    reason = _verification_failure(caught.value)
    assert "certificate has expired" in reason


def test_tls_frontend_with_valid_certificate_works(
    driver: Driver,
    activemq: Broker,
    tls_files: TlsFiles,
    tls_options: TlsOptionsFn,
    closing: Closing,
) -> None:
    # The control for the expired case: same front end, valid certificate, success.
    with TlsFrontend(
        tls_files.broker_cert, tls_files.broker_key, (activemq.host, activemq.port)
    ) as frontend:
        session = closing(
            driver.connect(activemq, version="1.2", port=frontend.port, tls=tls_options())
        )
        _round_trip(session)
        assert session.disconnect(receipt="bye-2", timeout=WAIT)


def test_mutual_tls_with_client_certificate(
    driver: Driver,
    activemq: Broker,
    tls_files: TlsFiles,
    tls_options: TlsOptionsFn,
    closing: Closing,
) -> None:
    assert activemq.mtls_port is not None
    tls = tls_options(cert_file=tls_files.client_cert, key_file=tls_files.client_key)
    session = closing(driver.connect(activemq, version="1.2", port=activemq.mtls_port, tls=tls))
    _round_trip(session)


@pytest.mark.parametrize("client_cert", ["none", "expired"])
def test_mutual_tls_refuses_missing_or_expired_client_certificate(
    driver: Driver,
    activemq: Broker,
    tls_files: TlsFiles,
    tls_options: TlsOptionsFn,
    client_cert: str,
) -> None:
    assert activemq.mtls_port is not None
    if client_cert == "expired":
        tls = tls_options(cert_file=tls_files.expired_cert, key_file=tls_files.expired_key)
    else:
        tls = tls_options()
    with pytest.raises(ConnectRefused) as caught:
        driver.connect(activemq, version="1.2", port=activemq.mtls_port, tls=tls)
    # The broker rejects us with a TLS alert (during the handshake with TLS 1.2, at the
    # first read with TLS 1.3); the same port accepts the valid client certificate
    # (test above), so the certificate is what made the difference.
    assert caught.value is not None
