"""Run configuration: the schema (`schema.py`) and the files it is read from (`files.py`).

`from dcgan_inversion.config import load_config, Config, ...` is the way in; the shipped YAML files
are in `dcgan_inversion/configs/`.
"""
from dcgan_inversion.config.files import (CONFIG_DIR, apply_override, available_configs, from_dict, is_same_config,
                                          load_config, read_mapping, replace, resolve_config_path, save_config,
                                          to_dict, with_overrides)
from dcgan_inversion.config.schema import (ARCHITECTURES, CLIP_MODES, COMPLETION_METHODS, EXPERIMENTS, EXTRA_EXPERIMENTS, LATENTS, MASKS,
                                           STRATEGIES, CompletionConfig, Config, ConfigError, DataConfig, EncoderConfig,
                                           DistributeConfig, ExperimentsConfig, InvertConfig, ModelConfig, PolishConfig,
                                           SearchConfig,
                                           TrainConfig)

__all__ = ["ARCHITECTURES", "CLIP_MODES", "COMPLETION_METHODS", "CONFIG_DIR", "CompletionConfig", "Config", "ConfigError", "DataConfig",
           "DistributeConfig", "EXPERIMENTS", "EXTRA_EXPERIMENTS", "EncoderConfig", "ExperimentsConfig", "InvertConfig",
           "LATENTS", "MASKS",
           "ModelConfig", "PolishConfig", "STRATEGIES", "SearchConfig", "TrainConfig", "apply_override", "available_configs",
           "from_dict", "is_same_config", "load_config", "read_mapping", "replace", "resolve_config_path",
           "save_config", "to_dict", "with_overrides"]
