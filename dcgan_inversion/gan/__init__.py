"""The GAN itself: Amos's DCGAN generator and discriminator as Keras models (`model.py`)."""
