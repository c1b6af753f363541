"""measure.py: the verdict's categories; an imported run, with no data beside it, still gets unseen real faces."""
from dcgan_inversion import config as config_lib
from dcgan_inversion.user_images.measure import PER_CATEGORY, unseen_real_faces


def test_an_imported_run_measures_on_the_shipped_lfw_faces():
    imported = config_lib.replace(config_lib.load_config("celeba"), data={"path": None})
    name, faces = unseen_real_faces(imported)
    assert name.startswith("LFW faces from scikit-image")
    assert faces.shape == (PER_CATEGORY, 64, 64, 3) and faces.min() >= -1 and faces.max() <= 1 and faces.std() > 0.1


def test_a_trained_run_measures_on_its_own_held_out_faces():
    demo = config_lib.load_config("demo")
    name, faces = unseen_real_faces(demo)
    assert name == "unseen real faces (not in the calibration)" and len(faces) == demo.data.holdout // 2
