#!/usr/bin/env bash
# Install Lüzhi on a machine without internet access (docs/operations.md, "Installing
# without internet").
#
# On a machine that reaches the package index, from a clone of the repository:
#
#   scripts/offline-bundle.sh build [OUT_DIR]
#       wheels of Lüzhi and of every dependency, for this machine's Python and platform
#   scripts/offline-bundle.sh build [OUT_DIR] --python-version 3.11 --platform manylinux2014_x86_64
#       for another target (binary wheels only; the target's Python version and platform tag,
#       as `python3 -c "import sysconfig; print(sysconfig.get_platform())"` and pip's
#       `pip debug --verbose` show them)
#
# It writes OUT_DIR/lvzhi-offline-<version>-py<ver>-<platform>.tar.gz (default OUT_DIR: dist/).
# Carry that file to the target, then:
#
#   tar xzf lvzhi-offline-….tar.gz && lvzhi-offline-…/install.sh /opt/lvzhi/venv
#
# install.sh creates the virtualenv and runs `pip install --no-index --find-links wheels`: it
# never contacts an index, whatever pip configuration the target has.
set -euo pipefail

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

[ "${1:-}" = "build" ] || usage
shift
out="dist"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  out="$1"
  shift
fi
target_python=""
target_platform=""
while [ $# -gt 0 ]; do
  case "$1" in
    --python-version) target_python="$2"; shift 2 ;;
    --platform) target_platform="$2"; shift 2 ;;
    *) usage ;;
  esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
version="$("$python" -c "import tomllib; print(tomllib.load(open('$repo/pyproject.toml', 'rb'))['project']['version'])")"
pyver="${target_python:-$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}"
platform="${target_platform:-$("$python" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')}"
name="lvzhi-offline-${version}-py${pyver}-${platform}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bundle="$work/$name"
mkdir -p "$bundle/wheels"

# Build in a throwaway virtualenv so that the machine's own packages do not leak in.
"$python" -m venv "$work/build-venv"
pip=("$work/build-venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip wheel >/dev/null

if [ -z "$target_python$target_platform" ]; then
  # This machine's Python and platform: every dependency as a wheel (built here if its
  # project publishes only a source archive), and Lüzhi's own wheel.
  "${pip[@]}" wheel --wheel-dir "$bundle/wheels" "$repo"
else
  # Another target: binary wheels only (nothing can be compiled for it here).
  deps="$("$python" -c "import tomllib; print('\n'.join(tomllib.load(open('$repo/pyproject.toml', 'rb'))['project']['dependencies']))")"
  mapfile -t requirements <<<"$deps"
  "${pip[@]}" download --dest "$bundle/wheels" --only-binary=:all: \
    --python-version "$pyver" --implementation cp \
    --platform "$platform" "${requirements[@]}" pip
  "${pip[@]}" wheel --no-deps --wheel-dir "$bundle/wheels" "$repo"
fi
# pip itself, so that install.sh can bring the new virtualenv's pip to the bundle's version.
[ -n "$target_python$target_platform" ] || "${pip[@]}" download --dest "$bundle/wheels" --only-binary=:all: pip >/dev/null

# What the bundle holds, exactly (names and versions of the wheels).
(cd "$bundle/wheels" && ls -1 *.whl | sort) >"$bundle/MANIFEST.txt"
cp "$repo/config.example.toml" "$bundle/"
[ -d "$repo/deploy" ] && cp -r "$repo/deploy" "$bundle/"
cat >"$bundle/install.sh" <<EOF
#!/usr/bin/env bash
# Install Lüzhi ${version} from the wheels beside this script, without any package index.
#   ./install.sh VENV_DIR        (e.g. /opt/lvzhi/venv; needs Python ${pyver})
set -euo pipefail
here="\$(cd "\$(dirname "\$0")" && pwd)"
venv="\${1:?usage: install.sh VENV_DIR}"
python="\${PYTHON:-python3}"
"\$python" -m venv "\$venv"
# Ignore any pip configuration of this machine (indexes, find-links, constraints): only the
# bundle's wheels are used.
export PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV || true
"\$venv/bin/python" -m pip install -q --no-index --find-links "\$here/wheels" "lvzhi==${version}"
"\$venv/bin/lvzhi" --version
EOF
chmod +x "$bundle/install.sh"

tar -C "$work" -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz ($(wc -l <"$bundle/MANIFEST.txt") wheels)"
