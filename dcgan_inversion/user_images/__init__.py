"""The user's own images: the best of K recoveries per image and the calibrated verdict "could G have
drawn this?" (`recover.py`), and the measurement of that verdict (`measure.py`)."""
