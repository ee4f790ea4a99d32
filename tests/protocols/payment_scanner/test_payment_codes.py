"""The payment-code numbering rule: a table of valid and invalid codes, and codes that never show."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols.payment_scanner import SCHEME_RULES, PaymentCode, PaymentScheme, classify

W, A, U, X = PaymentScheme.WECHAT_PAY, PaymentScheme.ALIPAY, PaymentScheme.UNIONPAY, PaymentScheme.UNKNOWN


@pytest.mark.parametrize(
    ("code", "scheme"),
    [
        # WeChat Pay: 18 digits starting 10-15.
        ("100000000000000000", W),
        ("134567890123456789", W),
        ("159999999999999999", W),
        ("09" + "1" * 16, X),  # 09 is below the range
        ("16" + "1" * 16, X),  # 16 is above it
        ("13" + "1" * 15, X),  # 17 digits
        ("13" + "1" * 17, X),  # 19 digits
        # Alipay: 16-24 digits starting 25-30.
        ("25" + "0" * 14, A),  # 16 digits, the shortest
        ("28" + "7" * 16, A),  # 18 digits, the common length
        ("30" + "9" * 22, A),  # 24 digits, the longest
        ("25" + "0" * 13, X),  # 15 digits
        ("30" + "9" * 23, X),  # 25 digits
        ("24" + "0" * 16, X),  # 24 is below the range
        ("31" + "0" * 16, X),  # 31 is above it
        # UnionPay QR: 19 digits starting 62 (single-source).
        ("62" + "1" * 17, U),
        ("62" + "1" * 16, X),
        ("62" + "1" * 18, X),
        ("61" + "1" * 17, X),
        # Not digits at all.
        ("", X),
        ("13456789012345678A", X),
        ("13 4567890123456789", X),
        ("１３４５６７８９０１２３４５６７８９", X),  # full-width digits are not ASCII digits
        ("https://qr.alipay.com/fkx12345", X),
        ("-13456789012345678", X),
    ],
)
def test_classification_table(code: str, scheme: PaymentScheme) -> None:
    assert classify(code) is scheme
    assert PaymentCode.of(code) == PaymentCode(code, scheme)


def test_the_rules_do_not_overlap() -> None:
    for first in SCHEME_RULES:
        for second in SCHEME_RULES:
            if first is not second:
                assert not (first.starts & second.starts and set(first.lengths) & set(second.lengths))


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_classify_agrees_with_the_rule_as_written(code: str) -> None:
    head, size = int(code[:2]) if len(code) >= 2 else -1, len(code)
    if 10 <= head <= 15 and size == 18:
        expected = W
    elif 25 <= head <= 30 and 16 <= size <= 24:
        expected = A
    elif head == 62 and size == 19:
        expected = U
    else:
        expected = X
    assert classify(code) is expected


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=4, max_size=30), st.sampled_from(list(PaymentScheme)))
def test_a_payment_code_never_shows_its_digits(code: str, scheme: PaymentScheme) -> None:
    payment = PaymentCode(code, scheme)
    for text in (repr(payment), str(payment), f"{payment}", repr([payment]), payment.summary):
        assert code not in text
        assert code[-4:] not in text.replace(str(len(code)), "")
    assert payment.summary == f"{len(code)} chars, {scheme.name}"
    assert repr(payment) == f"PaymentCode({len(code)} chars, {scheme.name})"
