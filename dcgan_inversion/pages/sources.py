"""Which command makes each committed result: the table the reproducibility page renders, and the list a
test holds every file under `docs/results/` to (a file no entry covers fails it).

Each entry's commands run in order from a clean clone (after `make demo CONFIG=demo` where they need
the demo generator's run, runs/demo) and write only the files their patterns name; the page shows them in a bash block, so the
page-command test dry-runs them as written.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch


@dataclass(frozen=True)
class Source:
    files: tuple[str, ...]     # glob patterns under docs/results/
    commands: tuple[str, ...]  # run in this order
    what: str


DEMO = "make demo CONFIG=demo && make publish FORCE=1 RUN=runs/demo"
FACE_PAPER = "make import PRETRAINED=gan-face-generate RUN=runs/face_paper"
FACE_PAPER_PRIOR = "make import PRETRAINED=gan-face-generate RUN=runs/face_paper_prior"
SOURCES = (
    Source(("runs/celeba_demo/*",), ("make demo", 'make invert ARGS="--experiment edits"', "make publish FORCE=1"),
           "the paper's experiments at make demo's sizes on the CelebA-like DCGAN (generateme), its own N(0, 1) "
           "latents, and the walks-and-arithmetic example"),
    Source(("runs/celeba_demo_uniform/*",),
           ('make demo RUN=runs/celeba_demo_uniform ARGS="--set experiments.latents=paper_uniform"',
            "make publish FORCE=1 RUN=runs/celeba_demo_uniform"),
           "the paper's experiments at make demo's sizes on the CelebA-like DCGAN, the paper's U(-1, 1) latents "
           "(box [-1, 1])"),
    Source(("runs/celeba_paper/amos/*",),
           ("make import PRETRAINED=generateme RUN=runs/celeba_paper",
            'make invert RUN=runs/celeba_paper PROTOCOL=amos ARGS="--experiment table1 '
            '--set experiments.table1_latents=8 --set invert.steps=10000"',
            "make publish FORCE=1 RUN=runs/celeba_paper PROTOCOL=amos"),
           "Table 1 under Amos's Adam on the CelebA-like DCGAN, 10,000 of his 100,000 steps, the paper's U(-1, 1) "
           "latents (box [-1, 1])"),
    Source(("runs/celeba_paper/completion.*", "runs/celeba_paper/config.yaml", "runs/celeba_paper/imported.json"),
           ("make import PRETRAINED=generateme RUN=runs/celeba_paper",
            'make invert RUN=runs/celeba_paper ARGS="--experiment completion --set completion.latents=4 '
            '--set completion.starts=2 --set experiments.modes=[stochastic] --set completion.hidden_fractions=[0.3,0.7,0.9]"',
            'make publish FORCE=1 RUN=runs/celeba_paper ARGS="--only completion"'),
           "the completion experiment on the CelebA-like DCGAN at small sizes (stochastic clipping), the celeba config"),
    Source(("runs/celeba_paper_prior/authors/*",),
           ("make import PRETRAINED=generateme RUN=runs/celeba_paper_prior",
            'make invert RUN=runs/celeba_paper_prior PROTOCOL=authors ARGS="--experiment table1 '
            '--set experiments.table1_latents=8 --set experiments.latents=prior"',
            "make publish FORCE=1 RUN=runs/celeba_paper_prior PROTOCOL=authors"),
           "Table 1 under the authors' protocol (plain gradient descent, 100,000 steps) on the CelebA-like DCGAN, "
           "8 of its N(0, 1) latents per mode, resumed across sessions"),
    Source(("runs/celeba_paper_prior/amos/*",),
           ("make import PRETRAINED=generateme RUN=runs/celeba_paper_prior",
            'make invert RUN=runs/celeba_paper_prior PROTOCOL=amos ARGS="--experiment table1 '
            '--set experiments.table1_latents=8 --set experiments.latents=prior --set invert.steps=10000"',
            'make invert RUN=runs/celeba_paper_prior PROTOCOL=amos ARGS="--curvature --set experiments.latents=prior"',
            "make publish FORCE=1 RUN=runs/celeba_paper_prior PROTOCOL=amos"),
           "Table 1 under Amos's Adam on the CelebA-like DCGAN, 10,000 of his 100,000 steps, its N(0, 1) latents, "
           "and the loss's curvature at those latents beside Adam's measured decay rates"),
    Source(("runs/face_demo/*",), ("make demo PRETRAINED=gan-face-generate RUN=runs/face_demo",
                                   'make invert RUN=runs/face_demo ARGS="--experiment edits"',
                                   "make publish FORCE=1 RUN=runs/face_demo"),
           "the paper's experiments on the other real face generator (gan-face-generate) at make demo's sizes, and "
           "the walks-and-arithmetic example"),
    Source(("runs/face_demo_uniform/*",),
           ('make demo PRETRAINED=gan-face-generate RUN=runs/face_demo_uniform '
            'ARGS="--set experiments.latents=paper_uniform"',
            "make publish FORCE=1 RUN=runs/face_demo_uniform"),
           "the same experiments on the paper's U(-1, 1) latents (box [-1, 1])"),
    Source(("runs/face_table1_uniform/*",),
           ("make import PRETRAINED=gan-face-generate RUN=runs/face_table1_uniform",
            'make invert RUN=runs/face_table1_uniform ARGS="--experiment table1 --set experiments.table1_latents=1000 '
            '--set experiments.latents=paper_uniform --set invert.max_rows=125"',
            "make publish FORCE=1 RUN=runs/face_table1_uniform"),
           "Table 1 under our method (the celeba config's default) at the paper's size on the real face generator: "
           "U(-1, 1) latents, 1,000 per mode, in batches of 125 (hours)"),
    Source(("runs/face_table1_prior/*",),
           ("make import PRETRAINED=gan-face-generate RUN=runs/face_table1_prior",
            'make invert RUN=runs/face_table1_prior ARGS="--experiment table1 --set experiments.table1_latents=1000 '
            '--set experiments.latents=prior --set invert.max_rows=125"',
            "make publish FORCE=1 RUN=runs/face_table1_prior"),
           "Table 1 under our method (the celeba config's default) at the paper's size on the real face generator: "
           "its own N(0, 1) latents, 1,000 per mode, in batches of 125 (hours)"),
    Source(("runs/face_noise_prior/*",),
           ("make import PRETRAINED=gan-face-generate RUN=runs/face_noise_prior",
            'make invert RUN=runs/face_noise_prior ARGS="--experiment noise --set experiments.noise_latents=16 '
            '--set experiments.latents=prior"',
            "make publish FORCE=1 RUN=runs/face_noise_prior"),
           "Figure 2 under our method on the real face generator, 16 latents per noise level and mode, its own N(0, 1) latents"),
    Source(("runs/celeba_noise_prior/*",),
           ("make import PRETRAINED=generateme RUN=runs/celeba_noise_prior",
            'make invert RUN=runs/celeba_noise_prior ARGS="--experiment noise --set experiments.noise_latents=16 '
            '--set experiments.latents=prior"',
            "make publish FORCE=1 RUN=runs/celeba_noise_prior"),
           "Figure 2 under our method on the CelebA-like DCGAN, 16 latents per noise level and mode, its own N(0, 1) "
           "latents"),
    Source(("runs/face_noise_uniform/*",),
           ("make import PRETRAINED=gan-face-generate RUN=runs/face_noise_uniform",
            'make invert RUN=runs/face_noise_uniform ARGS="--experiment noise --set experiments.noise_latents=16 '
            '--set experiments.latents=paper_uniform"',
            "make publish FORCE=1 RUN=runs/face_noise_uniform"),
           "Figure 2 under our method on the real face generator, 16 latents per noise level and mode, the paper's U(-1, 1) latents"),
    Source(("runs/face_paper/authors/*",),
           (FACE_PAPER, 'make invert RUN=runs/face_paper PROTOCOL=authors ARGS="--experiment table1 '
                        '--set experiments.table1_latents=8 --set experiments.latents=paper_uniform"',
            'make invert RUN=runs/face_paper PROTOCOL=authors ARGS="--curvature --set experiments.latents=paper_uniform"',
            "make publish FORCE=1 RUN=runs/face_paper PROTOCOL=authors"),
           "Table 1 under the authors' protocol on the real face generator, the paper's U(-1, 1) latents (hours), "
           "and the curvature at its latents"),
    Source(("runs/face_paper_prior/authors/*",),
           (FACE_PAPER_PRIOR, 'make invert RUN=runs/face_paper_prior PROTOCOL=authors ARGS="--experiment table1 '
                              '--set experiments.table1_latents=8 --set experiments.latents=prior"',
            'make invert RUN=runs/face_paper_prior PROTOCOL=authors ARGS="--curvature --set experiments.latents=prior"',
            "make publish FORCE=1 RUN=runs/face_paper_prior PROTOCOL=authors"),
           "Table 1 under the authors' protocol on the real face generator, its own N(0, 1) latents (hours), "
           "and the curvature at its latents"),
    Source(("runs/face_paper_prior/amos/*",),
           (FACE_PAPER_PRIOR, 'make invert RUN=runs/face_paper_prior PROTOCOL=amos ARGS="--experiment table1 '
                              '--set experiments.table1_latents=8 --set experiments.latents=prior '
                              '--set invert.steps=10000"',
            "make publish FORCE=1 RUN=runs/face_paper_prior PROTOCOL=amos"),
           "Table 1 under Amos's Adam on the real face generator, 10,000 of his 100,000 steps, its N(0, 1) latents"),
    Source(("runs/face_paper/uniqueness.*", "runs/face_paper/table2.md", "runs/face_paper/config.yaml",
            "runs/face_paper/imported.json"),
           (FACE_PAPER, 'make invert RUN=runs/face_paper ARGS="--experiment uniqueness '
                        '--set experiments.uniqueness_images=2 --set experiments.uniqueness_restarts=32"',
            'make publish FORCE=1 RUN=runs/face_paper ARGS="--only table2"'),
           "Table 2 on the real face generator: both shipped portraits, 32 starts per mode"),
    Source(("runs/face_paper/completion.*",),
           (FACE_PAPER, 'make invert RUN=runs/face_paper ARGS="--experiment completion --set completion.latents=4 '
                        '--set completion.starts=2 --set experiments.modes=[stochastic] '
                        '--set completion.hidden_fractions=[0.3,0.7,0.9]"',
            'make publish FORCE=1 RUN=runs/face_paper ARGS="--only table2 --only completion"'),
           "the completion experiment on the real face generator at small sizes (stochastic clipping)"),
    Source(("runs/face_paper/amos/*",),
           (FACE_PAPER, 'make invert RUN=runs/face_paper PROTOCOL=amos ARGS="--experiment table1 '
                        '--set experiments.table1_latents=8 --set experiments.latents=paper_uniform '
                        '--set invert.steps=10000"',
            "make publish FORCE=1 RUN=runs/face_paper PROTOCOL=amos"),
           "Table 1 under Amos's Adam on the real face generator, 10,000 of his 100,000 steps, U(-1, 1) latents"),
    Source(("table1.*", "table2.md", "uniqueness.*", "noise.*", "trajectory.*", "figure1.png", "figure2.png",
            "convergence.png", "training.png", "table1_protocols.md"), (DEMO,),
           "our method on the demo generator: Tables 1-2, Figures 1-2, convergence, training"),
    Source(("completion.*",), ('make invert RUN=runs/demo ARGS="--experiment completion"', "make publish FORCE=1 RUN=runs/demo"),
           "the completion experiment"),
    Source(("authors/*",), ("make invert RUN=runs/demo PROTOCOL=authors",
                            "make invert RUN=runs/demo PROTOCOL=authors ARGS=--curvature",
                            "make publish FORCE=1 RUN=runs/demo PROTOCOL=authors"),
           "the authors' protocol, every experiment (hours on 2 cores)"),
    Source(("amos/*",), ('make invert RUN=runs/demo PROTOCOL=amos ARGS="--experiment table1"',
                         "make publish FORCE=1 RUN=runs/demo PROTOCOL=amos"), "Table 1 under Amos's Adam"),
    Source(("authors_moving/table1.*",),
           ('make invert RUN=runs/demo PROTOCOL=authors_moving ARGS="--experiment table1"',
            "make publish FORCE=1 RUN=runs/demo PROTOCOL=authors_moving"), "Table 1 with moving-average batch norm"),
    Source(("authors_moving/authors_10k_same_generator.json",),
           ("cp -r runs/demo runs/demo_10k",
            'make invert RUN=runs/demo_10k PROTOCOL=authors ARGS="--experiment table1 --set invert.steps=10000"',
            "cp runs/demo_10k/results/authors/table1.json docs/results/authors_moving/authors_10k_same_generator.json"),
           "the authors' protocol for 10,000 steps on the same generator (a copy of the run keeps its 100k results)"),
    Source(("bench.*",), ("make bench RUN=runs/demo", "make encoder RUN=runs/demo",
                          "make bench RUN=runs/demo ARGS=--starts-only",
                          'make bench RUN=runs/face ARGS="--recovery-only --recovery-latents 16"',
                          'make bench RUN=runs/face ARGS="--recovery-only --recovery-latents 64 --recovery-methods '
                          '\'long first-order phase\' \'screened starts, early switch\' '
                          '\'screened starts, long phase, polish budget\' \'nearest of a bank, long phase, polish budget\'"',
                          'make bench ARGS="--recovery-only --recovery-untrained --recovery-latents 16"',
                          "make encoder RUN=runs/face",
                          'make bench RUN=runs/face ARGS="--starts-only --start-latents 16"'),
           "speeds, the polish methods, the starts, recovery on the real face generator (make import "
           "PRETRAINED=gan-face-generate RUN=runs/face first); each --...-only adds its section to the report"),
    Source(("reproducibility.json",),
           ('make demo CONFIG=demo RUN=runs/demo_cpu ARGS="--set polish.method=layerwise_lm"',
            'TF_ENABLE_ONEDNN_OPTS=0 make demo CONFIG=demo RUN=runs/demo_onednn_off ARGS="--set polish.method=layerwise_lm"'),
           "the demo generator trained and measured on two CPUs and with oneDNN off, with the polish layerwise_lm; "
           "transcribed by hand from those runs, whose folders were not kept"),
    Source(("verdicts_celeba/*",), ("make demo", ".venv/bin/python -m dcgan_inversion.user_images.measure --run runs/celeba_demo "
                                                "--starts 4 --out docs/results/verdicts_celeba"),
           "how well the verdict separates, on the CelebA-like DCGAN (make demo's run)"),
    Source(("verdicts.*",), (".venv/bin/python -m dcgan_inversion.user_images.measure --run runs/demo",),
           "the verdict's calibration and categories, 8 random starts"),
    Source(("verdicts_encoder/*",), ("make encoder RUN=runs/demo",
                                     ".venv/bin/python -m dcgan_inversion.user_images.measure --run runs/demo --starts 2 "
                                     "--encoder --out docs/results/verdicts_encoder"),
           "the same with the run's encoder's start and 2 starts"),
    Source(("your_images_contact_sheet.png",),
           ('make generate RUN=runs/demo ARGS="-n 4"', ".venv/bin/dcgan-invert --run runs/demo --image runs/demo/generated/",
            "cp runs/demo/results/images/contact_sheet.png docs/results/your_images_contact_sheet.png"),
           "the contact sheet of --image"),
)


def source_of(name: str) -> Source | None:
    """The entry whose patterns cover `name` (a path under docs/results/), or None."""
    return next((source for source in SOURCES if any(fnmatch(name, pattern) for pattern in source.files)), None)
