"""A minimal PEP 517 build backend for the rewardkit binding.

The package is pure Python (the compiled part is librewardkit.so, built and
installed by CMake), so a wheel is just a zip of rewardkit/ plus metadata.
Keeping the backend here lets `pip install ./python` run with no network:
pip does not need to fetch setuptools or wheel.
"""
import base64
import hashlib
import os
import zipfile

NAME = "rewardkit"
VERSION = "0.1.0"
TAG = "py3-none-any"
HERE = os.path.dirname(os.path.abspath(__file__))
DIST_INFO = f"{NAME}-{VERSION}.dist-info"

METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Reward engine for RL on language and vision-language models (binding to librewardkit)
Requires-Python: >=3.8
"""

WHEEL = f"""Wheel-Version: 1.0
Generator: rewardkit-build-backend
Root-Is-Purelib: true
Tag: {TAG}
"""


def _package_files():
    root = os.path.join(HERE, NAME)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w") as f:
        f.write(METADATA)
    with open(os.path.join(path, "WHEEL"), "w") as f:
        f.write(WHEEL)
    return DIST_INFO


def _write_wheel(wheel_directory, entries):
    filename = f"{NAME}-{VERSION}-{TAG}.whl"
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as zf:
        for arcname, data in entries:
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        for arcname, text in ((f"{DIST_INFO}/METADATA", METADATA),
                              (f"{DIST_INFO}/WHEEL", WHEEL)):
            data = text.encode()
            zf.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(f"{DIST_INFO}/RECORD,,")
        zf.writestr(f"{DIST_INFO}/RECORD", "\n".join(records) + "\n")
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for full, arcname in _package_files():
        with open(full, "rb") as f:
            entries.append((arcname, f.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth file pointing at this folder.
    return _write_wheel(wheel_directory, [(f"{NAME}_editable.pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    import tarfile
    base = f"{NAME}-{VERSION}"
    filename = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tf:
        for name in ("pyproject.toml", "_build_backend.py", "README.md"):
            path = os.path.join(HERE, name)
            if os.path.exists(path):
                tf.add(path, arcname=f"{base}/{name}")
        for full, arcname in _package_files():
            tf.add(full, arcname=f"{base}/{arcname}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = METADATA.encode()
        info.size = len(data)
        import io
        tf.addfile(info, io.BytesIO(data))
    return filename
