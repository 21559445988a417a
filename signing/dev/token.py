"""SoftHSM2 tokens for development and tests.

Development only. A token directory with its own ``softhsm2.conf`` (point ``SOFTHSM2_CONF`` at
it before the PKCS#11 module is loaded), tokens created with ``softhsm2-util`` and keys and
certificates imported with ``softhsm2-util`` and OpenSC's ``pkcs11-tool``. Real USB tokens are
provisioned by their CA; lienthong only reads them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from signing.dev.pki import Identity
from signing.errors import TokenError
from signing.mode import development_part
from validation import DevelopmentModeWarning


class DevTokenWarning(DevelopmentModeWarning):
    """SoftHSM2 tokens made here: software tokens with a known PIN, for development only."""


SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def softhsm_module() -> str:
    for path in SOFTHSM_MODULE_CANDIDATES:
        if Path(path).exists():
            return path
    raise TokenError(
        "SoftHSM2 is not installed (apt-get install softhsm2)",
        "chưa cài SoftHSM2 (apt-get install softhsm2)",
    )


@dataclass(frozen=True, slots=True)
class SoftHsmHome:
    """A directory holding ``softhsm2.conf`` and its ``tokens/``."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "softhsm2.conf"

    def ensure(self) -> None:
        development_part(
            DevTokenWarning,
            f"using development SoftHSM2 tokens in {self.root} (software keys, known PIN)",
            f"đang dùng token SoftHSM2 thử nghiệm trong {self.root} (khóa phần mềm, mã PIN ai "
            "cũng biết)",
        )
        tokens = (self.root / "tokens").resolve()  # the conf is read from any directory
        tokens.mkdir(parents=True, exist_ok=True)
        if not self.conf.exists():
            self.conf.write_text(
                f"directories.tokendir = {tokens}\n"
                "objectstore.backend = file\n"
                "log.level = ERROR\n"
                "slots.removable = false\n",
                encoding="utf-8",
            )

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def _run(self, *args: str) -> str:
        tool = shutil.which(args[0])
        if tool is None:
            raise TokenError(f"{args[0]} is not installed", f"chưa cài {args[0]}")
        proc = subprocess.run(  # noqa: S603
            [tool, *args[1:]], env=self.env(), capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            output = proc.stderr.strip() or proc.stdout.strip()
            raise TokenError(f"{args[0]} failed: {output}", f"{args[0]} không chạy được")
        return proc.stdout

    def has_token(self, label: str) -> bool:
        out = self._run("softhsm2-util", "--show-slots")
        return any(line.strip() == f"Label:            {label}" for line in out.splitlines())

    def create_token(self, label: str, *, pin: str, so_pin: str) -> None:
        self.ensure()
        self._run(
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            so_pin,
            "--pin",
            pin,
        )

    def import_identity(
        self,
        token: str,
        *,
        pin: str,
        label: str,
        key_id: bytes,
        identity: Identity,
        chain: tuple[Identity, ...] = (),
    ) -> None:
        """Put a private key and its certificate (same label and id) and the CA certificates
        on the token."""
        module = softhsm_module()
        with tempfile.TemporaryDirectory() as tmp:
            key_file = Path(tmp) / "key.pem"
            key_file.write_bytes(identity.key_pem())
            self._run(
                "softhsm2-util",
                "--import",
                str(key_file),
                "--token",
                token,
                "--label",
                label,
                "--id",
                key_id.hex(),
                "--pin",
                pin,
            )
            for i, (ident, ident_label, ident_id) in enumerate(
                [(identity, label, key_id)]
                + [(c, f"ca-{n}", bytes([0xCA, n])) for n, c in enumerate(chain)]
            ):
                cert_file = Path(tmp) / f"cert{i}.der"
                cert_file.write_bytes(ident.cert.public_bytes(serialization.Encoding.DER))
                self._run(
                    "pkcs11-tool",
                    "--module",
                    module,
                    "--token-label",
                    token,
                    "--login",
                    "--pin",
                    pin,
                    "--write-object",
                    str(cert_file),
                    "--type",
                    "cert",
                    "--label",
                    ident_label,
                    "--id",
                    ident_id.hex(),
                )
