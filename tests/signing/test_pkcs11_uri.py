"""The one place that writes PKCS#11 URIs, read back by the one place that parses them."""

from __future__ import annotations

import pytest

from signing import UsageError, parse_pkcs11_uri, pkcs11_uri


@pytest.mark.parametrize(
    ("token", "key", "module"),
    [
        ("Agency", "seal", "/usr/lib/softhsm/libsofthsm2.so"),
        ("Lienthong Test", "personal", "/opt/vendor lib/p11.so"),
        ("Sở TT&TT; Thái Bình", "chữ ký=1?", None),
    ],
)
def test_a_written_uri_reads_back_as_the_same_token_key_and_module(
    token: str, key: str, module: str | None
) -> None:
    uri = pkcs11_uri(token, key, module)
    assert " " not in uri
    config = parse_pkcs11_uri(uri, default_module="/default.so")
    assert config.token_label == token
    assert config.key_label == key
    assert config.module_path == (module or "/default.so")


def test_a_label_cannot_smuggle_in_another_attribute() -> None:
    uri = pkcs11_uri("X;object=other", "k?pin-value=1234")
    config = parse_pkcs11_uri(uri)
    assert (config.token_label, config.key_label) == ("X;object=other", "k?pin-value=1234")
    with pytest.raises(UsageError):
        parse_pkcs11_uri("pkcs11:token=X;object=k?pin-value=1234")
