"""The document reader driver against the real pcscd, vpcd and the simulated e-passport chip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from support.pcscd import READERS, VPCD_PORTS, Pcscd

from hallgw_daemon.core.errors import (
    BacDeniedError,
    ChipReadFailedError,
    DocumentRemovedError,
    GatewayError,
    NoDocumentError,
)
from hallgw_daemon.drivers import DriverContext
from hallgw_daemon.drivers.document import DocumentRead, DocumentReaderDriver, HashCheck, SignatureStatus
from hallgw_daemon.transports import LinkOpenError, PcscReader, open_transport, parse_link_url
from hallgw_protocols.icao9303 import LdsFile, parse_mrz
from hallgw_simulators.epassport_chip import EpassportChip
from hallgw_simulators.passport_deck import FACE_JP2, build_passport_deck, face_image, make_document
from hallgw_simulators.passport_pki import passport_pki
from hallgw_simulators.vpcd_card import VpcdCard

pytestmark = pytest.mark.timeout(60)
DECK = build_passport_deck()
Progress = list[tuple[str, str]]
Insert = Callable[[EpassportChip], Awaitable[None]]


@pytest.fixture
async def reader(pcscd: Pcscd) -> AsyncIterator[PcscReader]:
    transport = await open_transport(parse_link_url(f"pcsc://{READERS[0]}"))
    assert isinstance(transport, PcscReader)
    try:
        yield transport
    finally:
        await transport.close()


@pytest.fixture
async def driver(reader: PcscReader) -> DocumentReaderDriver:
    drv = DocumentReaderDriver(DriverContext(device_id="dr-test", command_timeout=2.0))
    drv.attach(reader)
    return drv


@pytest.fixture
async def insert() -> AsyncIterator[Insert]:
    cards: list[VpcdCard] = []

    async def put(chip: EpassportChip) -> None:
        card = VpcdCard(chip, port=VPCD_PORTS[0])
        cards.append(card)
        await card.insert()

    yield put
    for card in cards:
        await card.remove()
    await asyncio.sleep(0.5)  # pcscd notices the removal before the next test looks


async def read(driver: DocumentReaderDriver, doc_id: str, wait: float = 3.0) -> tuple[DocumentRead, Progress]:
    events: Progress = []
    loop = asyncio.get_running_loop()
    mrz = DECK[doc_id].mrz
    result = await driver.read_document(mrz, wait_until=loop.time() + wait, progress=lambda s, m: events.append((s, m)))
    return result, events


async def test_identify_names_the_reader(driver: DocumentReaderDriver) -> None:
    assert await driver.identify(timeout=2.0) == {"reader": READERS[0]}


async def test_open_unknown_reader_says_what_pcscd_has(pcscd: Pcscd) -> None:
    with pytest.raises(LinkOpenError, match=r"no such reader.*Virtual PCD 00 00"):
        await open_transport(parse_link_url("pcsc://No Such Reader"))


async def test_prefix_names_a_reader(pcscd: Pcscd) -> None:
    transport = await open_transport(parse_link_url("pcsc://Virtual PCD"))
    assert isinstance(transport, PcscReader)
    assert transport.name == READERS[0]
    await transport.close()


async def test_td3_read_verifies_every_hash(driver: DocumentReaderDriver, insert: Insert) -> None:
    doc = DECK["td3-uto-1"]
    await insert(EpassportChip(doc))
    result, events = await read(driver, "td3-uto-1")
    assert result.chip_mrz_matches
    assert result.hashes_ok
    assert dict(result.data_groups) == {1: HashCheck.MATCH, 2: HashCheck.MATCH}
    assert result.face is not None and result.face.jpeg.startswith(b"\xff\xd8")
    assert "READING_CHIP" in [s for s, _ in events]
    assert doc.mrz.document_number not in repr(result)


async def test_jpeg2000_face_comes_back_as_jpeg(driver: DocumentReaderDriver, insert: Insert) -> None:
    base = DECK["td3-uto-1"]
    doc = make_document("jp2", base.mrz, (face_image(FACE_JP2),))
    await insert(EpassportChip(doc))
    loop = asyncio.get_running_loop()
    result = await driver.read_document(doc.mrz, wait_until=loop.time() + 3, progress=lambda s, m: None)
    assert result.face is not None
    assert result.face.jpeg.startswith(b"\xff\xd8")
    assert result.face.chip_format.name == "JP2"
    assert (result.face.width, result.face.height) == (24, 32)


async def test_tampered_dg1_is_a_hash_mismatch(driver: DocumentReaderDriver, insert: Insert) -> None:
    base = DECK["td3-uto-1"]
    doc = make_document("tampered", base.mrz, tampered=frozenset({LdsFile.DG1}))
    await insert(EpassportChip(doc))
    loop = asyncio.get_running_loop()
    result = await driver.read_document(doc.mrz, wait_until=loop.time() + 3, progress=lambda s, m: None)
    assert dict(result.data_groups) == {1: HashCheck.MISMATCH, 2: HashCheck.MATCH}
    assert not result.hashes_ok


async def test_no_document_in_time(driver: DocumentReaderDriver) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(NoDocumentError):
        await driver.read_document(DECK["td3-uto-1"].mrz, wait_until=started + 0.5, progress=lambda s, m: None)
    assert 0.45 < loop.time() - started < 1.5


async def test_wrong_mrz_is_bac_denied(driver: DocumentReaderDriver, insert: Insert) -> None:
    others = [d for d in DECK if d != "td3-uto-1"]
    await insert(EpassportChip(DECK["td3-uto-1"]))
    with pytest.raises(BacDeniedError) as info:
        await read(driver, others[0])
    assert info.value.reason == "BAC_DENIED"


async def test_mac_error_is_chip_read_failed(driver: DocumentReaderDriver, insert: Insert) -> None:
    chip = EpassportChip(DECK["td3-uto-1"])
    await insert(chip)
    await asyncio.sleep(0.6)
    chip.faults.corrupt_next_mac = True
    with pytest.raises(ChipReadFailedError):
        await read(driver, "td3-uto-1")
    # The reader stays usable: the next read of the same document succeeds.
    result, _ = await read(driver, "td3-uto-1")
    assert result.hashes_ok


async def test_removed_mid_read(driver: DocumentReaderDriver, insert: Insert) -> None:
    chip = EpassportChip(DECK["td3-uto-1"])
    chip.faults.remove_after = 8
    await insert(chip)
    with pytest.raises(DocumentRemovedError):
        await read(driver, "td3-uto-1")


async def test_td1_card(driver: DocumentReaderDriver, insert: Insert) -> None:
    td1 = next(d for d in DECK.values() if d.mrz.format.name == "TD1")
    await insert(EpassportChip(td1))
    result, _ = await read(driver, td1.doc_id)
    assert result.chip_mrz_matches
    assert parse_mrz("\n".join(td1.mrz.lines)).format.name == "TD1"


def test_errors_are_gateway_errors() -> None:
    for cls in (BacDeniedError, ChipReadFailedError, DocumentRemovedError, NoDocumentError):
        assert issubclass(cls, GatewayError)


@pytest.fixture
def trusted() -> Iterator[None]:
    DocumentReaderDriver.cscas = (passport_pki().csca.certificate,)
    yield
    DocumentReaderDriver.cscas = ()


@pytest.mark.usefixtures("trusted")
async def test_signature_verified_with_the_csca(driver: DocumentReaderDriver, insert: Insert) -> None:
    await insert(EpassportChip(DECK["td3-uto-1"]))
    result, _ = await read(driver, "td3-uto-1")
    assert result.signature is SignatureStatus.VERIFIED, result.signature_message


@pytest.mark.usefixtures("trusted")
async def test_bad_signature_is_invalid(driver: DocumentReaderDriver, insert: Insert) -> None:
    base = DECK["td3-uto-1"]
    doc = make_document("bad-sig", base.mrz, bad_signature=True)
    await insert(EpassportChip(doc))
    loop = asyncio.get_running_loop()
    result = await driver.read_document(doc.mrz, wait_until=loop.time() + 3, progress=lambda s, m: None)
    assert result.signature is SignatureStatus.INVALID
    assert result.hashes_ok  # the hashes are right: only the signature is wrong


async def test_without_cscas_the_signature_is_not_verified(driver: DocumentReaderDriver, insert: Insert) -> None:
    await insert(EpassportChip(DECK["td3-uto-1"]))
    result, _ = await read(driver, "td3-uto-1")
    assert result.signature is SignatureStatus.NOT_VERIFIED
    assert "not verified" in result.signature_message
