#!/usr/bin/env bash
# The GPU path, ready to prove: which providers load, ort-engine training samples/s, decoder bench
# rows and the serve bench on each, as a Markdown report (scripts/gpu-check.ts says what and how).
# Without an NVIDIA GPU it says "no GPU" and skips the GPU rows (exit 0); --force runs them on what
# loads. No network. Usage: bash scripts/gpu-check.sh [--force] [--md report.md] [...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f dist/cli/index.js ]; then npm run build >&2; fi
exec node node_modules/tsx/dist/cli.mjs scripts/gpu-check.ts "$@"
