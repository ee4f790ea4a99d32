"""The SAM reader model, sans-IO: the transaction order and the card faults."""

from __future__ import annotations

import pytest

from hallgw_protocols.idcard_sam import (
    FIND_CARD_DATA,
    SELECT_CARD_DATA,
    Command,
    CommandCode,
    Status,
    parse_card_read,
    parse_sam_id,
)
from hallgw_simulators.deck import Deck
from hallgw_simulators.idcard_reader import SamReaderModel, UnknownCardError, sam_id_for


def _model(deck: Deck, card: str | None = "resident-1") -> SamReaderModel:
    return SamReaderModel(deck=deck, sam_id=sam_id_for(1, "idr-01"), card=card)


def _sw3(model: SamReaderModel, code: CommandCode, data: bytes = b"") -> int:
    return model.handle(Command.of(code, data)).sw3


def test_typical_transaction(deck: Deck) -> None:
    model = _model(deck)
    assert _sw3(model, CommandCode.SAM_STATUS) == Status.OK
    find = model.handle(Command.of(CommandCode.FIND_CARD))
    assert (find.sw3, find.data) == (Status.FIND_CARD_OK, FIND_CARD_DATA)
    select = model.handle(Command.of(CommandCode.SELECT_CARD))
    assert (select.sw3, select.data) == (Status.OK, SELECT_CARD_DATA)
    read = model.handle(Command.of(CommandCode.READ_TEXT_PHOTO))
    assert read.sw3 == Status.OK
    assert len(read.to_bytes()) == 1295
    assert parse_card_read(read.data, with_fingerprint=False).text == deck["resident-1"].text.to_text_block()
    sam = model.handle(Command.of(CommandCode.READ_SAM_ID))
    assert sam.sw3 == Status.OK
    assert parse_sam_id(sam.data) == model.sam_id


@pytest.mark.parametrize(("card_id", "size"), [("resident-1", 2321), ("resident-2", 1809), ("fpr2017-1", 1297)])
def test_fingerprint_read_sizes(deck: Deck, card_id: str, size: int) -> None:
    model = _model(deck, card_id)
    _sw3(model, CommandCode.FIND_CARD)
    _sw3(model, CommandCode.SELECT_CARD)
    response = model.handle(Command.of(CommandCode.READ_TEXT_PHOTO_FINGERPRINT))
    assert response.sw3 == Status.OK
    assert len(response.to_bytes()) == size


def test_order_rules(deck: Deck) -> None:
    model = _model(deck)
    assert _sw3(model, CommandCode.SELECT_CARD) == Status.SELECT_CARD_FAILED  # no find yet
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.READ_FAILED  # no select yet
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_OK
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.READ_FAILED  # found, not selected
    assert _sw3(model, CommandCode.SELECT_CARD) == Status.OK
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.OK
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.OK  # selection stays for the same card
    assert _sw3(model, CommandCode.RESET_SAM) == Status.OK
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.READ_FAILED  # reset drops the selection


def test_empty_reader_and_card_changes(deck: Deck) -> None:
    model = _model(deck, None)
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_FAILED
    assert _sw3(model, CommandCode.SELECT_CARD) == Status.SELECT_CARD_FAILED
    model.insert("hmt-1")
    assert model.describe() == {"card": "hmt-1", "found": False, "selected": False}
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_OK
    assert _sw3(model, CommandCode.SELECT_CARD) == Status.OK
    model.insert("resident-2")  # a new card must be found and selected again
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.READ_FAILED
    with pytest.raises(UnknownCardError, match="nope"):
        model.insert("nope")


def test_remove_mid_read(deck: Deck) -> None:
    model = _model(deck)
    _sw3(model, CommandCode.FIND_CARD)
    _sw3(model, CommandCode.SELECT_CARD)
    model.faults.remove_mid_read = True
    assert _sw3(model, CommandCode.READ_TEXT_PHOTO) == Status.READ_FAILED
    assert model.card is None
    assert not model.faults.remove_mid_read
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_FAILED


def test_no_card_and_selftest_fail(deck: Deck) -> None:
    model = _model(deck)
    model.faults.no_card = True
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_FAILED
    assert model.card is not None
    model.faults.no_card = False
    assert _sw3(model, CommandCode.FIND_CARD) == Status.FIND_CARD_OK
    model.faults.selftest_fail = True
    for code in (CommandCode.SAM_STATUS, CommandCode.SELECT_CARD, CommandCode.READ_SAM_ID):
        assert _sw3(model, code) == Status.SELF_TEST_FAILED


def test_unknown_and_malformed_commands(deck: Deck) -> None:
    model = _model(deck)
    assert model.handle(Command(cmd=0x77, para=0x01)).sw3 == Status.COMMAND_ERROR
    assert _sw3(model, CommandCode.SAM_STATUS, b"\x01") == Status.COMMAND_ERROR
    assert _sw3(model, CommandCode.READ_CARD_MID) == Status.COMMAND_ERROR
    assert _sw3(model, CommandCode.SET_BAUD_9600) == Status.OK
    assert _sw3(model, CommandCode.SET_MAX_RF_FRAME, b"\x50") == Status.OK
    assert _sw3(model, CommandCode.SET_MAX_RF_FRAME) == Status.COMMAND_ERROR
    assert _sw3(model, CommandCode.READ_APPENDED_ADDRESS) == Status.READ_FAILED
    assert model.bad_frame().sw3 == Status.HOST_CHECKSUM_ERROR


def test_sam_id_depends_on_seed_and_device() -> None:
    assert sam_id_for(1, "idr-01") == sam_id_for(1, "idr-01")
    assert sam_id_for(1, "idr-01") != sam_id_for(1, "idr-02")
    assert sam_id_for(1, "idr-01") != sam_id_for(2, "idr-01")
