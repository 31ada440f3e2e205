"""stomp.logging: stomp.py's module interface; passcodes never reach a log line."""

from __future__ import annotations

import logging as std_logging
import sys
from collections.abc import Iterator

import pytest

from stomp import logging
from stomp._masking import mask_passcodes
from stomp.utils import Frame


@pytest.fixture
def records() -> Iterator[list[std_logging.LogRecord]]:
    captured: list[std_logging.LogRecord] = []

    class Keep(std_logging.Handler):
        def emit(self, record: std_logging.LogRecord) -> None:
            captured.append(record)

    handler = Keep(level=std_logging.DEBUG)
    old_level = logging.logger.level
    logging.logger.addHandler(handler)
    logging.setLevel(logging.DEBUG)
    yield captured
    logging.logger.removeHandler(handler)
    logging.logger.setLevel(old_level)


def test_functions_log_to_the_stomppy_logger(records: list[std_logging.LogRecord]) -> None:
    logging.debug("d %s", 1)
    logging.info("i")
    logging.warning("w")
    logging.error("e")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.exception("x")
    assert [r.levelno for r in records] == [
        logging.DEBUG,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
        logging.ERROR,
    ]
    assert {r.name for r in records} == {"stomp.py"}
    assert records[0].getMessage() == "d 1"
    assert logging.isEnabledFor(logging.DEBUG)


@pytest.mark.parametrize(
    "message",
    [
        "sending frame: CONNECT\npasscode:hunter2\nlogin:u\n",
        "sending frame: b'CONNECT\\npasscode:hunter2\\nlogin:u\\n'",
        "headers {'login': 'u', 'passcode': 'hunter2'}",
        'headers {"passcode": "hunter2"}',
        "passcode: hunter2",
        "PASSCODE=hunter2",
    ],
)
def test_passcodes_are_masked(records: list[std_logging.LogRecord], message: str) -> None:
    logging.debug(message)
    logging.debug("%s", message)
    for record in records:
        assert "hunter2" not in record.getMessage()
        assert "********" in record.getMessage()


def test_frames_logged_as_args_are_masked(records: list[std_logging.LogRecord]) -> None:
    frame = Frame("CONNECT", {"passcode": "hunter2", "login": "u"})
    logging.info("frame %s headers %s", frame, frame.headers)
    assert "hunter2" not in records[0].getMessage()
    assert "login" in records[0].getMessage()


def test_mask_leaves_other_text_alone() -> None:
    text = "login:u\ndestination:/queue/passcodes\n"
    assert mask_passcodes(text) == text


def test_log_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    before = list(logging.logger.handlers)
    old_level = logging.logger.level
    try:
        logging.log_to_stdout(verbose_logging=True)
        assert logging.verbose is True
        logging.info("hello passcode:hunter2")
    finally:
        for handler in logging.logger.handlers[:]:
            if handler not in before:
                logging.logger.removeHandler(handler)
        logging.logger.setLevel(old_level)
        logging.verbose = False
    out = capsys.readouterr().out
    assert " - stomp.py - INFO - hello passcode:********" in out
    assert sys.stdout is not None
