"""The exit-entry application form (中国公民出入境证件申请表) as one A4 PDF page.

Theory of operation
-------------------
A pre-acceptance desk reads the applicant's ID card, asks which documents they
want and how to get them, and prints the application form pre-filled for the
applicant to check and sign. :class:`ApplicationForm` holds those answers; it
checks them on construction (so a bad request fails before anything reaches a
printer) and its ``repr`` never shows a personal field, so neither a log line
nor a traceback can leak one. :func:`render_application_form` lays the form out
with reportlab's platypus (tables, CJK line breaking) and returns the PDF bytes.

The layout follows the paper form: the applicant's particulars as on the ID card
(姓名, 性别, 民族, 出生日期, 公民身份号码, 住址), the contact phone,
the three document kinds (普通护照, 往来港澳通行证, 往来台湾通行证) each marked
as applied for or not with its application type (首次申请, 失效重新申请, 换发,
补发, 加注), the way the documents are collected (hall or mail, with the mail
address), a box for the photo and the applicant's signature with the date.

Fonts: reportlab embeds only TrueType outlines. Noto Sans CJK is CFF
("postscript outlines are not supported"), and reportlab's built-in
``STSong-Light`` CID font is not embedded and comes out of CUPS (cups-pdf
re-distils through Ghostscript) as Latin garbage. So the form uses WenQuanYi
Micro Hei (face 0 of its .ttc, Debian's ``fonts-wqy-microhei``), embedded as a
subset: about 35 KiB a page, and ``pdftotext`` gives the text back. The font has
no bold face; headings are set larger instead. Every character the labels use
is in the font (a test checks its character map), and characters of a name that
the font lacks would print as blanks, so :class:`ApplicationForm` refuses them.

Rendering is blocking CPU work (about 10 ms warm, 150 ms the first time while
the font is parsed): call it off the event loop (``asyncio.to_thread``). A lock
serialises renders because reportlab's font objects keep per-document state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import io
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

__all__ = [
    "FONT_NAME",
    "FORM_TITLE",
    "ApplicationForm",
    "ApplicationType",
    "Delivery",
    "DocumentRequest",
    "DocumentType",
    "FormFontError",
    "Sex",
    "find_font",
    "font_covers",
    "render_application_form",
]

FORM_TITLE: Final = "中国公民出入境证件申请表"
FONT_NAME: Final = "WenQuanYiMicroHei"
FONT_FAMILY: Final = "WenQuanYi Micro Hei"
FONT_PATHS: Final = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian's fonts-wqy-microhei
)
FONT_FACE: Final = 0  # face 0 of the collection is the proportional regular face (1 is Mono)
MAX_NAME: Final = 40
MAX_TEXT: Final = 120
CHECKED: Final = "■"
UNCHECKED: Final = "□"

_ID_NUMBER: Final = re.compile(r"\d{17}[\dX]")
_PHONE: Final = re.compile(r"\+?[0-9][0-9 \-]{4,19}")
_ETHNICITY_MAX: Final = 10


class FormFontError(RuntimeError):
    """The form's CJK font is not installed (``fonts-wqy-microhei``)."""


class Sex(enum.Enum):
    """性别, as the ID card gives it."""

    MALE = "男"
    FEMALE = "女"


class DocumentType(enum.Enum):
    """证件类别: the documents a citizen applies for at the hall, in the form's order."""

    PASSPORT = "普通护照"
    HK_MACAO_PERMIT = "往来港澳通行证"
    TAIWAN_PERMIT = "往来台湾通行证"


class ApplicationType(enum.Enum):
    """申请类别 of one document."""

    FIRST_ISSUE = "首次申请"
    REISSUE_AFTER_EXPIRY = "失效重新申请"
    RENEWAL = "换发"
    REPLACEMENT = "补发"
    AMENDMENT = "加注"


class Delivery(enum.Enum):
    """证件领取方式: how the applicant gets the documents."""

    COLLECT_AT_HALL = "到出入境接待大厅领取"
    MAIL = "邮寄"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRequest:
    """One document applied for, with its application type."""

    document: DocumentType
    application: ApplicationType


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ApplicationForm:
    """The answers printed on the form. Personal fields never appear in ``repr`` or in errors.

    ``name``, ``sex``, ``ethnicity``, ``birth_date``, ``id_number`` and ``address``
    come from the ID card read; ``documents`` (at least one, each kind once),
    ``phone``, ``delivery`` (with ``mail_address`` when mailed) and ``date`` (the
    application date) from the desk. Construction raises ValueError naming the
    field that is wrong, never its value.
    """

    name: str
    sex: Sex
    ethnicity: str
    birth_date: dt.date
    id_number: str
    address: str
    documents: tuple[DocumentRequest, ...]
    phone: str
    delivery: Delivery
    mail_address: str = ""
    date: dt.date

    def __post_init__(self) -> None:
        _check_text("name", self.name, MAX_NAME)
        _check_text("ethnicity", self.ethnicity, _ETHNICITY_MAX)
        _check_text("address", self.address, MAX_TEXT)
        if not _ID_NUMBER.fullmatch(self.id_number):
            raise ValueError("id_number: expected 18 characters, 17 digits then a digit or X")
        if not _PHONE.fullmatch(self.phone):
            raise ValueError("phone: expected 5 to 20 digits, spaces or dashes, an optional leading +")
        if not self.documents:
            raise ValueError("documents: apply for at least one document")
        kinds = [d.document for d in self.documents]
        if len(set(kinds)) != len(kinds):
            raise ValueError("documents: each document kind may be applied for once")
        if self.delivery is Delivery.MAIL:
            _check_text("mail_address", self.mail_address, MAX_TEXT)
        elif self.mail_address:
            raise ValueError("mail_address: only with delivery by mail")
        if self.birth_date > self.date:
            raise ValueError("birth_date: after the application date")

    def __repr__(self) -> str:  # never a personal field
        chosen = ",".join(d.document.name for d in self.documents)
        return f"ApplicationForm(documents={chosen}, delivery={self.delivery.name})"

    __str__ = __repr__


def _check_text(field: str, value: str, limit: int) -> None:
    if not value.strip():
        raise ValueError(f"{field}: empty")
    if len(value) > limit:
        raise ValueError(f"{field}: {len(value)} characters, at most {limit} fit the form")
    if not value.isprintable():
        raise ValueError(f"{field}: contains control characters")
    if not font_covers(value):
        raise ValueError(f"{field}: contains characters the form's font cannot print")


# --- font ------------------------------------------------------------------


def find_font() -> Path:
    """The WenQuanYi Micro Hei collection: Debian's path, else where fontconfig has it."""
    for path in FONT_PATHS:
        if path.is_file():
            return path
    fc_match = shutil.which("fc-match")
    if fc_match is not None:
        try:
            found = subprocess.run(  # noqa: S603 - fc-match from PATH with fixed arguments
                [fc_match, "-f", "%{file}", FONT_FAMILY], capture_output=True, text=True, timeout=5, check=False
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            found = ""
        if found and "wqy-microhei" in Path(found).name.lower() and Path(found).is_file():
            return Path(found)
    raise FormFontError(f"the form font {FONT_FAMILY!r} is not installed: install fonts-wqy-microhei (make setup)")


@functools.cache
def _font() -> TTFont:
    font = TTFont(FONT_NAME, str(find_font()), subfontIndex=FONT_FACE)
    pdfmetrics.registerFont(font)
    return font


def font_covers(text: str) -> bool:
    """Whether the form's font has a glyph for every character of ``text`` (spaces aside)."""
    glyphs = _font().face.charToGlyph
    return all(ord(ch) in glyphs for ch in text if not ch.isspace())


# --- layout ----------------------------------------------------------------

_RENDER_LOCK: Final = threading.Lock()
_PAGE_W, _PAGE_H = A4
_MARGIN: Final = 18 * mm
_CONTENT_W: Final = _PAGE_W - 2 * _MARGIN
_BODY_SIZE: Final = 10.5
_GRID: Final = colors.black


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT_NAME, fontSize=_BODY_SIZE, leading=14, wordWrap="CJK")
    return {
        "body": base,
        "label": ParagraphStyle("label", parent=base, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=26, alignment=TA_CENTER),
        "section": ParagraphStyle("section", parent=base, fontSize=12.5, leading=18, spaceBefore=8, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#333333")),
    }


def _escape(text: str) -> str:
    """Paragraph text is mini-markup: keep ``<``, ``>``, ``&`` in values literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(value: dt.date) -> str:
    return f"{value.year}年{value.month:02d}月{value.day:02d}日"


def _mark(on: bool) -> str:
    return CHECKED if on else UNCHECKED


def _grid_style(*extra: tuple[Any, ...]) -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.6, _GRID),
            ("FONT", (0, 0), (-1, -1), FONT_NAME, _BODY_SIZE),  # plain (empty) cells too: no Helvetica
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
            *extra,
        ]
    )


def _particulars(form: ApplicationForm, s: dict[str, ParagraphStyle]) -> Table:
    def p(text: str, style: str = "body") -> Paragraph:
        return Paragraph(_escape(text), s[style])

    photo = Paragraph("照片<br/>33mm×48mm", s["label"])
    rows: list[list[Flowable | str]] = [
        [p("姓名", "label"), p(form.name), p("性别", "label"), p(form.sex.value), photo],
        [p("民族", "label"), p(form.ethnicity), p("出生日期", "label"), p(_date(form.birth_date)), ""],
        [p("公民身份号码", "label"), p(form.id_number), "", "", ""],
        [p("住址", "label"), p(form.address), "", "", ""],
        [p("联系电话", "label"), p(form.phone), "", "", ""],
    ]
    widths = [30 * mm, 52 * mm, 22 * mm, 33 * mm]
    widths.append(_CONTENT_W - sum(widths))
    return Table(
        rows,
        colWidths=widths,
        rowHeights=[11 * mm, 11 * mm, 11 * mm, 15 * mm, 11 * mm],
        style=_grid_style(
            ("SPAN", (4, 0), (4, 4)),
            ("SPAN", (1, 2), (3, 2)),
            ("SPAN", (1, 3), (3, 3)),
            ("SPAN", (1, 4), (3, 4)),
            ("BACKGROUND", (2, 0), (2, 1), colors.HexColor("#f0f0f0")),
        ),
    )


def _documents(form: ApplicationForm, s: dict[str, ParagraphStyle]) -> Table:
    chosen = {d.document: d.application for d in form.documents}
    rows: list[list[Flowable | str]] = [
        [Paragraph("证件类别", s["label"]), Paragraph("申请类别", s["label"])],
    ]
    for document in DocumentType:
        application = chosen.get(document)
        kinds = "　".join(f"{_mark(kind is application)}{kind.value}" for kind in ApplicationType)
        rows.append(
            [
                Paragraph(f"{_mark(application is not None)} {document.value}", s["body"]),
                Paragraph(kinds if application is not None else "—", s["body"]),
            ]
        )
    return Table(
        rows,
        colWidths=[45 * mm, _CONTENT_W - 45 * mm],
        style=_grid_style(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))),
    )


def _delivery(form: ApplicationForm, s: dict[str, ParagraphStyle]) -> Table:
    choice = "　　".join(f"{_mark(form.delivery is d)} {d.value}" for d in Delivery)
    address = _escape(form.mail_address) if form.delivery is Delivery.MAIL else "—"
    rows = [
        [Paragraph("领取方式", s["label"]), Paragraph(choice, s["body"])],
        [Paragraph("邮寄地址", s["label"]), Paragraph(address, s["body"])],
    ]
    return Table(rows, colWidths=[30 * mm, _CONTENT_W - 30 * mm], style=_grid_style())


def _signature(form: ApplicationForm, s: dict[str, ParagraphStyle]) -> Table:
    rows = [
        [
            Paragraph("申请人签名", s["label"]),
            "",
            Paragraph("申请日期", s["label"]),
            Paragraph(_date(form.date), s["body"]),
        ]
    ]
    return Table(
        rows,
        colWidths=[30 * mm, 70 * mm, 25 * mm, _CONTENT_W - 125 * mm],
        rowHeights=[16 * mm],
        style=_grid_style(("BACKGROUND", (2, 0), (2, 0), colors.HexColor("#f0f0f0"))),
    )


def render_application_form(form: ApplicationForm) -> bytes:
    """The form as a one-page A4 PDF with its font embedded (blocking: run it off the event loop)."""
    with _RENDER_LOCK:
        _font()
        s = _styles()
        out = io.BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN,
            title=FORM_TITLE,  # metadata: never a personal field
            author="hallgw",
            subject="",
            creator="hallgw",
            initialFontName=FONT_NAME,  # else an unused, unembedded Helvetica is listed in the page's fonts
            invariant=True,  # the same form gives the same bytes (no timestamp or random id)
        )
        story: list[Flowable] = [
            Paragraph(FORM_TITLE, s["title"]),
            Spacer(1, 6 * mm),
            Paragraph("一、申请人基本信息", s["section"]),
            _particulars(form, s),
            Paragraph("二、申请证件", s["section"]),
            _documents(form, s),
            Paragraph("三、证件领取方式", s["section"]),
            _delivery(form, s),
            Paragraph("四、申请人确认", s["section"]),
            Paragraph("本人承诺以上填写内容真实、准确。", s["body"]),
            Spacer(1, 2 * mm),
            _signature(form, s),
            Spacer(1, 4 * mm),
            Paragraph("本表由出入境接待大厅预受理台根据申请人居民身份证信息打印，请核对无误后签名。", s["note"]),
        ]
        doc.build(story)
        if doc.page != 1:  # the field caps make this impossible; a layout change must not split the form
            raise ValueError(f"the form took {doc.page} pages instead of one")
        return out.getvalue()
