"""The app's tabs, one module each, in the order of their keys (F1 to F7)."""

from tui.panes.base import Pane
from tui.panes.bom import BomPane
from tui.panes.catalog import CatalogPane
from tui.panes.charts import ChartsPane
from tui.panes.fabric import FabricPane
from tui.panes.form import FormPane
from tui.panes.results import ResultsPane
from tui.panes.site import SitePane

PANES: tuple[type[Pane], ...] = (SitePane, FormPane, ResultsPane, BomPane, FabricPane, ChartsPane, CatalogPane)

__all__ = ["PANES", "BomPane", "CatalogPane", "ChartsPane", "FabricPane", "FormPane", "Pane", "ResultsPane",
           "SitePane"]
