#!/usr/bin/env bash
# Usage: bash launch/prepare_data.sh
# Writes the example data of the your-own-data configs (configs/*_csv.yaml, *_folder.yaml,
# *_text.yaml, *_tokens.yaml, *_numpy.yaml) into $TANDEM_DATA_CACHE (default ~/.cache/tandem):
# scikit-learn's wine, breast_cancer and diabetes as CSV and digits as NumPy arrays and as a
# PNG image folder, Fashion-MNIST as a PNG image folder, and Shakespeare as a text file and as
# nanoGPT token files. Installs Pillow, numpy and scikit-learn from PyPI when missing. A dataset
# already written is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${TANDEM_DATA_CACHE:-$HOME/.cache/tandem}
python3 -c "import PIL, numpy, sklearn" 2>/dev/null || python3 -m pip install --quiet Pillow numpy scikit-learn
python3 launch/make_table_data.py --out "$cache"
python3 launch/make_image_folder.py digits "$cache/digits-png"
python3 launch/make_image_folder.py fashion-mnist "$cache/fashion-mnist-png"
