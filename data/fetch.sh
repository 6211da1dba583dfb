#!/usr/bin/env bash
# Fills data/fashion-mnist/ with the four Fashion-MNIST files: from Debian's dataset-fashion-mnist package when
# installed, else downloaded from the official location. Verifies the SHA-256 of each file's uncompressed content.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/fashion-mnist}
debian=/usr/share/datasets/fashion-mnist
url=${FASHION_MNIST_URL:-http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/}
declare -A sha=(
  [train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

verify() { # file name
  local got
  got=$(gzip -dc "$1" | sha256sum | cut -d' ' -f1) || { echo "error: $1: not a readable gzip file" >&2; return 1; }
  if [ "$got" != "${sha[$2]}" ]; then
    echo "error: $1: SHA-256 of the content is $got, expected ${sha[$2]}" >&2
    return 1
  fi
}

# Debian/Ubuntu: install the packaged data set when it is missing (as root, or through passwordless sudo).
if [ ! -f "$debian/train-images-idx3-ubyte.gz" ] && command -v apt-get >/dev/null 2>&1; then
  as_root=""
  [ "$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && as_root="sudo -n"; }
  if [ "$(id -u)" = 0 ] || [ -n "$as_root" ]; then
    echo "installing Debian's dataset-fashion-mnist package (apt-get) ..." >&2
    { $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq dataset-fashion-mnist; } \
      >&2 || echo "apt-get could not install dataset-fashion-mnist; downloading instead" >&2
  fi
fi

tmp=$(mktemp -d "${dest%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for name in "${!sha[@]}"; do
  if [ -f "$debian/$name.gz" ]; then
    src="from Debian's dataset-fashion-mnist"
    ln -s "$debian/$name.gz" "$tmp/$name.gz"
  else
    src="downloaded from $url"
    if command -v curl >/dev/null; then
      curl -fsSL --retry 3 -o "$tmp/$name.gz" "$url$name.gz"
    elif command -v wget >/dev/null; then
      wget -q -O "$tmp/$name.gz" "$url$name.gz"
    else
      echo "error: $debian is absent and neither curl nor wget is installed;" \
           "install Debian's dataset-fashion-mnist package or download the files into $dest" >&2
      exit 1
    fi
  fi
  verify "$tmp/$name.gz" "$name"
  echo "$name.gz: checksum ok ($src)"
done
mkdir -p "$dest"
mv -f "$tmp"/*.gz "$dest"/
echo "Fashion-MNIST ready in $dest"
