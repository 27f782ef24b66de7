"""The archive: what we saved, where, with which note.
"""
