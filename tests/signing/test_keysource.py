"""A certificate file given for signing (``--chain``, ``--cert``) is read by the validation
room's one certificate reader, and its failures are the signing room's input errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import validation
from signing import InputNotFound, InputUnreadable, load_certificates
from signing.dev import DevPki


def test_the_signing_room_reads_certificates_as_the_validation_room_does(
    pki: DevPki, tmp_path: Path
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.chain_pem())
    der = tmp_path / "root.cer"
    der.write_bytes(pki.root.asn1.dump())
    for path in (chain, der):
        ours = load_certificates(path)
        assert [c.dump() for c in ours] == [c.dump() for c in validation.load_certificates(path)]
    assert [c.subject for c in load_certificates(chain)] == [
        pki.issuing.asn1.subject,
        pki.root.asn1.subject,
    ]


def test_its_failures_are_input_errors_of_the_signing_room(tmp_path: Path) -> None:
    with pytest.raises(InputNotFound) as missing:
        load_certificates(tmp_path / "nope.pem")
    assert missing.value.exit_code == 66
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a certificate")
    with pytest.raises(InputUnreadable, match="holds no readable certificate"):
        load_certificates(garbage)
    with pytest.raises(InputUnreadable, match="cannot read") as directory:
        load_certificates(tmp_path)
    assert "là một thư mục" in directory.value.vi  # the OS reason in Vietnamese
