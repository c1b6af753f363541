"""The torch.save reader: round trips with files written by tests/torch_format.py, and every refusal."""
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from dcgan_inversion.gan.torch_file import TorchFileError, read_torch_file
from torch_format import PickleWriter, hostile_pickle, write_torch_file


def test_a_state_dict_round_trips_with_its_dtypes_and_layouts(tmp_path):
    rng = np.random.default_rng(0)
    state = OrderedDict([("main.0.weight", rng.normal(size=(3, 2, 4, 4)).astype(np.float32)),
                         ("main.1.running_var", rng.uniform(size=5).astype(np.float16)),
                         ("main.1.num_batches_tracked", np.array(7, np.int64))])
    path = tmp_path / "netG_epoch_3.pth"
    write_torch_file(path, {"netG_state_dict": state, "epoch": 3, "note": "x"}, folder="netG_epoch_3")
    loaded = read_torch_file(path)
    assert loaded["epoch"] == 3 and loaded["note"] == "x"
    for key, value in state.items():
        np.testing.assert_array_equal(loaded["netG_state_dict"][key], value)
        assert loaded["netG_state_dict"][key].dtype == value.dtype


def test_bfloat16_tensors_are_read_as_float32(tmp_path):
    values = np.array([1.0, -2.5, 0.15625, 32768.0], np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)  # these values are exact in bfloat16
    writer = PickleWriter()
    writer.out += b"}(X\x01\x00\x00\x00w"
    writer.tensor(bits)
    writer.out += b"u"
    write_torch_file(tmp_path / "bf16.pth", None, pickle_bytes=writer.finish(), storages=writer.storages)
    loaded = read_torch_file(tmp_path / "bf16.pth")["w"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, values)


def test_a_column_major_tensor_is_read_through_its_strides(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    writer = PickleWriter()
    writer.out += b"}(X\x01\x00\x00\x00w"
    writer.tensor(array, fortran=True)
    writer.out += b"u"
    write_torch_file(tmp_path / "t.pth", None, pickle_bytes=writer.finish(), storages=writer.storages)
    np.testing.assert_array_equal(read_torch_file(tmp_path / "t.pth")["w"], array)


@pytest.mark.parametrize("module,name", [("os", "system"), ("builtins", "eval"), ("subprocess", "check_call"),
                                         ("posix", "system"), ("builtins", "exec")])
def test_a_pickle_naming_any_other_global_is_refused_and_nothing_runs(tmp_path, module, name):
    marker = tmp_path / "ran"
    argument = f"open({str(marker)!r}, 'w')" if name in ("eval", "exec") else f"touch {marker}"
    if module == "subprocess":
        argument = ["touch", str(marker)]
    writer = PickleWriter()
    writer.global_(module, name)
    writer.value((argument,) if not isinstance(argument, list) else (argument,))
    writer.out += b"R"
    path = tmp_path / "evil.pth"
    write_torch_file(path, None, pickle_bytes=writer.finish())
    with pytest.raises(TorchFileError) as caught:
        read_torch_file(path)
    assert f"{module}.{name}" in str(caught.value) and "\n" not in str(caught.value)
    assert not marker.exists()


def test_the_hostile_pickle_would_run_under_a_plain_unpickler(tmp_path):
    """The safety test's file is a real attack: pickle.loads runs it (here with a harmless callable)."""
    import pickle

    marker = tmp_path / "ran"
    assert pickle.loads(hostile_pickle("pathlib", "Path", str(marker))) == marker
    with pytest.raises(TorchFileError, match="pathlib.Path"):
        write_torch_file(tmp_path / "p.pth", None, pickle_bytes=hostile_pickle("pathlib", "Path", str(marker)))
        read_torch_file(tmp_path / "p.pth")


def _state_file(tmp_path, **options):
    path = tmp_path / "netG.pth"
    write_torch_file(path, OrderedDict([("main.0.weight", np.ones((2, 3), np.float32))]), **options)
    return path


def test_a_missing_storage_is_one_line(tmp_path):
    with pytest.raises(TorchFileError, match="archive/data/0 is missing"):
        read_torch_file(_state_file(tmp_path, drop_storage="0"))


def test_a_storage_shorter_than_its_tensor_is_one_line(tmp_path):
    writer = PickleWriter()
    writer.value(OrderedDict([("w", np.ones((2, 3), np.float32))]))
    storages = {"0": writer.storages["0"][:-8]}
    write_torch_file(tmp_path / "short.pth", None, pickle_bytes=writer.finish(), storages=storages)
    with pytest.raises(TorchFileError, match="holds 16 bytes.*needs 24"):
        read_torch_file(tmp_path / "short.pth")


def test_a_truncated_file_is_one_line(tmp_path):
    path = _state_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(TorchFileError, match="truncated or damaged"):
        read_torch_file(path)


def test_a_legacy_file_is_one_line(tmp_path):
    import pickle

    path = tmp_path / "old.pth"
    path.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2))
    with pytest.raises(TorchFileError, match="legacy"):
        read_torch_file(path)


def test_a_torchscript_archive_is_one_line(tmp_path):
    path = tmp_path / "scripted.pt"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("data.pkl", "constants.pkl", "code/__torch__/model.py", "version"):
            archive.writestr(f"scripted/{name}", "x")
    with pytest.raises(TorchFileError, match="TorchScript"):
        read_torch_file(path)


def test_other_files_are_one_line(tmp_path):
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(TorchFileError, match="not a torch.save file"):
        read_torch_file(tmp_path / "text.pth")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "x")
    with pytest.raises(TorchFileError, match="expected one <folder>/data.pkl"):
        read_torch_file(tmp_path / "other.zip")
