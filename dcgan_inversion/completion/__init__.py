"""Image completion, Amos's headline job: masks (masks.py), the observed generator our method
inverts (observe.py), his loss, Adam and HMC (amos.py), both methods (complete.py) and what a
completion writes (outputs.py). The experiment is paper/completion.py."""
