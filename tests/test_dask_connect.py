"""Dask addresses: every wait bounded, one clear line, the client closed (issue 15, class 4).

The peers are on 127.0.0.1 only: a listener that accepts and never speaks, a closed port,
and a real scheduler without workers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("distributed")

from symsde.cli import main
from symsde.dask_backend import _address, connect
from symsde.errors import BackendError, InputError


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A TCP listener on 127.0.0.1 that accepts connections and never writes a byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                accepted.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join(5)
    for c in accepted:
        c.close()
    srv.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_silent_listener_is_bounded_by_the_timeout(silent_listener: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=r"no Dask scheduler answered .* within 1 s"):
        connect(silent_listener, timeout=1.0)
    assert time.monotonic() - t0 < 6


def test_the_cli_with_a_silent_listener(silent_listener: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.monotonic()
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths",
                 "100", "--steps", "10", "--backend", "dask", "--scheduler", silent_listener,
                 "--timeout", "2"])
    out, err = capsys.readouterr()
    assert time.monotonic() - t0 < 10
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no Dask scheduler answered" in err
    assert "Traceback" not in err


def test_a_closed_port_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    code = main(["simulate", "--state", "x", "--drift", "-x", "--diffusion", "1", "--paths",
                 "100", "--steps", "10", "--backend", "dask", "--scheduler", address,
                 "--timeout", "2"])
    _, err = capsys.readouterr()
    assert time.monotonic() - t0 < 10
    assert code == 2 and err.count("\n") == 1 and "could not connect" in err
    assert "Traceback" not in err and "__del__" not in err


@pytest.mark.parametrize(("address", "message"), [
    ("tls://127.0.0.1:8786", "tls:// needs certificates"),
    ("ucx://127.0.0.1:8786", "ucx:// is not supported"),
    ("inproc://x", "inproc:// is not supported"),
    ("tcp://127.0.0.1", "not of the form"),
    ("tcp://127.0.0.1:0", "not of the form"),
    ("tcp://host:port/path:1", "not of the form"),
    ("", "empty"),
])
def test_addresses_symsde_cannot_use_are_refused_at_once(address: str, message: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(InputError, match=message):
        _address(address)
    assert time.monotonic() - t0 < 1


def test_a_scheduler_without_workers_is_bounded() -> None:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, processes=False, protocol="tcp://", host="127.0.0.1",
                           dashboard_address=None)
    try:
        t0 = time.monotonic()
        with pytest.raises(BackendError, match="has no workers"):
            connect(cluster.scheduler_address, timeout=1.5)
        assert time.monotonic() - t0 < 8
        # and with a worker it connects (the same address, so the check can pass)
        cluster.scale(1)
        client = connect(cluster.scheduler_address, timeout=30)
        try:
            assert client.status == "running"
        finally:
            client.close()
    finally:
        cluster.close()
