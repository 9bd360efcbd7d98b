"""The run's settings: each declared once in :mod:`settings.table` (:class:`settings.registry.Setting`), and what is
made from that table: every default (:mod:`settings.defaults`), the protocols (:mod:`settings.protocol`) and the
README's protocol table (:mod:`settings.render`).

The bottom layer: it imports nothing of the project, and every layer may import it.
"""
