"""The agency directory: checked records, JSON and CSV round trips, the database."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from exchange import directory
from exchange.directory import AgencySpec
from exchange.errors import BadRequest, NotFound
from exchange.service import Services
from signing.dev.pki import DevPki
from tests.exchange.service.conftest import AGENCY_A, OPERATOR, REMOTE


def _spec(pki: DevPki) -> AgencySpec:
    der = pki.signers["agency"].cert.public_bytes(Encoding.DER)
    return AgencySpec.parse(
        {
            "organ_id": "000.00.12.H53",
            "name": 'Ủy ban nhân dân tỉnh Thái Bình, "Văn phòng"',
            "organization_in_charge": "Chính phủ",
            "address": "Số 76, đường Lê Lợi,\nthành phố Thái Bình",
            "email": "vanthu@thaibinh.gov.vn",
            "telephone": "0227 3731 234",
            "fax": "0227 3731 235",
            "website": "https://thaibinh.gov.vn",
            "node_url": "https://lienthong.thaibinh.gov.vn",
            "certificates": [directory._pem(der)],
        },
        "test",
    )


def test_json_and_csv_round_trips(pki: DevPki) -> None:
    mail_only = AgencySpec.parse(
        {"organ_id": "H53.01", "name": "Xã Vũ Hội", "mail_address": "xavuhoi@thaibinh.gov.vn"}, "x"
    )
    hosted = AgencySpec.parse({"organ_id": "H53", "name": "Sở Nội vụ", "hosted": True}, "x")
    specs = [_spec(pki), mail_only, hosted]
    assert specs[0].certificates and specs[0].address.count("\n") == 1
    assert directory.read_json(directory.write_json(specs)) == specs
    assert directory.read_csv(directory.write_csv(specs)) == specs
    assert directory.read_json(directory.write_json([])) == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"organ_id": "000.00.01.h53", "name": "x", "hosted": True}, "not a valid OrganId"),
        ({"organ_id": "A" * 36, "name": "x", "hosted": True}, "not a valid OrganId"),
        ({"organ_id": "H53", "name": "", "hosted": True}, "name is missing"),
        ({"organ_id": "H53", "name": "x" * 201, "hosted": True}, "longer than 200"),
        ({"organ_id": "H53", "name": "x"}, "needs its node URL or a delivery e-mail"),
        ({"organ_id": "H53", "name": "x", "node_url": "ftp://x"}, "http(s)"),
        ({"organ_id": "H53", "name": "x", "mail_address": "not-mail"}, "e-mail address is invalid"),
        ({"organ_id": "H53", "name": "x", "hosted": True, "colour": "red"}, "unknown field"),
        ({"organ_id": "H53", "name": "x", "hosted": True, "certificates": ["junk"]}, "certificate"),
    ],
)
def test_bad_records_are_refused(record: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        AgencySpec.parse(record, "agency 1")
    assert message in raised.value.en
    assert raised.value.en.startswith("agency 1: ")


def test_bad_files_are_refused() -> None:
    with pytest.raises(BadRequest, match="not valid JSON"):
        directory.read_json("{")
    with pytest.raises(BadRequest, match="appears twice"):
        directory.read_json(
            '[{"organ_id": "H1", "name": "a", "hosted": true},'
            ' {"organ_id": "H1", "name": "b", "hosted": true}]'
        )
    with pytest.raises(BadRequest, match="no organ_id column"):
        directory.read_csv("name\nx\n")
    with pytest.raises(BadRequest, match="line 3"):
        directory.read_csv("organ_id,name,hosted\nH1,a,true\nh2,b,true\n")


@pytest.mark.db
async def test_saved_and_read_back(services: Services, pki: DevPki) -> None:
    spec = _spec(pki)
    async with services.transaction() as session:
        await directory.save(session, [spec], actor=OPERATOR)
    async with services.transaction() as session:
        assert await directory.entry(session, spec.organ_id) == spec
        listed = [s.organ_id for s in await directory.entries(session)]
    assert listed == sorted([AGENCY_A, "000.00.02.H02", REMOTE, spec.organ_id])
    changed = AgencySpec.parse({**spec.to_record(), "certificates": [], "name": "Mới"}, "x")
    async with services.transaction() as session:
        await directory.save(session, [changed], actor=OPERATOR)
    async with services.transaction() as session:
        assert await directory.entry(session, spec.organ_id) == changed
        with pytest.raises(NotFound):
            await directory.entry(session, "NO.SUCH")
