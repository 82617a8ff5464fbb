"""LoCoMo (``locomo10.json``) as typed values: loading, quirks, the paper's split, category labels.

The file is CC BY-NC 4.0 and never shipped with memory-r1. ``load_locomo`` reads it from a path,
else from ``$MEMORY_R1_LOCOMO``, else (only with ``download=True``) from the official repository
into a cache directory; every file's sha256 is checked against the official one unless told
otherwise. ``parse_locomo`` is the pure core, for JSON already in memory.

Quirks of the released file that the parser absorbs:

* session dates with no session (conv-26 dates sessions 20–35, which have no turns): sessions
  are the ``session_<N>`` keys that hold lists; the orphan dates land in ``dangling_dates``.
* malformed evidence ids (``"D8:6; D9:17"``, ``"D:11:26"``, ``"D30:05"``, ``"D"``, ids of turns
  that do not exist, one id listed twice): ``QA.evidence`` holds the cleaned ids,
  ``QA.evidence_raw`` the strings as released.
* integer answers (``2022``) become strings; category-5 items carry ``adversarial_answer`` and
  usually no ``answer`` (``QA.answer`` is then ``None``).

Categories are stored by number. What the numbers mean depends on whom you ask:
``CATEGORY_LABELS["locomo"]`` is what the data and LoCoMo's code mean;
``CATEGORY_LABELS["mem0"]`` is the naming of mem0's and Memory-R1's tables.

Example:
    >>> category_label(1, "locomo"), category_label(1, "mem0")
    ('multi-hop', 'single-hop')
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Literal

from memory_r1.eval._locomo_parse import clean_evidence, parse_locomo, parse_session_datetime
from memory_r1.eval._locomo_types import (
    CATEGORY_LABELS,
    LOCOMO_SHA256,
    NOT_MENTIONED,
    QA,
    SPLIT_SAMPLE_IDS,
    Conversation,
    LoCoMo,
    Session,
    Split,
    Turn,
    category_label,
)
from memory_r1.exceptions import ConfigurationError, InvalidInputError, NotFoundError

__all__ = [
    "CATEGORY_LABELS",
    "LOCOMO_ENV_VAR",
    "LOCOMO_SHA256",
    "LOCOMO_URL",
    "NOT_MENTIONED",
    "QA",
    "SPLIT_SAMPLE_IDS",
    "ChecksumWarning",
    "Conversation",
    "LoCoMo",
    "Session",
    "Split",
    "Turn",
    "category_label",
    "clean_evidence",
    "default_cache_dir",
    "download_locomo",
    "file_sha256",
    "load_locomo",
    "parse_locomo",
    "parse_session_datetime",
]

LOCOMO_URL = (
    "https://raw.githubusercontent.com/snap-research/locomo/"
    "3eb6f2c585f5e1699204e3c3bdf7adc5c28cb376/data/locomo10.json"
)
"""The official file, pinned to the commit whose blob has ``LOCOMO_SHA256``."""
LOCOMO_ENV_VAR = "MEMORY_R1_LOCOMO"

Verify = Literal["error", "warn", "off"]


class ChecksumWarning(UserWarning):
    """A LoCoMo file's sha256 differs from the expected one (``verify="warn"``)."""


# --- files: the I/O shell -----------------------------------------------------------------------


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/memory-r1/locomo``, or ``~/.cache/memory-r1/locomo``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "memory-r1" / "locomo"


def download_locomo(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    url: str = LOCOMO_URL,
    sha256: str = LOCOMO_SHA256,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``locomo10.json`` into ``cache_dir`` unless a verified copy is there; return its path.

    The bytes are checked against ``sha256`` before the file is moved into place; a download
    that does not match leaves nothing behind. This is the only function here that touches
    the network, and only when called.

    Args:
        cache_dir: where to keep the file; ``default_cache_dir()`` if None.
        url: where to fetch it from (``file://`` URLs work too).
        sha256: the digest the bytes must have.
        timeout: seconds to wait for the server.

    Raises:
        NotFoundError: the URL could not be fetched.
        InvalidInputError: the fetched bytes have another sha256.
    """
    import urllib.request  # only here: importing the package never touches the network

    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = folder / "locomo10.json"
    if target.is_file() and file_sha256(target) == sha256:
        return target
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
    except (OSError, ValueError) as e:
        raise NotFoundError(f"could not download LoCoMo from {url}: {e}") from e
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InvalidInputError(f"LoCoMo from {url} has sha256 {actual}, expected {sha256}")
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target


def _resolve(
    path: str | os.PathLike[str] | None,
    download: bool,
    cache_dir: str | os.PathLike[str] | None,
    sha256: str,
) -> Path:
    if path is not None:
        return Path(path)
    if os.environ.get(LOCOMO_ENV_VAR):
        return Path(os.environ[LOCOMO_ENV_VAR])
    if download:
        return download_locomo(cache_dir, sha256=sha256)
    raise ConfigurationError(
        f"no LoCoMo file given: pass a path, set ${LOCOMO_ENV_VAR}, or call "
        "load_locomo(download=True) to fetch the official file (CC BY-NC 4.0)"
    )


def load_locomo(
    path: str | os.PathLike[str] | None = None,
    *,
    verify: Verify = "error",
    sha256: str = LOCOMO_SHA256,
    download: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> LoCoMo:
    """Load and check ``locomo10.json``.

    The file is ``path`` if given, else ``$MEMORY_R1_LOCOMO``, else (``download=True`` only)
    a copy fetched by ``download_locomo(cache_dir)``.

    Args:
        path: the JSON file.
        verify: on a sha256 other than ``sha256``: raise ("error"), warn with a
            ``ChecksumWarning`` ("warn"), or do not check ("off", for files of your own).
        sha256: the expected digest, the official release's by default.
        download: allow fetching the official file when no path is given.
        cache_dir: where a download goes (``default_cache_dir()`` if None).

    Raises:
        ConfigurationError: no path, no environment variable and no ``download``.
        NotFoundError: the file does not exist (or could not be downloaded).
        InvalidInputError: wrong sha256 (``verify="error"``), not JSON, or not LoCoMo's layout.
    """
    if verify not in ("error", "warn", "off"):
        raise InvalidInputError(f"verify must be 'error', 'warn' or 'off', got {verify!r}")
    file = _resolve(path, download, cache_dir, sha256)
    try:
        data = file.read_bytes()
    except FileNotFoundError as e:
        raise NotFoundError(f"LoCoMo file not found: {file}") from e
    except OSError as e:
        raise InvalidInputError(f"cannot read LoCoMo file {file}: {e}") from e
    actual = hashlib.sha256(data).hexdigest()
    if verify != "off" and actual != sha256:
        message = f"{file} has sha256 {actual}, expected {sha256}"
        if verify == "error":
            raise InvalidInputError(message + " (pass verify='warn' or 'off' to load it anyway)")
        warnings.warn(message, ChecksumWarning, stacklevel=2)
    try:
        raw = json.loads(data)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise InvalidInputError(f"{file} is not valid JSON: {e}") from e
    return parse_locomo(raw, source=str(file), sha256=actual)
