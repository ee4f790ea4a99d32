"""The test deck: made-up identity cards of every layout a SAM returns.

Every identity here is invented. ID numbers have the right shape (18
characters, a valid ISO 7064 MOD 11-2 check character, the sex in the 17th
digit) so that a reader driver's validation passes, but they were made up for
these tests. Tests use :meth:`Deck.sensitive_values` to grep logs, telemetry and
diagnostics for any of these names and numbers: finding one is a leak.

Photos are 1024 bytes derived from the seed: they have the size of a WLT photo
and pass the protocol layer, but they are **not** decodable WLT data (that needs
the vendor's proprietary codec). They start with ``HALLSIM FAKE WLT`` so a dump
says what they are. Fingerprint blobs (0, 512 or 1024 bytes) are made the same
way and are not real templates either.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from typing import Final

from hallgw_protocols.idcard_sam import (
    PHOTO_SIZE,
    CardRead,
    CardText,
    ForeignPermanentResidentCard2017,
    ForeignPermanentResidentCard2023,
    ResidencePermitHMT,
    ResidentCard,
)

PHOTO_MAGIC: Final = b"HALLSIM FAKE WLT"
"""First bytes of every simulated photo, so nobody mistakes one for a real WLT."""

_IDENTITIES: Final[tuple[tuple[str, CardText, int], ...]] = (
    (
        "resident-1",
        ResidentCard(
            name="张晓样",
            sex_code="1",
            nation_code="01",
            birth_date="19850315",
            address="北京市东城区示例胡同12号",
            id_number="110101198503152078",
            issuing_authority="北京市公安局东城分局",
            valid_from="20150601",
            valid_until="20350601",
        ),
        1024,
    ),
    (
        # Long-term validity and an ID number whose check character is X.
        "resident-2",
        ResidentCard(
            name="欧阳雪测",
            sex_code="2",
            nation_code="03",
            birth_date="19601108",
            address="宁夏回族自治区银川市兴庆区样板路88号",
            id_number="64010419601108368X",
            issuing_authority="银川市公安局兴庆区分局",
            valid_from="20120410",
            valid_until="长期",
        ),
        512,
    ),
    (
        "fpr2017-1",
        ForeignPermanentResidentCard2017(
            english_name="LINDQVIST-OKAFOR, MAREN TESTA",
            sex_code="2",
            card_number="SWE110075030617",
            nationality="SWE",
            chinese_name="林玛伦",
            valid_from="20170601",
            valid_until="20270601",
            birth_date="19750306",
            card_version="01",
            authority_code="1100",
        ),
        0,
    ),
    (
        # English name longer than 35 characters: split across two fields on the card.
        "fpr2023-1",
        ForeignPermanentResidentCard2023(
            chinese_name="范德博",
            sex_code="1",
            renewal_count="00",
            birth_date="19900704",
            english_name="VAN DER BERG-ALTENHOFF, WILLEM ALEXANDER",
            card_number="952840199007041235",
            valid_from="20230915",
            valid_until="20330915",
            nationality="NLD",
            previous_card_link="",
        ),
        0,
    ),
    (
        "hmt-1",
        ResidencePermitHMT(
            name="陈样港",
            sex_code="2",
            birth_date="19921224",
            address="广东省深圳市福田区样例大道1号",
            id_number="810000199212240009",
            issuing_authority="深圳市公安局",
            valid_from="20230115",
            valid_until="20280115",
            travel_permit_number="H09876543",
            issue_count="01",
        ),
        1024,
    ),
)

_SENSITIVE_FIELDS: Final = (
    "name",
    "english_name",
    "chinese_name",
    "address",
    "id_number",
    "card_number",
    "travel_permit_number",
)


def _blob(seed: int, card_id: str, what: str, size: int) -> bytes:
    """``size`` bytes that depend only on (seed, card id, what)."""
    return hashlib.shake_256(f"hallsim/{seed}/{card_id}/{what}".encode()).digest(size)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DeckCard:
    """One card of the deck: its stable id, its text fields and its blobs."""

    card_id: str
    text: CardText
    photo: bytes
    fingerprint: bytes

    @property
    def layout(self) -> str:
        """The layout name used by the control protocol, e.g. ``resident``."""
        return self.text.card_type.name.lower()

    def card_read(self) -> CardRead:
        """What a SAM returns for this card."""
        return CardRead(text=self.text.to_text_block(), photo=self.photo, fingerprint=self.fingerprint)

    def sensitive_values(self) -> tuple[str, ...]:
        """Names and numbers of this card that must never appear in a log."""
        values = (getattr(self.text, name, "") for name in _SENSITIVE_FIELDS)
        return tuple(v for v in values if v)

    def __repr__(self) -> str:
        # Deliberately without personal fields, like the codec's CardRead.
        return f"DeckCard({self.card_id!r}, {self.layout})"


class Deck(Mapping[str, DeckCard]):
    """The cards a simulated reader can hold, by card id."""

    def __init__(self, cards: tuple[DeckCard, ...]) -> None:
        self._cards = {card.card_id: card for card in cards}

    def __getitem__(self, card_id: str) -> DeckCard:
        return self._cards[card_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cards)

    def __len__(self) -> int:
        return len(self._cards)

    def describe(self) -> list[dict[str, str]]:
        """Card ids and layouts only, safe to print or send over the control port."""
        return [{"id": card.card_id, "layout": card.layout} for card in self._cards.values()]

    def sensitive_values(self) -> tuple[str, ...]:
        """Every name and number in the deck, for leak checks."""
        return tuple(v for card in self._cards.values() for v in card.sensitive_values())


def build_deck(seed: int) -> Deck:
    """The built-in deck; the same seed gives byte-identical photos and fingerprints."""
    cards = []
    for card_id, text, fingerprint_size in _IDENTITIES:
        photo = PHOTO_MAGIC + _blob(seed, card_id, "photo", PHOTO_SIZE - len(PHOTO_MAGIC))
        fingerprint = _blob(seed, card_id, "fingerprint", fingerprint_size) if fingerprint_size else b""
        cards.append(DeckCard(card_id=card_id, text=text, photo=photo, fingerprint=fingerprint))
    return Deck(tuple(cards))
