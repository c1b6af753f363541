"""Installable package for dcgan-inversion (Lipton & Tripathi, 2017, on Amos's DCGAN)."""
from setuptools import find_packages, setup

setup(
    name="dcgan-inversion",
    version="0.1.0",
    description="Precise recovery of latent vectors from DCGAN generators with stochastic clipping",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["dcgan_inversion", "dcgan_inversion.*"]),
    package_data={"dcgan_inversion": ["configs/*.yaml", "configs/protocols/*.yaml"]},
    install_requires=[
        # Compatible ranges for library use; constraints.txt pins the versions the results were made with.
        "tensorflow>=2.16,<3",
        "keras>=3.0,<4",
        "numpy>=1.26,<3",
        "pillow>=10",
        "matplotlib>=3.8",
        "pyyaml>=6",
        "scikit-image>=0.22",
        "tensorboard>=2.16",
        # generators published as model.safetensors: the format's own reader (NumPy, no torch)
        "safetensors>=0.4",
    ],
    extras_require={
        "and-cuda": ["tensorflow[and-cuda]>=2.16,<3"],
        # jinja2: the pages are rendered (make docs); nbmake: the notebook tour runs as a test;
        # pytest-xdist: make test spreads the suite over the cores
        "test": ["pytest>=8", "hypothesis>=6", "jinja2>=3.1", "nbmake>=1.5", "pytest-xdist>=3.5"],
    },
    entry_points={
        "console_scripts": [
            "dcgan-train=dcgan_inversion.cli:train_main",
            "dcgan-invert=dcgan_inversion.cli:invert_main",
            "dcgan-figures=dcgan_inversion.cli:figures_main",
            "dcgan-generate=dcgan_inversion.cli:generate_main",
            "dcgan-import=dcgan_inversion.cli:import_main",
        ]
    },
)
