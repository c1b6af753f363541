import re

import pytest

from dcgan_inversion import config as config_lib
from dcgan_inversion.config import ConfigError, load_config


@pytest.mark.parametrize("name", config_lib.available_configs())
def test_shipped_configs_load(name):
    config = load_config(name)
    assert config.model.z_dim == 100


def test_demo_is_cpu_sized_and_celeba_is_the_paper():
    demo, celeba = load_config("demo"), load_config("celeba")
    assert (demo.model.image_size, demo.model.gf_dim) == (32, 32)
    assert (celeba.model.image_size, celeba.model.gf_dim, celeba.train.epochs) == (64, 64, 25)


def test_overrides_are_typed_and_validated():
    config = load_config("demo", ["train.steps=7", "model.gf_dim=16", "train.learning_rate=1e-3"])
    assert (config.train.steps, config.model.gf_dim, config.train.learning_rate) == (7, 16, 1e-3)
    with pytest.raises(ConfigError, match="train.steps"):
        load_config("demo", ["train.steps=-3"])
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config("demo", ["oops"])


def _write(tmp_path, text):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ("model:\n  gf_dimm: 3\n", "unknown key 'model.gf_dimm'"),
    ("model:\n  gf_dim: wide\n", "model.gf_dim: expected an integer"),
    ("model:\n  gf_dim: 0\n", "model.gf_dim: expected a value >= 1"),
    ("model:\n  image_size: 48\n", "model.image_size 48: a amos generator makes 16, 32, 64, 128 px"),
    ("train:\n  learning_rate: fast\n", "train.learning_rate: expected a number"),
    ("model: [1, 2\n", "not valid YAML"),
    ("- 1\n- 2\n", "expected a mapping"),
])
def test_errors_name_the_file_and_key(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value) and path in str(error.value)


def test_unknown_name_lists_shipped_configs():
    with pytest.raises(ConfigError, match="demo"):
        load_config("nonesuch")


def test_round_trip_through_yaml(tmp_path):
    config = load_config("celeba")
    config_lib.save_config(config, tmp_path / "config.yaml")
    assert load_config(str(tmp_path / "config.yaml")) == config


def test_configs_are_frozen():
    config = load_config("demo")
    with pytest.raises(Exception):
        config.seed = 3


def test_a_mistyped_override_is_blamed_on_the_override_not_the_file():
    with pytest.raises(ConfigError) as error:
        load_config("demo", ["invert.stepz=300"])
    assert str(error.value).startswith("--set invert.stepz=300") and "demo.yaml" not in str(error.value)


@pytest.mark.parametrize("override, says", [
    ("invert.learning_rate=.nan", "invert.learning_rate: expected a finite number"),
    ("invert.learning_rate=.inf", "invert.learning_rate: expected a finite number"),
    ("experiments.modes=[]", "experiments.modes: expected a non-empty list"),
    ("experiments.noise_variances=[]", "experiments.noise_variances: expected a non-empty list"),
    ("seed=-1", "seed: expected a value >= 0"),
    ("seed=99999999999999", "seed: expected an integer below 2^31"),
    ("train.steps=3000000000", "train.steps: expected an integer below 2^31"),
    ("invert.low=-2.0", "the latent box is now model.latent_box, symmetric [-b, b]"),
    ("model.latent_box=0", "model.latent_box: expected a value >= 0.01"),
])
def test_settings_that_parse_but_make_no_sense_are_refused_naming_the_key(override, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config("demo", [override])


def test_an_empty_snapshot_list_is_allowed():
    assert load_config("demo", ["experiments.trajectory_snapshots=[]"]).experiments.trajectory_snapshots == ()


def test_a_config_that_is_not_text_is_one_line(tmp_path):
    binary = tmp_path / "mine.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81 not utf-8 \x9c")
    with pytest.raises(ConfigError, match="not a text file"):
        load_config(str(binary))


def test_a_runs_config_is_complete_only_with_its_last_section():
    """rundir.saved_config tells a config.yaml that was cut short by its missing last section."""
    from dcgan_inversion.config import Config
    from dcgan_inversion.run.paths import LAST_SECTION

    assert list(Config.__dataclass_fields__)[-1] == LAST_SECTION


def test_a_config_cut_short_between_sections_is_refused(tmp_path):
    from dcgan_inversion import config as config_lib
    from dcgan_inversion.infra.errors import UserError
    from dcgan_inversion.run import saved_config

    config_lib.save_config(config_lib.load_config("demo"), tmp_path / "config.yaml")
    text = (tmp_path / "config.yaml").read_text()
    (tmp_path / "config.yaml").write_text(text[: text.index("\ninvert:") + 1])  # valid YAML, sections lost
    with pytest.raises(UserError, match="is incomplete"):
        saved_config(tmp_path)


def test_a_config_with_a_base_holds_only_what_differs(tmp_path):
    face_demo, celeba = load_config("face_demo"), load_config("celeba")
    assert face_demo.experiments.table1_latents < celeba.experiments.table1_latents
    assert config_lib.replace(face_demo, experiments=celeba.experiments) == celeba
    (tmp_path / "mine.yaml").write_text("base: celeba\ninvert:\n  steps: 7\n")
    (tmp_path / "child.yaml").write_text("base: mine.yaml\nexperiments:\n  modes: [none]\n")
    child = load_config(str(tmp_path / "child.yaml"))
    assert (child.invert.steps, child.experiments.modes, child.invert.learning_rate) == \
        (7, ("none",), celeba.invert.learning_rate)
    assert load_config(str(tmp_path / "child.yaml"), ["invert.steps=9"]).invert.steps == 9


@pytest.mark.parametrize("text, message", [
    ("base: nowhere\n", "base: unknown config 'nowhere'"),
    ("base: [celeba]\n", "base: expected a config's name or a YAML path"),
    ("base: loop.yaml\n", "leads back to this file"),
])
def test_a_bad_base_is_one_line_naming_the_file(tmp_path, text, message):
    path = tmp_path / "loop.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        load_config(str(path))
    assert str(path) in str(error.value) and "\n" not in str(error.value)
