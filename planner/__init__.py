"""Datacenter interconnect and facility planner.

Stages (each a pure function of the one before):
``load_catalog`` -> ``load_site`` -> ``build_fabric`` -> ``build_model`` -> ``solve`` -> ``bom``.
Heavy libraries (pulp, pandas, networkx) are imported by the stages that need them, so
``import planner`` and ``planner --help`` stay fast.
"""

__version__ = "0.1.0"
