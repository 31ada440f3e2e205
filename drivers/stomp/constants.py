"""Header and command names, as stomp.py spells them (spec 1.2 "Frames and Headers")."""

from __future__ import annotations

__all__ = [
    "CMD_ABORT",
    "CMD_ACK",
    "CMD_BEGIN",
    "CMD_COMMIT",
    "CMD_CONNECT",
    "CMD_DISCONNECT",
    "CMD_NACK",
    "CMD_SEND",
    "CMD_STOMP",
    "CMD_SUBSCRIBE",
    "CMD_UNSUBSCRIBE",
    "HDR_ACCEPT_VERSION",
    "HDR_ACK",
    "HDR_CONTENT_LENGTH",
    "HDR_CONTENT_TYPE",
    "HDR_DESTINATION",
    "HDR_HEARTBEAT",
    "HDR_HOST",
    "HDR_ID",
    "HDR_LOGIN",
    "HDR_MESSAGE_ID",
    "HDR_PASSCODE",
    "HDR_RECEIPT",
    "HDR_SUBSCRIPTION",
    "HDR_TRANSACTION",
]

HDR_ACCEPT_VERSION = "accept-version"
HDR_ACK = "ack"
HDR_CONTENT_LENGTH = "content-length"
HDR_CONTENT_TYPE = "content-type"
HDR_DESTINATION = "destination"
HDR_HEARTBEAT = "heart-beat"
HDR_HOST = "host"
HDR_ID = "id"
HDR_MESSAGE_ID = "message-id"
HDR_LOGIN = "login"
HDR_PASSCODE = "passcode"
HDR_RECEIPT = "receipt"
HDR_SUBSCRIPTION = "subscription"
HDR_TRANSACTION = "transaction"

CMD_ABORT = "ABORT"
CMD_ACK = "ACK"
CMD_BEGIN = "BEGIN"
CMD_COMMIT = "COMMIT"
CMD_CONNECT = "CONNECT"
CMD_DISCONNECT = "DISCONNECT"
CMD_NACK = "NACK"
CMD_SEND = "SEND"
CMD_STOMP = "STOMP"
CMD_SUBSCRIBE = "SUBSCRIBE"
CMD_UNSUBSCRIBE = "UNSUBSCRIBE"
