"""Finding a broker: dial the hosts in order, complete the STOMP handshake, and follow the
reconnect policy (the core's backoff) between rounds.

A *round* tries every host once; every failed host counts as one attempt
(``stomp_core/_backoff.py``).  An ERROR frame answering CONNECT is the broker's deliberate
refusal (bad credentials, unknown virtual host) and is never retried.
"""

from __future__ import annotations

import random
import ssl as _ssl
from collections.abc import Callable, Mapping

import trio

import stomp_core
from stomp_core.client import (
    ConnectFailed,
    Endpoint,
    ProtocolViolation,
    ReconnectPolicy,
    build_connect,
    use_tls,
)

from ._link import TRANSPORT_ERRORS, Link
from ._transport import StreamFactory, make_ssl_context, open_tcp_stream

__all__ = ["Dialer"]


class _Refused(Exception):
    """The broker answered CONNECT with ERROR: stop dialling."""

    def __init__(self, error: ConnectFailed) -> None:
        super().__init__(str(error))
        self.error = error


class Dialer:
    """Makes :class:`~stomp_trio._link.Link` objects for one client.

    Args:
        endpoints: the brokers, tried in order.
        login, passcode, vhost, heartbeats, headers: what goes into CONNECT.
        ssl: the user's TLS setting (see :func:`~stomp_trio._transport.make_ssl_context`).
        connect_timeout: bound on dialling plus the TLS handshake (the wait for CONNECTED
            is the core's own ``config.connect_timeout``).
        config: the core configuration of every link.
        reconnect: the policy; ``None`` makes one round and gives up.
        stream_factory: the user's transport, or ``None`` for TCP.

    Raises:
        ValueError: bad CONNECT headers, or a ``stomp+ssl://`` URL with ``ssl=False``.
    """

    def __init__(
        self,
        endpoints: list[Endpoint],
        *,
        login: str | None,
        passcode: str | None,
        vhost: str | None,
        heartbeats: tuple[int, int],
        headers: Mapping[str, str] | None,
        ssl: _ssl.SSLContext | bool | None,
        connect_timeout: float,
        config: stomp_core.Config,
        reconnect: ReconnectPolicy | None,
        stream_factory: StreamFactory | None,
    ) -> None:
        self._endpoints = endpoints
        self._login = login
        self._passcode = passcode
        self._vhost = vhost
        self._heartbeats = heartbeats
        self._headers = dict(headers) if headers else {}
        self._tls = None if ssl is None else bool(ssl)
        self._ssl_context = make_ssl_context(ssl)
        self._connect_timeout = connect_timeout
        self._config = config
        self._reconnect = reconnect
        self._stream_factory = stream_factory
        # attempts_max=0: without a policy the single round is never followed by a wait.
        self._schedule = (reconnect or ReconnectPolicy(attempts_max=0)).schedule(random.random)
        self._links = 0
        # Refuse bad arguments now rather than at the first dial.
        for endpoint in endpoints:
            use_tls(endpoint, self._tls)
        self._connect_event(endpoints[0])

    def _connect_event(self, endpoint: Endpoint) -> stomp_core.Connect:
        return build_connect(
            vhost=self._vhost,
            login=self._login,
            passcode=self._passcode,
            versions=self._config.versions,
            heartbeats=self._heartbeats,
            headers=self._headers,
        )

    async def _open_stream(self, endpoint: Endpoint) -> trio.abc.Stream:
        context = None
        if use_tls(endpoint, self._tls):
            context = self._ssl_context or make_ssl_context(True)
        if self._stream_factory is None:
            return await open_tcp_stream(endpoint.host, endpoint.port, ssl_context=context)
        stream = await self._stream_factory(endpoint.host, endpoint.port)
        if context is None:
            return stream
        # TLS stacks on whatever stream the factory made.
        tls = trio.SSLStream(stream, context, server_hostname=endpoint.host)
        try:
            await tls.do_handshake()
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return tls

    async def attempt(self, endpoint: Endpoint) -> tuple[Link, stomp_core.Connected]:
        """Dial one broker and complete the STOMP handshake.

        Raises:
            ConnectFailed: this broker could not be used.
            _Refused: the broker answered CONNECT with ERROR.
        """
        try:
            # Dialling and TLS are not STOMP waits, so the core cannot time them.
            with trio.fail_after(self._connect_timeout):
                stream = await self._open_stream(endpoint)
        except trio.TooSlowError:
            raise ConnectFailed(
                f"connecting to {endpoint} took longer than {self._connect_timeout:g} s"
            ) from None
        except TRANSPORT_ERRORS as exc:
            raise ConnectFailed(f"could not connect to {endpoint}: {exc}") from exc
        self._links += 1
        core = stomp_core.Connection(stomp_core.CLIENT, self._config)
        link = Link(stream, core, endpoint, self._links)
        try:
            answer = await link.handshake(self._connect_event(endpoint))
        except ProtocolViolation as exc:
            await trio.aclose_forcefully(stream)
            raise ConnectFailed(f"{endpoint}: {exc}") from exc
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        if isinstance(answer, stomp_core.Error):
            await trio.aclose_forcefully(stream)
            raise _Refused(ConnectFailed.from_error(answer))
        return link, answer

    async def establish(
        self,
        *,
        first: bool,
        on_failure: Callable[[Endpoint, ConnectFailed, int], None],
    ) -> tuple[Link, stomp_core.Connected]:
        """Connect to the first broker that answers, following the reconnect policy.

        Args:
            first: the client's first connection (retried only with
                ``ReconnectPolicy.retry_first_connect``).
            on_failure: called with the endpoint, the error and the attempt count after
                each failed attempt.

        Raises:
            ConnectFailed: every attempt failed and the policy gave up, or the broker
                refused with ERROR.
        """
        policy = self._reconnect
        retry = policy is not None and (not first or policy.retry_first_connect)
        schedule = self._schedule
        last: BaseException | None = None
        while True:
            for endpoint in self._endpoints:
                if retry and schedule.exhausted:
                    break
                try:
                    result = await self.attempt(endpoint)
                except _Refused as exc:
                    raise exc.error from None
                except ConnectFailed as exc:
                    last = exc
                    schedule.record_failure()
                    on_failure(endpoint, exc, schedule.attempts)
                    continue
                schedule.reset()
                return result
            delay = schedule.next_delay() if retry else None
            if delay is None:
                attempts = schedule.attempts
                schedule.reset()
                error = ConnectFailed(f"could not connect after {attempts} attempt(s): {last}")
                raise error from last
            await trio.sleep(delay)
