"""The validation room's errors. A verdict is data (a report); these mean we could not judge."""

from __future__ import annotations

import errno
from typing import ClassVar


class ValidationError(Exception):
    """Validation could not run (bad configuration, unreadable trust anchors, …)."""

    code: ClassVar[str] = "validation.error"
    exit_code: ClassVar[int] = 70

    def __init__(self, en: str, vi: str | None = None, **details: str) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en
        self.details = details

    def message(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en


class PolicyError(ValidationError):
    """The validation policy or its trust anchors cannot be used."""

    code = "validation.policy"
    exit_code = 64


class InputMissing(ValidationError):
    code = "validation.input_missing"
    exit_code = 66


class OutputNotWritable(ValidationError):
    """A report or its evidence cannot be written (directory missing, disk full)."""

    code = "validation.output_not_writable"
    exit_code = 73


class DevelopmentModeWarning(UserWarning):
    """A development-only part is in use (the development PKI, TSA, tokens, artwork, a key
    generated in this process…): fine for a demo or a test, never for documents that
    count. Each part warns with its own subclass; in production mode they are refused
    instead. Defined in the lowest room so that every room can mark its own."""

    def __init__(self, en: str, vi: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.vi = vi or en


_OS_REASONS_VI = {
    errno.ENOENT: "không tồn tại",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không được phép",
    errno.EISDIR: "là một thư mục",
    errno.ENOTDIR: "một phần của đường dẫn không phải thư mục",
    errno.ENOSPC: "đĩa đã đầy",
    errno.EDQUOT: "đã hết hạn mức dung lượng",
    errno.EROFS: "hệ thống tệp chỉ cho đọc",
    errno.EEXIST: "đã tồn tại",
    errno.ENAMETOOLONG: "tên quá dài",
    errno.ELOOP: "quá nhiều liên kết tượng trưng",
    errno.EMFILE: "mở quá nhiều tệp cùng lúc",
    errno.ENFILE: "hệ thống mở quá nhiều tệp cùng lúc",
    errno.EIO: "lỗi đọc ghi thiết bị",
    errno.EBUSY: "đang bị dùng",
    errno.ETXTBSY: "đang bị dùng",
    errno.EFBIG: "tệp quá lớn",
}


def os_reason(exc: OSError) -> tuple[str, str]:
    """Why the operating system refused, in English (its own words) and in Vietnamese (the
    OS speaks the process's locale, never Vietnamese, so the common errno values are
    translated here; others are named by their errno)."""
    en = exc.strerror or str(exc) or type(exc).__name__
    code = exc.errno
    if code in _OS_REASONS_VI:
        vi = _OS_REASONS_VI[code]
    elif code is not None:
        vi = f"lỗi hệ thống {errno.errorcode.get(code, code)}"
    else:
        vi = "lỗi hệ thống"
    return en, vi
