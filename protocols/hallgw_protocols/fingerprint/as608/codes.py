"""Instruction codes and confirmation codes (reference/protocols.md sections 2.3 and 2.4).

Marks are the reference's: a code marked [single source] is kept provisional;
the R503-only codes come from one manual transcription.
"""

from __future__ import annotations

import enum
from typing import Final


class Instruction(enum.IntEnum):
    """The first payload byte of a command packet."""

    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    LOAD_CHAR = 0x07
    UP_CHAR = 0x08
    DOWN_CHAR = 0x09
    UP_IMAGE = 0x0A
    DOWN_IMAGE = 0x0B
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    SET_SYS_PARA = 0x0E
    READ_SYS_PARA = 0x0F
    ENROLL = 0x10  # [single source] for the code (AS608 only)
    IDENTIFY = 0x11  # [single source] for the code (AS608 only)
    SET_PWD = 0x12
    VFY_PWD = 0x13
    GET_RANDOM_CODE = 0x14
    SET_ADDR = 0x15  # the ACK comes from the new address: [single source] (R503 manual)
    READ_INF_PAGE = 0x16
    PORT_CONTROL = 0x17  # pyfingerprint sends 17 00 and calls it a "handshake"
    WRITE_NOTEPAD = 0x18
    READ_NOTEPAD = 0x19
    BURN_CODE = 0x1A  # [single source] (AS608)
    HIGH_SPEED_SEARCH = 0x1B
    GEN_BIN_IMAGE = 0x1C  # [single source] (AS608)
    TEMPLATE_NUM = 0x1D
    USER_GPIO = 0x1E  # [single source] (AS608)
    READ_INDEX_TABLE = 0x1F
    GET_IMAGE_EX = 0x28  # [single source] (R503)
    CANCEL = 0x30  # [single source] (R503)
    AUTO_ENROLL = 0x31  # [single source] (R503)
    AUTO_IDENTIFY = 0x32  # [single source] (R503)
    AURA_LED_CONFIG = 0x35  # R503/R502
    CHECK_SENSOR = 0x36  # R503
    GET_ALG_VER = 0x39  # [single source] (R503)
    GET_FW_VER = 0x3A  # [single source] (R503)
    READ_PROD_INFO = 0x3C  # [single source] (R503)
    SOFT_RST = 0x3D  # R503; the module then emits the single byte 55
    HANDSHAKE = 0x40  # R503/R502
    GET_ECHO = 0x53  # [single source] (Adafruit naming); answered with confirmation 55


UPLOAD_INSTRUCTIONS: Final = frozenset({Instruction.UP_CHAR, Instruction.UP_IMAGE, Instruction.READ_INF_PAGE})
"""Instructions whose OK acknowledgement is followed by data packets from the module."""
DOWNLOAD_INSTRUCTIONS: Final = frozenset({Instruction.DOWN_CHAR, Instruction.DOWN_IMAGE})
"""Instructions whose OK acknowledgement invites the host to stream data packets."""


class Confirmation(enum.IntEnum):
    """The first payload byte of an acknowledge packet. [2+] unless the comment says otherwise."""

    OK = 0x00
    RECEIVE_ERROR = 0x01
    NO_FINGER = 0x02
    ENROLL_FAILED = 0x03
    IMAGE_TOO_DRY = 0x04  # AS608
    IMAGE_TOO_WET = 0x05  # AS608
    IMAGE_TOO_MESSY = 0x06
    TOO_FEW_FEATURES = 0x07
    NO_MATCH = 0x08
    NOT_FOUND = 0x09
    COMBINE_FAILED = 0x0A
    BAD_PAGE_ID = 0x0B
    BAD_TEMPLATE = 0x0C
    UPLOAD_TEMPLATE_FAILED = 0x0D
    CANNOT_RECEIVE_DATA = 0x0E
    UPLOAD_IMAGE_FAILED = 0x0F
    DELETE_FAILED = 0x10
    CLEAR_FAILED = 0x11
    LOW_POWER_FAILED = 0x12  # AS608
    WRONG_PASSWORD = 0x13
    RESET_FAILED = 0x14  # AS608
    NO_VALID_IMAGE = 0x15
    UPGRADE_FAILED = 0x16  # AS608
    RESIDUAL_FINGER = 0x17  # AS608
    FLASH_ERROR = 0x18
    UNDEFINED_ERROR = 0x19
    BAD_REGISTER = 0x1A
    BAD_REGISTER_CONFIG = 0x1B
    BAD_NOTEPAD_PAGE = 0x1C
    PORT_FAILED = 0x1D
    AUTO_ENROLL_FAILED = 0x1E  # AS608
    LIBRARY_FULL = 0x1F
    BAD_ADDRESS = 0x20
    PASSWORD_REQUIRED = 0x21
    TEMPLATE_EMPTY = 0x22  # [single source] (R503)
    LIBRARY_EMPTY = 0x24  # [single source] (R503)
    TIMEOUT = 0x26  # [single source] (R503)
    ALREADY_EXISTS = 0x27  # [single source] (R503)
    SENSOR_ERROR = 0x29  # [single source] (R503)
    ECHO = 0x55  # [single source]: the answer to GetEcho (53), Adafruit naming
    DATA_RECEIVED = 0xF0  # AS608
    DATA_COMMAND_ACK = 0xF1  # AS608
    BURN_CHECKSUM_ERROR = 0xF2  # AS608
    BURN_HEADER_ERROR = 0xF3  # AS608
    BURN_LENGTH_ERROR = 0xF4  # AS608
    BURN_CODE_TOO_LONG = 0xF5  # AS608
    BURN_FAILED = 0xF6  # AS608
    UNSUPPORTED = 0xFC  # [single source] (R503)
    HARDWARE_ERROR = 0xFD  # [single source] (R503)
    EXECUTION_FAILED = 0xFE  # [single source] (R503)


CONFIRMATION_TEXT: Final[dict[Confirmation, str]] = {
    Confirmation.OK: "OK (or: ready to transfer the following data packets)",
    Confirmation.RECEIVE_ERROR: "the module could not receive the packet",
    Confirmation.NO_FINGER: "no finger on the sensor",
    Confirmation.ENROLL_FAILED: "failed to capture the finger",
    Confirmation.IMAGE_TOO_DRY: "image too dry or faint",
    Confirmation.IMAGE_TOO_WET: "image too wet or blurred",
    Confirmation.IMAGE_TOO_MESSY: "image too messy to make features",
    Confirmation.TOO_FEW_FEATURES: "too few feature points, or image too small (GetImageEx: poor quality)",
    Confirmation.NO_MATCH: "the fingers do not match",
    Confirmation.NOT_FOUND: "no matching finger found in the library",
    Confirmation.COMBINE_FAILED: "failed to combine the character files (enroll mismatch)",
    Confirmation.BAD_PAGE_ID: "page id beyond the library",
    Confirmation.BAD_TEMPLATE: "error reading the template, or invalid template",
    Confirmation.UPLOAD_TEMPLATE_FAILED: "error uploading the template",
    Confirmation.CANNOT_RECEIVE_DATA: "the module cannot receive the following data packets",
    Confirmation.UPLOAD_IMAGE_FAILED: "error uploading the image",
    Confirmation.DELETE_FAILED: "failed to delete the template",
    Confirmation.CLEAR_FAILED: "failed to clear the library",
    Confirmation.LOW_POWER_FAILED: "cannot enter the low-power state",
    Confirmation.WRONG_PASSWORD: "wrong password",
    Confirmation.RESET_FAILED: "system reset failed",
    Confirmation.NO_VALID_IMAGE: "no valid primary image in the buffer",
    Confirmation.UPGRADE_FAILED: "online upgrade failed",
    Confirmation.RESIDUAL_FINGER: "residual fingerprint, or the finger did not move between captures",
    Confirmation.FLASH_ERROR: "flash read/write error",
    Confirmation.UNDEFINED_ERROR: "undefined error",
    Confirmation.BAD_REGISTER: "invalid register number",
    Confirmation.BAD_REGISTER_CONFIG: "incorrect register configuration",
    Confirmation.BAD_NOTEPAD_PAGE: "wrong notepad page number",
    Confirmation.PORT_FAILED: "failed to operate the communication port",
    Confirmation.AUTO_ENROLL_FAILED: "automatic enroll failed",
    Confirmation.LIBRARY_FULL: "the library is full",
    Confirmation.BAD_ADDRESS: "address code incorrect",
    Confirmation.PASSWORD_REQUIRED: "the password must be verified first",
    Confirmation.TEMPLATE_EMPTY: "the template is empty",
    Confirmation.LIBRARY_EMPTY: "the library is empty",
    Confirmation.TIMEOUT: "timeout",
    Confirmation.ALREADY_EXISTS: "the fingerprint already exists",
    Confirmation.SENSOR_ERROR: "sensor hardware error",
    Confirmation.ECHO: "echo (the module is alive)",
    Confirmation.DATA_RECEIVED: "command with following data packets received OK",
    Confirmation.DATA_COMMAND_ACK: "command with following data packets: command packet acknowledged",
    Confirmation.BURN_CHECKSUM_ERROR: "flash burn: checksum error",
    Confirmation.BURN_HEADER_ERROR: "flash burn: header or packet identifier error",
    Confirmation.BURN_LENGTH_ERROR: "flash burn: length error",
    Confirmation.BURN_CODE_TOO_LONG: "flash burn: code too long",
    Confirmation.BURN_FAILED: "flash burn failed",
    Confirmation.UNSUPPORTED: "unsupported command",
    Confirmation.HARDWARE_ERROR: "hardware error",
    Confirmation.EXECUTION_FAILED: "command execution failed",
}


def confirmation_text(code: int) -> str:
    """Human text for a confirmation code, known or not."""
    try:
        return CONFIRMATION_TEXT[Confirmation(code)]
    except ValueError:
        return f"unknown confirmation code 0x{code:02X}"
