"""The virtual e-passport chip, driven in process by the reader's side of the codec."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.icao9303 import (
    BacDeniedError,
    BacKeys,
    CommandApdu,
    ImageFormat,
    LdsFile,
    MutualAuthentication,
    ResponseApdu,
    SecureMessaging,
    UnprotectedStatusError,
    compose_mrz,
    get_challenge,
    parse_challenge,
    parse_dg1,
    parse_dg2,
    parse_ef_com,
    parse_sod,
    read_binary,
    select_application,
    select_file,
)
from hallgw_protocols.icao9303.tlv import tlv_size
from hallgw_simulators.epassport_chip import ATR, MAX_SM_READ, EpassportChip, Sw
from hallgw_simulators.passport_deck import (
    FACE_JP2,
    FACE_JPEG,
    PassportDeck,
    PassportDocument,
    build_passport_deck,
)

DECK = build_passport_deck()
RND_IFD = bytes.fromhex("781723860C06C226")
K_IFD = bytes.fromhex("0B795240CB7049B01C19B33E32804F0B")
READ_ORDER = (LdsFile.COM, LdsFile.SOD, LdsFile.DG1, LdsFile.DG2)


def send(chip: EpassportChip, command: CommandApdu) -> ResponseApdu:
    raw = chip.transmit(command.to_bytes())
    assert raw is not None
    return ResponseApdu.from_bytes(raw)


def bac(chip: EpassportChip, keys: BacKeys) -> SecureMessaging:
    """SELECT, GET CHALLENGE and EXTERNAL AUTHENTICATE as a reader does them."""
    assert send(chip, select_application()).ok
    rnd_icc = parse_challenge(send(chip, get_challenge()))
    auth = MutualAuthentication(keys=keys, rnd_icc=rnd_icc, rnd_ifd=RND_IFD, k_ifd=K_IFD)
    return SecureMessaging(auth.complete(send(chip, auth.command())))


def exchange(chip: EpassportChip, sm: SecureMessaging, command: CommandApdu) -> ResponseApdu:
    raw = chip.transmit(sm.wrap(command))
    assert raw is not None
    return sm.unwrap(raw)


def read_file(chip: EpassportChip, sm: SecureMessaging, which: LdsFile, chunks: list[int] | None = None) -> bytes:
    """SELECT then READ BINARY until the TLV's length is read; chunk sizes cycle through ``chunks``."""
    assert exchange(chip, sm, select_file(which.fid)).ok
    sizes = chunks or [MAX_SM_READ]
    data = b""
    total: int | None = None
    while total is None or len(data) < total:
        want = sizes[len(data) % len(sizes)] if total is None else min(sizes[len(data) % len(sizes)], total - len(data))
        response = exchange(chip, sm, read_binary(len(data), want))
        assert response.sw in (0x9000, 0x6282)
        assert response.data
        data += response.data
        if total is None:
            size = tlv_size(data)
            total = size if isinstance(size, int) else None
    return data


def read_all(doc: PassportDocument, chunks: list[int] | None = None, seed: int = 1) -> dict[LdsFile, bytes]:
    chip = EpassportChip(doc, seed=seed)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    return {which: read_file(chip, sm, which, chunks) for which in READ_ORDER}


@pytest.mark.parametrize("doc_id", list(DECK))
def test_full_read_every_hash_checked(doc_id: str) -> None:
    doc = DECK[doc_id]
    files = read_all(doc)
    assert files == dict(doc.files)
    com = parse_ef_com(files[LdsFile.COM])
    assert com.data_groups == (LdsFile.DG1, LdsFile.DG2)
    assert parse_dg1(files[LdsFile.DG1]) == doc.mrz
    (face,) = parse_dg2(files[LdsFile.DG2])
    assert face.sniffed in (ImageFormat.JPEG, ImageFormat.JP2)
    assert face.is_jpeg2000 is (face.sniffed is ImageFormat.JP2)
    sod = parse_sod(files[LdsFile.SOD])
    assert sod.matches(1, files[LdsFile.DG1])
    assert sod.matches(2, files[LdsFile.DG2]) is (LdsFile.DG2 not in doc.tampered)


def test_deck_has_the_documents_later_tests_need() -> None:
    formats = {doc.mrz.format.name for doc in DECK.values()}
    assert formats == {"TD1", "TD3"}
    assert len({doc.mrz.issuing_state for doc in DECK.values()}) >= 3
    faces = {parse_dg2(doc.file(LdsFile.DG2))[0].sniffed for doc in DECK.values()}
    assert faces == {ImageFormat.JPEG, ImageFormat.JP2}
    tampered = [doc for doc in DECK.values() if doc.tampered]
    assert [doc.tampered for doc in tampered] == [frozenset({LdsFile.DG2})]
    algorithms = {parse_sod(doc.file(LdsFile.SOD)).hash_name for doc in DECK.values()}
    assert algorithms == {"sha1", "sha256"}
    assert "td3-uto-1" in repr(DECK["td3-uto-1"])
    for doc in DECK.values():
        assert not any(value in repr(doc) for value in doc.sensitive_values())
        assert all(line in doc.sensitive_values() for line in doc.mrz.lines)


def test_images_are_real_jpeg_and_jpeg2000() -> None:
    # Baseline JPEG: SOI, a SOF0 frame of 32 x 24, EOI.
    assert FACE_JPEG.startswith(b"\xff\xd8") and FACE_JPEG.endswith(b"\xff\xd9")
    sof = FACE_JPEG.index(b"\xff\xc0")
    assert FACE_JPEG[sof + 5 : sof + 9] == bytes.fromhex("00200018")
    # JP2: signature box, ftyp "jp2 ", a codestream box starting SOC SIZ and ending EOC.
    assert FACE_JP2.startswith(bytes.fromhex("0000000C6A5020200D0A870A")) and FACE_JP2[20:24] == b"jp2 "
    stream = FACE_JP2[FACE_JP2.index(b"jp2c") + 4 :]
    assert stream.startswith(b"\xff\x4f\xff\x51") and stream.endswith(b"\xff\xd9")


def test_images_decode_with_libjpeg_and_openjpeg(tmp_path: Path) -> None:
    grey = subprocess.run(["djpeg", "-pnm"], input=FACE_JPEG, capture_output=True, check=True, timeout=10).stdout
    assert grey.startswith(b"P5\n24 32\n255\n")
    (tmp_path / "face.jp2").write_bytes(FACE_JP2)
    subprocess.run(
        ["opj_decompress", "-i", str(tmp_path / "face.jp2"), "-o", str(tmp_path / "face.pgm")],
        capture_output=True,
        check=True,
        timeout=10,
    )
    pgm = (tmp_path / "face.pgm").read_bytes()
    assert pgm.startswith(b"P5\n") and b"\n24 32\n255\n" in pgm[:40]
    assert len(pgm) - pgm.index(b"\n255\n") - 5 == 24 * 32


def test_reads_are_repeatable_by_seed_and_differ_across_seeds() -> None:
    doc = DECK["td3-uto-1"]
    challenges = []
    for seed in (1, 1, 2):
        chip = EpassportChip(doc, seed=seed)
        send(chip, select_application())
        challenges.append(send(chip, get_challenge()).data)
    assert challenges[0] == challenges[1] != challenges[2]


@pytest.mark.parametrize("denied_sw", [Sw.BAC_DENIED, Sw.SECURITY_STATUS])
def test_wrong_mrz_is_refused(denied_sw: Sw) -> None:
    doc = DECK["td3-uto-1"]
    other = DECK["td3-can-1"]
    chip = EpassportChip(doc, denied_sw=denied_sw)
    with pytest.raises(BacDeniedError):
        bac(chip, BacKeys.from_mrz(other.mrz))
    assert not chip.authenticated
    # The printed MRZ, with one date changed, is refused as well.
    typo = compose_mrz(
        format=doc.mrz.format,
        document_code="P",
        issuing_state=doc.mrz.issuing_state,
        document_number=doc.mrz.document_number,
        nationality=doc.mrz.nationality,
        birth_date="880215",
        sex=doc.mrz.sex,
        expiry_date=doc.mrz.expiry_date,
        primary_identifier="X",
        secondary_identifier="Y",
    )
    with pytest.raises(BacDeniedError):
        bac(chip, BacKeys.from_mrz(typo))
    # and the right one still works after refusals.
    bac(chip, BacKeys.from_mrz(doc.mrz))
    assert chip.authenticated


def test_refuse_bac_fault() -> None:
    doc = DECK["td1-uto-card"]
    chip = EpassportChip(doc)
    chip.faults.refuse_bac = True
    with pytest.raises(BacDeniedError):
        bac(chip, BacKeys.from_mrz(doc.mrz))
    chip.faults.refuse_bac = False
    bac(chip, BacKeys.from_mrz(doc.mrz))


def test_files_are_closed_before_bac() -> None:
    chip = EpassportChip(DECK["td3-uto-1"])
    assert send(chip, select_application()).ok
    assert send(chip, select_file(LdsFile.COM.fid)).sw == Sw.SECURITY_STATUS
    assert send(chip, read_binary(0, 4)).sw == Sw.SECURITY_STATUS
    # A protected command without a session is refused too.
    assert send(chip, CommandApdu(cla=0x0C, ins=0xB0, p1=0, p2=0, data=bytes.fromhex("970104"), le=256)).sw == (
        Sw.SECURITY_STATUS
    )


def test_external_authenticate_without_challenge_or_with_bad_length() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    send(chip, select_application())
    auth = MutualAuthentication(keys=BacKeys.from_mrz(doc.mrz), rnd_icc=bytes(8), rnd_ifd=RND_IFD, k_ifd=K_IFD)
    assert send(chip, auth.command()).sw == Sw.CONDITIONS_OF_USE
    send(chip, get_challenge())
    assert send(chip, CommandApdu(cla=0, ins=0x82, p1=0, p2=0, data=bytes(39), le=40)).sw == Sw.WRONG_LENGTH
    # The challenge was used up by the failed attempt.
    assert send(chip, auth.command()).sw == Sw.CONDITIONS_OF_USE


def test_status_words_inside_the_session() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    assert exchange(chip, sm, read_binary(0, 4)).sw == Sw.NO_CURRENT_EF
    assert exchange(chip, sm, select_file(LdsFile.DG3.fid)).sw == Sw.NOT_FOUND
    assert exchange(chip, sm, select_file(LdsFile.COM.fid)).ok
    size = len(doc.file(LdsFile.COM))
    assert exchange(chip, sm, read_binary(size, 1)).sw == Sw.WRONG_OFFSET
    assert exchange(chip, sm, read_binary(0, MAX_SM_READ + 1)).sw == Sw.WRONG_LENGTH
    # Odd offset, and a read running past the end answers what is there with 62 82.
    tail = exchange(chip, sm, read_binary(size - 3, 8))
    assert (tail.sw, tail.data) == (Sw.END_OF_FILE, doc.file(LdsFile.COM)[-3:])
    assert exchange(chip, sm, CommandApdu(cla=0, ins=0xCA, p1=0, p2=0, le=4)).sw == Sw.INS_NOT_SUPPORTED
    # READ BINARY by short file identifier selects DG1 and reads at offset P2.
    by_sfi = exchange(chip, sm, CommandApdu(cla=0, ins=0xB0, p1=0x80 | LdsFile.DG1.sfi, p2=5, le=10))
    assert by_sfi.data == doc.file(LdsFile.DG1)[5:15]
    assert chip.selected_file is LdsFile.DG1
    assert exchange(chip, sm, CommandApdu(cla=0, ins=0xB0, p1=0x80 | 0x0F, p2=0, le=1)).sw == Sw.NOT_FOUND
    # The session is still good after all those errors.
    assert read_file(chip, sm, LdsFile.DG1) == doc.file(LdsFile.DG1)


def test_wrong_command_mac_ends_the_session() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    wrapped = bytearray(sm.wrap(select_file(LdsFile.COM.fid)))
    wrapped[-2] ^= 0x01  # last byte of DO'8E'
    raw = chip.transmit(bytes(wrapped))
    assert raw == bytes.fromhex("6988")
    with pytest.raises(UnprotectedStatusError) as err:
        sm.unwrap(raw)
    assert err.value.sw == 0x6988
    assert not chip.authenticated
    # Missing objects: a protected command whose body is not DO'87'/DO'97'/DO'8E'.
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    assert chip.transmit(bytes.fromhex("0CA4020C03800100")) == bytes.fromhex("6987")
    assert not chip.authenticated


def test_plain_command_inside_a_session_ends_it() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    assert send(chip, select_file(LdsFile.COM.fid)).sw == Sw.SECURITY_STATUS
    assert not chip.authenticated
    with pytest.raises(UnprotectedStatusError):
        exchange(chip, sm, select_file(LdsFile.COM.fid))


def test_corrupt_next_mac_fault() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    chip.faults.corrupt_next_mac = True
    with pytest.raises(RemoteProtocolError, match="MAC"):
        exchange(chip, sm, select_file(LdsFile.COM.fid))
    assert not chip.faults.corrupt_next_mac
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    assert read_file(chip, sm, LdsFile.COM) == doc.file(LdsFile.COM)


def test_removed_chip_does_not_answer_until_inserted() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    chip.remove()
    assert chip.transmit(sm.wrap(select_file(LdsFile.COM.fid))) is None
    assert chip.transmit(select_application().to_bytes()) is None
    chip.insert()
    assert not chip.authenticated
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    assert read_file(chip, sm, LdsFile.DG1) == doc.file(LdsFile.DG1)


def test_removed_mid_read() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    sm = bac(chip, BacKeys.from_mrz(doc.mrz))
    chip.faults.remove_after = 2
    assert exchange(chip, sm, select_file(LdsFile.DG2.fid)).ok
    assert exchange(chip, sm, read_binary(0, 0x20)).ok
    assert chip.transmit(sm.wrap(read_binary(0x20, 0x20))) is None
    assert chip.faults.removed


def test_malformed_and_unknown_plain_commands() -> None:
    chip = EpassportChip(DECK["td3-uto-1"])
    assert chip.transmit(b"\x00\xa4") == bytes.fromhex("6700")
    assert chip.transmit(bytes.fromhex("00A4040C05A00000")) == bytes.fromhex("6700")
    assert send(chip, select_application(bytes.fromhex("A000000003000000"))).sw == Sw.NOT_FOUND
    assert send(chip, CommandApdu(cla=0x80, ins=0xCA, p1=0, p2=0, le=1)).sw == Sw.CLA_NOT_SUPPORTED
    assert send(chip, CommandApdu(cla=0x00, ins=0xCA, p1=0, p2=0, le=1)).sw == Sw.INS_NOT_SUPPORTED
    assert send(chip, CommandApdu(cla=0x00, ins=0x84, p1=0, p2=0, le=16)).sw == Sw.WRONG_LENGTH
    assert chip.atr == ATR == bytes.fromhex("3B80800101")


def test_reset_drops_the_session() -> None:
    doc = DECK["td3-uto-1"]
    chip = EpassportChip(doc)
    bac(chip, BacKeys.from_mrz(doc.mrz))
    chip.reset()
    assert not chip.authenticated
    assert chip.selected_file is None


@settings(max_examples=25, deadline=None)
@given(
    doc_id=st.sampled_from(sorted(DECK)),
    chunks=st.lists(st.integers(1, MAX_SM_READ), min_size=1, max_size=5),
    seed=st.integers(0, 2**32),
)
def test_any_chunk_sizes_read_the_same_files(doc_id: str, chunks: list[int], seed: int) -> None:
    doc = DECK[doc_id]
    files = read_all(doc, chunks, seed)
    assert files == dict(doc.files)
    sod = parse_sod(files[LdsFile.SOD])
    assert sod.matches(1, files[LdsFile.DG1])
    assert sod.matches(2, files[LdsFile.DG2]) is (LdsFile.DG2 not in doc.tampered)


def test_deck_is_a_mapping() -> None:
    assert isinstance(DECK, PassportDeck)
    assert len(DECK.describe()) == len(DECK) == 5
    assert all(value for value in DECK.sensitive_values())
