"""Masking of personal data in everything hallctl prints.

Names, ID and card numbers, addresses and dates of birth are personal
information (PIPL art. 28). hallctl runs on screens that applicants and
passers-by can see, and its output ends up in tickets and chat logs, so it
masks them unless the engineer passes ``--show-pii``. What is kept is just
enough to tell two cards apart at a glance: a name's first character, the first
3 and last 2 characters of a number (region prefix and check digits), the year
of birth.
"""

from __future__ import annotations

MASK = "*"
ADDRESS_MASK = "***"


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``; a one-character name is masked whole."""
    if len(name) <= 1:
        return MASK * len(name)
    return name[0] + MASK * (len(name) - 1)


def mask_number(number: str) -> str:
    """``370102199003071234`` -> ``370*************34``.

    Numbers too short to keep 3 + 2 characters and still hide something are
    masked whole.
    """
    if len(number) <= 5:
        return MASK * len(number)
    return number[:3] + MASK * (len(number) - 5) + number[-2:]


def mask_address(address: str) -> str:
    """Any address -> ``***`` (empty stays empty, so a missing address is still visible)."""
    return ADDRESS_MASK if address else ""


def mask_whole(value: str) -> str:
    """For fields hallctl does not know: hidden entirely rather than leaked by default."""
    return ADDRESS_MASK if value else ""
