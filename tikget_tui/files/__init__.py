"""Files in a folder we may share with others: no link followed, no name replaced
(:mod:`~tikget_tui.files.safefile`), and names for humans (:mod:`~tikget_tui.files.naming`).

Below both the archive and the download engine: imports neither.
"""
