"""The package description ``lienthong edxml build`` reads: every field reaches the model,
wrong types and unknown keys are one coded error, never a traceback."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from exchange.edxml import Edoc, EdxmlError, Priority, StatusCode, StatusMessage, build_edoc
from exchange.edxml.spec import load_spec, message_from_spec
from exchange.errors import BadRequest


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "subject": "Về việc liên thông",
        "from": {"organ_id": "000.00.00.H53", "organ_name": "UBND tỉnh Tây Ninh"},
        "to": [{"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"}],
        "code": {"number": "7", "notation": "UBND-VP"},
        "promulgation": {"place": "Tây Ninh", "date": "2026-11-30"},
        "document_type": {"type": 2, "type_name": "Công văn"},
        "signer": {"full_name": "Nguyễn Văn A", "position": "Chủ tịch"},
        "other_info": {"priority": 3, "page_amount": "4", "appendixes": ["Phụ lục"]},
        "bussiness": {"staff_info": {"staff": "Trần Thị B"}},
        "attachments": [{"file": "a.pdf"}],
    }
    base.update(changes)
    return base


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    return tmp_path


def test_a_description_becomes_an_emittable_edoc(folder: Path) -> None:
    message = message_from_spec(spec(), base=folder)
    assert isinstance(message, Edoc)
    assert message.document_id == "000.00.00.H53,2026/11/30,7/UBND-VP"
    assert message.promulgation.date == date(2026, 11, 30)
    assert message.other_info.priority == Priority.FLASH
    assert message.other_info.page_amount == 4
    (attachment,) = message.attachments
    assert (attachment.content_id, attachment.name, attachment.content_type) == (
        "1",
        "a.pdf",
        "application/pdf",
    )
    assert message.trace.bussiness is not None
    assert message.trace.bussiness.reason == "Văn bản điện tử mới"
    assert build_edoc(message).startswith(b"<?xml")


def test_toml_and_json_files(folder: Path) -> None:
    (folder / "s.toml").write_text(
        'subject = "x"\nkind = "edoc"\n[from]\norgan_id = "G22"\n[[to]]\norgan_id = "H53"\n'
        "[code]\nnumber = '1'\nnotation = 'VP'\n[promulgation]\ndate = 2026-11-30\n",
        encoding="utf-8",
    )
    assert isinstance(load_spec(folder / "s.toml"), Edoc)
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BadRequest, match="not valid JSON"):
        load_spec(folder / "bad.json")
    with pytest.raises(BadRequest, match="cannot read"):
        load_spec(folder / "missing.json")


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"document_type": {"type": "two"}}, "T.MessageHeader.DocumentType.Type"),
        ({"other_info": {"page_amount": "many"}}, "T.MessageHeader.OtherInfo.PageAmount"),
        ({"other_info": {"page_amount": [1]}}, "T.MessageHeader.OtherInfo.PageAmount"),
        ({"other_info": {"priority": 9}}, "M.MessageHeader.OtherInfo.Priority"),
        ({"other_info": {"direction": "yes"}}, "T.MessageHeader.OtherInfo.Direction"),
        ({"steering_type": "x"}, "M.MessageHeader.SteeringType"),
        ({"from": {"organ_id": "bad id"}}, "T.MessageHeader.From.OrganId"),
        ({"from": None}, "N.MessageHeader.From"),
        (
            {"promulgation": {"date": "30.11.2026"}},
            "T.MessageHeader.PromulgationInfo.PromulgationDate",
        ),
        ({"promulgation": {}}, "N.MessageHeader.PromulgationInfo.PromulgationDate"),
        (
            {"attachments": [{"file": "a.pdf", "name": "../a.pdf"}]},
            "M.edXMLManifest.Reference[1].AttachmentName",
        ),
    ],
)
def test_wrong_values_are_coded_errors(folder: Path, changes: dict[str, Any], label: str) -> None:
    with pytest.raises(EdxmlError) as caught:
        message_from_spec(spec(**changes), base=folder)
    assert caught.value.label == label


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"signer": {"name": "x"}}, "unknown key 'name' in signer"),
        ({"colour": "red"}, "unknown key 'colour' in (top)"),
        ({"to": "G22"}, "to in the package description must be a list"),
        ({"to_places": "Như trên"}, "to_places in the package description must be a list"),
        ({"attachments": [{}]}, "attachment 1 of the package description names no file"),
        ({"attachments": [{"file": "nothing.pdf"}]}, "cannot read the attachment"),
        ({"kind": "letter"}, "kind must be 'edoc' or 'status'"),
    ],
)
def test_description_mistakes_are_bad_requests(
    folder: Path, changes: dict[str, Any], text: str
) -> None:
    with pytest.raises(BadRequest, match=re_escape(text)) as caught:
        message_from_spec(spec(**changes), base=folder)
    assert caught.value.exit_code == 64


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_status_description_with_the_received_package(folder: Path) -> None:
    (folder / "in.edxml").write_bytes(b"<edXML/>")
    message = message_from_spec(
        {
            "kind": "status",
            "from": {"organ_id": "G22"},
            "response_for": {"organ_id": "H53", "document_id": "H53,2026/11/30,7/VP"},
            "status_code": 1,
            "received_package": "in.edxml",
            "timestamp": "2026-12-01T08:00:00",
        },
        base=folder,
    )
    assert isinstance(message, StatusMessage)
    assert message.status_code == StatusCode.DELIVERED
    assert message.received_package_sha256 == hashlib.sha256(b"<edXML/>").hexdigest()
    assert message.timestamp.utcoffset() is not None
