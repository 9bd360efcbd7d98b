"""The run's settings: every default (:mod:`settings.defaults`) and the protocols (:mod:`settings.protocol`).

The bottom layer: it imports nothing of the project, and every layer may import it.
"""
