"""The built wheel (not an editable install) carries the lexicon and model and restores."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
            check=True, capture_output=True, text=True, timeout=300,
        )
    except subprocess.CalledProcessError as exc:  # show pip's reason
        pytest.fail(f"building the wheel failed:\n{exc.stdout}\n{exc.stderr}")
    (whl,) = out.glob("despin-*.whl")
    return whl


def test_wheel_contains_data(wheel):
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("despin/_data/lexicon/") and n.endswith(".tsv") for n in names)
    assert "despin/_data/model/context.bin" in names
    assert "despin/_data/thesaurus/oewn_candidates.tsv.gz" in names
    assert "despin/_data/thesaurus/params.json" in names
    assert "despin/_data/thesaurus/LICENSE-WordNet.txt" in names
    assert "despin/py.typed" in names


def test_installed_wheel_restores(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    # system site packages provide regex, rapidfuzz and wordfreq; despin comes from the wheel only
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--force-reinstall", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    code = (
        "import despin, os;"
        "assert 'site-packages' in despin.__file__, despin.__file__;"
        "from despin.lexicon import bundled_lexicon_dir; from despin.context import bundled_model_path;"
        "assert '_data' in str(bundled_lexicon_dir()) and bundled_model_path();"
        "from despin.thesaurus import bundled_thesaurus_path;"
        "assert '_data' in str(bundled_thesaurus_path());"
        "assert despin.detect('The firm stated it would commence.', unseen=True).score >= 0.0;"
        "print(despin.restore('The satellite tv for pc launch was delayed.'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = subprocess.run([str(py), "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "The satellite launch was delayed."
