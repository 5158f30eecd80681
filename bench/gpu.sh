#!/usr/bin/env bash
# On a CUDA machine, two checks (issue 23, item 4); nothing else depends on them.
#  1. The default run twice: float32 on the CPU (the reference) and bfloat16 on the GPU (device: cuda), compared
#     output by output by bench/precision.py, whose tables state the tolerances bfloat16 is held to.
#  2. Capture and perplexity tokens/s on the GPU, against its own bfloat16 and float32 matmul peaks.
# Usage: bash bench/gpu.sh [FOLDER]   (default /tmp/linguafranca-gpu; the runs are reused when finished)
# Not yet run on a GPU: put its figures in docs/performance.md with the GPU named when it is.
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:-/tmp/linguafranca-gpu}
bash setup.sh
. .venv/bin/activate
python -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "bench/gpu.sh: torch sees no GPU")'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
cores=$(nproc)
python bench/precision.py --run "$folder" --cores "$cores" --device cuda | tee "$folder/precision.txt"
model="$folder/cuda-bfloat16/resources/models/gemma3-270m/main/hf"
python bench/speed.py --model "$model" --device cuda --batch 16 --seqlen 512 | tee "$folder/speed.txt"
