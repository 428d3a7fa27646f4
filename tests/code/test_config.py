"""params.yaml parsing: profiles, defaults and the errors it raises."""

import pytest
import yaml

from fer.config import bundled_sample_path, load_config
from fer.errors import ConfigError
from tests.conftest import PROJECT_ROOT


def test_project_params_load_every_profile():
    for profile in ("quick", "full"):
        config = load_config(PROJECT_ROOT / "params.yaml", profile)
        assert config.profile == profile
        assert config.train.candidates == ("cnn", "resnet50")
        assert len(config.data.class_names) == 7


def test_profile_overrides_only_listed_keys():
    full = load_config(PROJECT_ROOT / "params.yaml", "full")
    quick = load_config(PROJECT_ROOT / "params.yaml", "quick")
    assert quick.models["resnet50"].steps_per_epoch == 8
    assert full.models["resnet50"].steps_per_epoch is None
    # A key the quick profile does not list keeps the base value.
    assert quick.models["cnn"].learning_rate == full.models["cnn"].learning_rate
    assert quick.models["cnn"].options["dropout"] == full.models["cnn"].options["dropout"]


def test_null_source_means_bundled_sample(tmp_path):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["data"]["source"] = None
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    source = load_config(path).data.source_path()
    assert source == bundled_sample_path()
    assert source.is_file()


def test_unknown_profile_is_named(tmp_path):
    with pytest.raises(ConfigError, match="unknown profile 'huge'"):
        load_config(PROJECT_ROOT / "params.yaml", "huge")


def test_candidate_without_model_section(tmp_path):
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    params["train"]["candidates"] = ["cnn", "vgg16"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="vgg16"):
        load_config(path)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="parameters file not found"):
        load_config(tmp_path / "absent.yaml")
