"""The application form's PDF, read back with poppler: text, fonts, page size; and the form's checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from support.forms import ADDRESS, ID_NUMBER, LABELS, MAIL_ADDRESS, NAME, PHONE, make_form, pdf_text, poppler

from hallgw_daemon.drivers.form_pdf import (
    FORM_TITLE,
    ApplicationType,
    Delivery,
    DocumentRequest,
    DocumentType,
    Sex,
    font_covers,
    render_application_form,
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("form") / "form.pdf"
    path.write_bytes(render_application_form(make_form()))
    return path


def test_the_text_holds_the_labels_the_applicant_and_the_documents_chosen(rendered: Path) -> None:
    text = pdf_text(rendered)
    for label in LABELS:
        assert label in text, label
    for value in (NAME, ID_NUMBER, ADDRESS, PHONE.replace(" ", ""), "1990年03月07日", "2026年11月27日", "女", "回"):
        assert value in text, value
    assert "上海市浦东新区世纪大道100号<收件人>&代收" in text  # markup characters print literally
    lines = text.splitlines()
    passport = next(line for line in lines if "普通护照" in line)
    assert passport.startswith("■普通护照") and "■首次申请" in passport and "□换发" in passport
    permit = next(line for line in lines if "往来港澳通行证" in line)
    assert permit.startswith("■往来港澳通行证") and "■换发" in permit and "□首次申请" in permit
    taiwan = next(line for line in lines if "往来台湾通行证" in line)
    assert taiwan.startswith("□往来台湾通行证") and "■" not in taiwan
    assert "□到出入境接待大厅领取■邮寄" in text


def test_collection_at_the_hall_leaves_the_mail_address_empty(tmp_path: Path) -> None:
    path = tmp_path / "hall.pdf"
    path.write_bytes(render_application_form(make_form(delivery=Delivery.COLLECT_AT_HALL, mail_address="")))
    text = pdf_text(path)
    assert "■到出入境接待大厅领取□邮寄" in text
    assert "邮寄地址—" in text


def test_the_font_is_embedded_and_nothing_else_is_needed(rendered: Path) -> None:
    rows = poppler("pdffonts", str(rendered)).splitlines()[2:]
    assert rows, "no fonts listed"
    assert all("WenQuanYiMicroHei" in row for row in rows), rows
    for row in rows:
        emb, sub, _uni = row.split()[-5:-2]
        assert (emb, sub) == ("yes", "yes"), row


def test_one_a4_page_and_no_personal_data_in_the_metadata(rendered: Path) -> None:
    info = poppler("pdfinfo", str(rendered))
    assert "Pages:           1" in info
    assert "(A4)" in info
    assert f"Title:           {FORM_TITLE}" in info
    for value in (NAME, ID_NUMBER, ADDRESS, PHONE):
        assert value not in info


def test_the_same_form_gives_the_same_bytes() -> None:
    assert render_application_form(make_form()) == render_application_form(make_form())


def test_the_font_has_every_character_the_labels_use() -> None:
    texts = [*LABELS, *(e.value for e in (*Sex, *DocumentType, *ApplicationType, *Delivery)), "■□—　"]
    assert [t for t in texts if not font_covers(t)] == []


def test_repr_and_str_never_show_a_personal_field() -> None:
    form = make_form()
    for shown in (repr(form), str(form), repr([form]), f"{form}"):
        assert "PASSPORT" in shown
        for value in (NAME, ID_NUMBER, ADDRESS, PHONE, MAIL_ADDRESS, "1990"):
            assert value not in shown, shown


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id_number": "1101051990030712"}, "id_number"),
        ({"id_number": "11010519900307123x"}, "id_number"),
        ({"name": ""}, "name"),
        ({"name": "王" * 41}, "name"),
        ({"name": "王\x00"}, "name"),
        ({"name": "王\U00020000"}, "name"),  # CJK Ext. B: the font has no glyph, it would print blank
        ({"address": "路" * 121}, "address"),
        ({"phone": "call me"}, "phone"),
        ({"documents": ()}, "documents"),
        (
            {
                "documents": (
                    DocumentRequest(document=DocumentType.PASSPORT, application=ApplicationType.FIRST_ISSUE),
                    DocumentRequest(document=DocumentType.PASSPORT, application=ApplicationType.RENEWAL),
                )
            },
            "documents",
        ),
        ({"delivery": Delivery.MAIL, "mail_address": ""}, "mail_address"),
        ({"delivery": Delivery.COLLECT_AT_HALL}, "mail_address"),  # an address given but not mailed
        ({"birth_date": dt.date(2027, 1, 1)}, "birth_date"),
    ],
)
def test_bad_answers_are_refused_naming_the_field_never_the_value(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: ") as caught:
        make_form(**changes)
    message = str(caught.value)
    for value in changes.values():
        if isinstance(value, str) and value:
            assert value not in message


def test_the_form_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_form().name = "x"  # type: ignore[misc]
