"""The application form the tests print, and poppler to read PDFs back."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

from hallgw_daemon.drivers.form_pdf import (
    FORM_TITLE,
    ApplicationForm,
    ApplicationType,
    Delivery,
    DocumentRequest,
    DocumentType,
    Sex,
)

NAME = "欧阳喆堃"  # 喆 and 堃 are outside GB2312's common set: the font must still have them
ID_NUMBER = "11010519900307123X"
ADDRESS = "北京市朝阳区建国路88号院3号楼2单元1201室"
PHONE = "138 0013 8000"
MAIL_ADDRESS = "上海市浦东新区世纪大道100号<收件人>&代收"
LABELS = (
    FORM_TITLE, "申请人基本信息", "姓名", "性别", "民族", "出生日期", "公民身份号码", "住址", "联系电话",
    "申请证件", "证件类别", "申请类别", "证件领取方式", "领取方式", "邮寄地址", "申请人签名", "申请日期", "照片",
)  # fmt: skip


def make_form(**changes: Any) -> ApplicationForm:
    fields: dict[str, Any] = {
        "name": NAME,
        "sex": Sex.FEMALE,
        "ethnicity": "回",
        "birth_date": dt.date(1990, 3, 7),
        "id_number": ID_NUMBER,
        "address": ADDRESS,
        "documents": (
            DocumentRequest(document=DocumentType.PASSPORT, application=ApplicationType.FIRST_ISSUE),
            DocumentRequest(document=DocumentType.HK_MACAO_PERMIT, application=ApplicationType.RENEWAL),
        ),
        "phone": PHONE,
        "delivery": Delivery.MAIL,
        "mail_address": MAIL_ADDRESS,
        "date": dt.date(2026, 11, 27),
    }
    fields.update(changes)
    return ApplicationForm(**fields)


def poppler(tool: str, *args: str) -> str:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=30, check=True).stdout


def pdf_text(path: Path) -> str:
    """The page's text, one line per printed line, spaces squeezed out (CJK has none between words)."""
    return "\n".join("".join(line.split()) for line in poppler("pdftotext", "-layout", str(path), "-").splitlines())


def page_image(path: Path, *, dpi: int = 50) -> list[bytes]:
    """The first page rendered in grey by pdftoppm, as rows of pixels (PGM)."""
    pgm = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(path)], capture_output=True, timeout=30, check=True
    ).stdout
    magic, size, depth, pixels = pgm.split(b"\n", 3)
    width, height = map(int, size.split())
    assert magic == b"P5" and depth == b"255", (magic, depth)
    return [pixels[row * width : (row + 1) * width] for row in range(height)]


def image_difference(a: list[bytes], b: list[bytes]) -> float:
    """The share of pixels that differ by more than a quarter of the grey scale (1.0 when the sizes differ)."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b, strict=True)):
        return 1.0
    total = sum(len(row) for row in a)
    differ = sum(abs(p - q) > 64 for x, y in zip(a, b, strict=True) for p, q in zip(x, y, strict=True))
    return differ / total
