"""The test deck: every layout, decodable by the codec, deterministic by seed."""

from __future__ import annotations

from hallgw_protocols.idcard_sam import (
    LONG_TERM,
    PHOTO_SIZE,
    CardType,
    ForeignPermanentResidentCard2023,
    ResidentCard,
    decode_text,
)
from hallgw_simulators.deck import PHOTO_MAGIC, Deck, build_deck

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check_char(number: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11]


def test_deck_has_the_required_cards(deck: Deck) -> None:
    assert {"resident-1", "resident-2", "fpr2017-1", "fpr2023-1", "hmt-1"} <= set(deck)
    types = {card.text.card_type for card in deck.values()}
    assert types == set(CardType)
    residents = [card.text for card in deck.values() if isinstance(card.text, ResidentCard)]
    assert len(residents) >= 2
    assert any(r.valid_until == LONG_TERM for r in residents)
    assert any(r.id_number.endswith("X") for r in residents)
    fpr2023 = deck["fpr2023-1"].text
    assert isinstance(fpr2023, ForeignPermanentResidentCard2023)
    assert len(fpr2023.english_name) > 35


def test_every_card_decodes_to_itself(deck: Deck) -> None:
    for card in deck.values():
        read = card.card_read()
        assert decode_text(read.text) == card.text, card.card_id
        assert len(read.photo) == PHOTO_SIZE
        assert read.photo.startswith(PHOTO_MAGIC)
        assert len(read.fingerprint) in (0, 512, 1024)
    assert {len(card.fingerprint) for card in deck.values()} == {0, 512, 1024}


def test_id_numbers_have_a_valid_shape(deck: Deck) -> None:
    for card in deck.values():
        number = getattr(card.text, "id_number", None)
        if number is None:
            continue
        assert len(number) == 18
        assert number[:17].isdigit()
        assert number[17] == _check_char(number), card.card_id
        sex_from_number = "1" if int(number[16]) % 2 else "2"
        assert card.text.sex_code == sex_from_number, card.card_id


def test_same_seed_same_bytes_other_seed_other_blobs() -> None:
    a, b, c = build_deck(5), build_deck(5), build_deck(6)
    for card_id in a:
        assert a[card_id].photo == b[card_id].photo
        assert a[card_id].fingerprint == b[card_id].fingerprint
        assert a[card_id].photo != c[card_id].photo
        assert a[card_id].text == c[card_id].text  # identities do not depend on the seed
    assert len({card.photo for card in a.values()}) == len(a)


def test_describe_and_repr_carry_no_personal_data(deck: Deck) -> None:
    sensitive = deck.sensitive_values()
    assert "110101198503152078" in sensitive
    assert "张晓样" in sensitive
    assert "VAN DER BERG-ALTENHOFF, WILLEM ALEXANDER" in sensitive
    public = repr(deck.describe()) + "".join(repr(card) for card in deck.values())
    assert not [value for value in sensitive if value in public]
    assert {entry["layout"] for entry in deck.describe()} == {t.name.lower() for t in CardType}
