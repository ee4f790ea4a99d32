"""Which wallet a payment code belongs to, told from its digits alone.

A payment code (付款码, ``auth_code`` in the payment APIs) is the one-time
number a wallet app shows as a barcode and QR code for a merchant to scan. The
wallets publish how their codes look so that a cashier system can route a scan
to the right acquirer without asking the payer. The rule, as a table
(:data:`SCHEME_RULES`), with its sources and how sure we are:

- WeChat Pay: 18 digits, starting 10, 11, 12, 13, 14 or 15. WeChat Pay's
  micropay (付款码支付) API reference, ``pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=5_1``,
  quoted as "用户付款码条形码规则:18位纯数字,以10、11、12、13、14、15开头"
  by several developer write-ups (blog.csdn.net/qq_33212312/article/details/118913282,
  cnblogs.com/westsoft/p/15140406.html); WeChat's face-pay SDK answers a bad
  code with "请扫描微信支付授权码(以10/11/12/13/14/15为前缀的18位数字)"
  (developers.weixin.qq.com community thread). Confidence: **high** (several
  consistent quotes and a first-party error text; the official page itself was
  not read here).
- Alipay: 16 to 24 digits, starting 25 to 30. Alipay's open platform
  (``opendocs.alipay.com/open/194/106039``), quoted as "用户付款码,25-30
  开头的长度为 16-24 位的数字,实际字符串长度以开发者获取的付款码长度为准"
  by the same write-ups. Confidence: **medium-high** (consistent third-party
  quotes of the official page, which itself says the real length is "whatever
  the developer receives": the range may widen).
- UnionPay QR (云闪付): 19 digits starting 62. **Single-source**: one
  developer post (cnblogs.com/zhangmo/p/13578409.html, 2020) and the desk
  notes (reference/desk-notes.md section 4); no UnionPay document was found.
  Treat a mismatch here as a hint, not a verdict.

Anything else is :attr:`PaymentScheme.UNKNOWN`: the caller decides what to do
with it (a payment back end is the real judge of a code; this is routing only).
The ranges do not overlap, so the first matching rule wins without ambiguity.

A code is payment data: :class:`PaymentCode` never shows it in its repr or
str, only the scheme and the length.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final


class PaymentScheme(enum.Enum):
    """The wallet a payment code belongs to, by the published numbering rule."""

    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"
    UNIONPAY = "unionpay"
    UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SchemeRule:
    """One row of the rule: codes of ``lengths`` digits whose first two digits are in ``starts``."""

    scheme: PaymentScheme
    starts: frozenset[str]
    lengths: range

    def matches(self, code: str) -> bool:
        """Whether ``code`` (already known to be ASCII digits) follows this row."""
        return len(code) in self.lengths and code[:2] in self.starts


SCHEME_RULES: Final = (
    SchemeRule(
        scheme=PaymentScheme.WECHAT_PAY,
        starts=frozenset(f"{n}" for n in range(10, 16)),
        lengths=range(18, 19),
    ),
    SchemeRule(
        scheme=PaymentScheme.ALIPAY,
        starts=frozenset(f"{n}" for n in range(25, 31)),
        lengths=range(16, 25),
    ),
    SchemeRule(scheme=PaymentScheme.UNIONPAY, starts=frozenset({"62"}), lengths=range(19, 20)),
)
"""The numbering rule, one row per scheme (see the module docstring for sources)."""

_DIGITS: Final = frozenset("0123456789")


def classify(code: str) -> PaymentScheme:
    """The scheme whose numbering rule ``code`` follows, or UNKNOWN (never raises)."""
    if not code or not _DIGITS.issuperset(code):
        return PaymentScheme.UNKNOWN
    for rule in SCHEME_RULES:
        if rule.matches(code):
            return rule.scheme
    return PaymentScheme.UNKNOWN


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class PaymentCode:
    """A scanned payment code and its scheme. Its repr and str show only the scheme and the length."""

    code: str
    scheme: PaymentScheme

    @classmethod
    def of(cls, code: str) -> PaymentCode:
        """``code`` with the scheme :func:`classify` gives it."""
        return cls(code, classify(code))

    @property
    def summary(self) -> str:
        """What may be shown or logged about the code: its length and scheme, e.g. ``18 chars, WECHAT_PAY``."""
        return f"{len(self.code)} chars, {self.scheme.name}"

    def __repr__(self) -> str:
        # Payment data: the code never appears, not even in part.
        return f"PaymentCode({self.summary})"

    __str__ = __repr__
