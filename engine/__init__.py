"""Shopsight: product search by photo, by text, or both, in one shared space.

Data flow (see README "Design"):
catalogue file -> Catalog (SQLite) -> frozen towers -> projection heads -> VectorIndex (FAISS)
query -> same towers/heads -> candidates -> late fusion -> re-ranking -> results.
"""

__version__ = "0.1.0"
