"""`make bench`: runs the measurements, prints a table and writes `bench.json` and `bench.md`."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from dcgan_inversion.bench import input as bench_input, polish as bench_polish, recovery as bench_recovery  # noqa: E402
from dcgan_inversion.bench import starts as bench_starts  # noqa: E402
from dcgan_inversion.bench.quick import LATENTS as QUICK_LATENTS, at_quick_size  # noqa: E402
from dcgan_inversion.bench.loops import (MODELS, bfloat16_comparison, per_step_costs,  # noqa: E402
                                         xla_comparison)
from dcgan_inversion.bench.resources import memory_scaling, sharding, training_throughput  # noqa: E402
from dcgan_inversion.infra.environment import environment  # noqa: E402
from dcgan_inversion.infra.errors import UserError  # noqa: E402
from dcgan_inversion.infra.io_utils import atomic_write_text, write_json  # noqa: E402


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']} (TensorFlow {report['tensorflow']}).", "",
             "| generator | batch | engine ms/step | latent-steps/s | GFLOP/s | bare loop | authors-style / engine | eager / engine |",
             "|---|---|---|---|---|---|---|---|"]
    for entry in report["per_step"]:
        ratios = [f"{entry[k] / entry['engine_ms']:.2f}x" if k in entry else "—" for k in ("authors_style_ms", "eager_ms")]
        lines.append(f"| {entry['model']} | {entry['batch']} | {entry['engine_ms']:.2f} | {entry['latent_steps_per_s']:.0f} | "
                     f"{entry['gflops']:.1f} | {entry['bare_ms'] / entry['engine_ms']:.2f}x | {ratios[0]} | {ratios[1]} |")
    lines += ["", "`bare loop` is forward + backward + Adam with no clip or tracking, as a ratio of the engine's time "
              "(below 1 means the engine's extras cost that much)."]
    lines += bench_polish.markdown(report)
    for run_report in report.get("starts_by_run", {}).values():
        lines += [""] + bench_starts.markdown(run_report)
    for run_report in report.get("recovery_by_run", {}).values():
        lines += [""] + bench_recovery.markdown(run_report)
    if "training" in report:
        lines += ["", "Training: " + "; ".join(f"{name} {v['images_per_s']:.0f} images/s ({v['ms_per_step']:.0f} ms per step of 64)"
                                             for name, v in report["training"].items()) + "."]
    if "memory" in report:
        memory = report["memory"]
        lines += ["", f"Peak RSS (MB), demo generator: by batch {_mb(memory['peak_rss_mb_by_batch'])}; "
                  f"by steps at batch 256 {_mb(memory['peak_rss_mb_by_steps'])}."]
    if "xla" in report:
        xla = report["xla"]["ms_per_step"]
        lines += ["", f"XLA (`invert.jit_compile`), demo batch 256: {xla['xla']:.1f} ms/step vs {xla['default']:.1f} without."]
    if "bfloat16" in report:
        bf16 = report["bfloat16"]
        lines += ["", f"mixed_bfloat16, demo batch 256: {bf16['mixed_bfloat16_ms']:.1f} ms/step vs float32 "
                  f"{bf16['float32_ms']:.1f}; G(z) differs by up to {bf16['max_relative_pixel_difference']:.1e} of its range "
                  "(the float32 polish that follows removes the difference)."]
    if report.get("strategies"):
        strategies = report["strategies"]
        default, mirrored = strategies["default"], strategies["mirrored"]
        lines += ["", f"`distribute.strategy`, demo generator: inversion at batch {strategies['inversion_batch']} "
                  f"{default['invert_ms_per_step']:.1f} ms/step on one device vs {mirrored['invert_ms_per_step']:.1f} "
                  f"mirrored over {mirrored['replicas']} replicas; training at batch 64 {default['train_ms_per_step']:.0f} "
                  f"vs {mirrored['train_ms_per_step']:.0f} ms/step"
                  + (" (CPU split in logical devices: the replicas share the same cores)" if "CPU" in report["machine"] else "") + "."]
    if "input_pipeline" in report:
        lines += bench_input.markdown(report["input_pipeline"], report.get("training"))
    return "\n".join(lines) + "\n"


def _saved_report(args) -> dict:
    """The report already in `args.out` (empty if none)."""
    import json

    path = args.out / "bench.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _update_report(args, sections: dict) -> None:
    """Sections measured now, written into the report in `args.out` (the rest stays)."""
    path = args.out / "bench.json"
    report = _saved_report(args) or _header()
    report.update(sections)
    for outdated in ("starts", "starts_date"):  # written before starts were kept per run
        report.pop(outdated, None)
    write_json(path, report)
    atomic_write_text(args.out / "bench.md", markdown(report))
    print(f"wrote {', '.join(sections)} into {path} and {args.out / 'bench.md'}")


def _header() -> dict:
    """A new report's first lines: when and where it was measured (sections follow as they are)."""
    return {"date": time.strftime("%Y-%m-%d"), "environment": environment(), "tensorflow": tf.__version__,
            "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores" if not tf.config.list_physical_devices("GPU")
            else ", ".join(d.name for d in tf.config.list_physical_devices("GPU")), "per_step": []}


def _measured_before(args, section: str) -> dict:
    """A section of the report already in `args.out` (empty if none)."""
    return _saved_report(args).get(section, {})


POLISH_SECTIONS = ("steps_to_precision", "polish_memory", "untrained_64px_precision", "noise_64px")


def _dated_sections_kept(args, measured_now: dict) -> dict:
    """What a full run does not measure and the report in `args.out` holds with its own date: the starts
    and recovery comparisons per run, and the polish sections this run skipped (e.g. no trained run)."""
    before = _saved_report(args)
    kept = {key: before[key] for key in ("starts_by_run", "recovery_by_run") if key in before}
    if not measured_now and "polish_date" in before:
        kept.update({key: before[key] for key in (*POLISH_SECTIONS, "polish_date", "polish_environment") if key in before})
    return kept


def dated(measured: dict) -> dict:
    """A section measured on its own: when, and on what machine, versions and lock file."""
    return {**measured, "date": time.strftime("%Y-%m-%d"), "environment": environment()}


def quick_latents(args, latents: int) -> int:
    """Latents per mode a section measures: `latents`, or a few with --quick."""
    return min(latents, QUICK_LATENTS) if args.quick else latents


def _add_input_pipeline(args, log) -> None:
    _update_report(args, {"input_pipeline": dated(bench_input.input_pipeline(args.input_images, log))})


def _polish_sections(args, log) -> dict:
    """The polish methods side by side, on what the arguments ask for."""
    sections = {}
    if (args.run / "generator.weights.h5").exists():
        sections["steps_to_precision"] = bench_polish.demo_methods(args.run, 4 if args.quick else args.latents, log)
    else:
        log(f"no trained generator in {args.run}: skipping steps to precision (run `make train` first)")
    if not args.quick:
        sections["polish_memory"] = bench_polish.peak_memory()
    if args.paper_scale_latents:
        sections["untrained_64px_precision"] = bench_polish.untrained_64px_methods(args.paper_scale_latents, log)
    if args.noise_latents:
        sections["noise_64px"] = bench_polish.noise_64px(args.noise_latents, log)
    return sections


def _mb(values: dict) -> str:
    return ", ".join(f"{key}: {value:.0f}" for key, value in values.items())


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Benchmark the inversion engine and training.")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"),
                        help="folder for bench.json and bench.md (default: runs/bench; the committed benchmark is "
                             "docs/results, written only when named)")
    parser.add_argument("--compare", type=Path, default=Path("docs/results/bench.json"),
                        help="a benchmark to print this machine's speeds beside (default: the committed one)")
    parser.add_argument("--run", type=Path, default=Path("runs/demo"), help="trained demo run for steps to precision")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256, 1024])
    parser.add_argument("--naive-max-batch", type=int, default=256, help="largest batch timed with the naive loops")
    parser.add_argument("--latents", type=int, default=128, help="latents per mode for steps to precision")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="time each measurement at least this long")
    parser.add_argument("--input-images", type=int, default=1024, help="CelebA-shaped files for the input pipeline")
    parser.add_argument("--input-only", action="store_true",
                        help="measure only the input pipeline and add it to the report already in --out")
    parser.add_argument("--polish-only", action="store_true",
                        help="measure only the polish methods and add them to the report already in --out")
    parser.add_argument("--starts-only", action="store_true",
                        help="measure only where rows start (random vs the run's encoder, make encoder) and add it "
                             "to the report already in --out")
    parser.add_argument("--start-latents", type=int, default=64, help="latents per mode for --starts-only")
    parser.add_argument("--recovery-only", action="store_true",
                        help="measure only our method's recovery of generated latents on --run (e.g. an imported real "
                             "generator), the settings of bench/recovery.py side by side, both latent draws, and add it "
                             "to the report already in --out")
    parser.add_argument("--recovery-latents", type=int, default=64, help="latents per mode for --recovery-only")
    parser.add_argument("--recovery-methods", nargs="+", choices=list(bench_recovery.method_notes()),
                        help="with --recovery-only: only these settings (joining the run's measurement at as many latents)")
    parser.add_argument("--recovery-draws", nargs="+", choices=list(bench_recovery.DRAWS),
                        help="with --recovery-only: only these latent draws (joining the run's measurement at as many latents)")
    parser.add_argument("--recovery-untrained", action="store_true",
                        help="with --recovery-only: measure on a freshly initialised 64 px generator of Amos's "
                             "architecture instead of --run")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, every section (the --...-only ones too): checks the benchmark runs")
    parser.add_argument("--paper-scale-latents", type=int, default=0,
                        help="also compare the polish methods on an untrained 64 px generator (minutes per latent on CPU)")
    parser.add_argument("--noise-latents", type=int, default=0,
                        help="also compare the polish methods on the noise experiment at 64 px (latents per variance)")
    return parser


def compared(report: dict, committed_path: Path) -> str:
    """This machine's inversion speed beside the committed benchmark's, per model and batch size."""
    try:
        committed = json.loads(Path(committed_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"(no committed benchmark at {committed_path} to compare with)"
    before = {(row["model"], row["batch"]): row["latent_steps_per_s"] for row in committed.get("per_step", [])}
    lines = [f"latent-steps/s here vs the committed {committed_path} ({committed.get('machine', '?')}, "
             f"{committed.get('date', '?')}):"]
    for row in report.get("per_step", []):
        old = before.get((row["model"], row["batch"]))
        if old:
            lines.append(f"  {row['model']}, batch {row['batch']}: {row['latent_steps_per_s']:,.0f} vs {old:,.0f} "
                         f"({row['latent_steps_per_s'] / old:.2f}x)")
    return "\n".join(lines)


def main(argv=None) -> None:
    args = arguments().parse_args(argv)

    def log(text):
        print(text, flush=True)

    try:
        from dcgan_inversion.infra.io_utils import ensure_writable

        ensure_writable(args.out)  # before the measurements, not after them
        if args.input_only:
            return _add_input_pipeline(args, log)
        resize = at_quick_size if args.quick else None
        if args.starts_only:
            measured = bench_starts.compare_starts(args.run, quick_latents(args, args.start_latents), log, resize)
            return _update_report(args, {"starts_by_run": {**_measured_before(args, "starts_by_run"),
                                                           args.run.name: dated(measured)}})
        if args.recovery_only:
            latents = quick_latents(args, args.recovery_latents)
            measured = bench_recovery.measure_untrained_64px(latents, log, args.recovery_methods, resize) \
                if args.recovery_untrained \
                else bench_recovery.measure_run(args.run, latents, log, args.recovery_methods, args.recovery_draws, resize)
            before = _measured_before(args, "recovery_by_run")
            name = bench_recovery.report_name("untrained 64 px" if args.recovery_untrained else args.run.name,
                                              latents, before)
            return _update_report(args, {"recovery_by_run": {
                **before, name: bench_recovery.merged(before.get(name), dated(measured))}})
        if args.polish_only:
            return _update_report(args, {**_polish_sections(args, log), "polish_date": time.strftime("%Y-%m-%d"),
                                         "polish_environment": environment()})
        report = _header()
        models = {"demo 32px gf32": MODELS["demo 32px gf32"]} if args.quick else MODELS
        report["per_step"] = per_step_costs(models, args.batches, args.min_seconds, args.naive_max_batch, log)
        report["training"] = training_throughput(models, args.min_seconds, log)
        report["input_pipeline"] = bench_input.input_pipeline(64 if args.quick else args.input_images, log,
                                                              image_size=16 if args.quick else 64)
        if not args.quick:
            report["memory"] = memory_scaling(log)
            report["xla"] = xla_comparison(args.min_seconds, log)
            report["bfloat16"] = bfloat16_comparison(args.min_seconds, log)
            report["strategies"] = sharding(2, 256, args.min_seconds, log)
        polish_sections = _polish_sections(args, log)
        report.update(polish_sections, **({"polish_date": report["date"]} if polish_sections else {}))
        report = {**_dated_sections_kept(args, polish_sections), **report}
        write_json(args.out / "bench.json", report)
        text = markdown(report)
        atomic_write_text(args.out / "bench.md", text)
        print("\n" + text + f"\nwrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
        if args.compare is not None and args.compare.resolve() != (args.out / "bench.json").resolve():
            print(compared(report, args.compare))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
