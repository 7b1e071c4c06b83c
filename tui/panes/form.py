"""F2 Form: the site as a form (:class:`tui.widgets.site_form.SiteForm`) and its help line."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from planner.parts.catalog import Catalog
from tui.messages import SiteChecked, SiteEdited
from tui.panes.base import Pane
from tui.widgets.site_form import SiteForm

FORM_PREBUILD_S = 0.5  # after the first screen, the form is built in the background


class FormPane(Pane):
    """The form over the last checked text. Its fields are built in the background a
    moment after the first screen (mounting 80 fields costs a quarter second), then again
    when the tab is shown on a text edited elsewhere; an edit in the form goes up as
    :class:`SiteEdited` and comes back checked, to show each field's error."""

    KEY, TITLE, PANE_ID = "f2", "Form", "form-tab"

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self.site: SiteChecked | None = None  # the last checked text

    def compose(self) -> ComposeResult:
        helpline = Static("Tab or click a field: its meaning and unit show here.", id="form-help",
                          classes="form-helpline", markup=False)
        yield SiteForm(catalog=self.catalog, helpline=helpline, id="form")
        yield helpline

    @property
    def form(self) -> SiteForm:
        return self.query_one("#form", SiteForm)

    def use_catalog(self, catalog: Catalog) -> None:
        """The catalog the parts are chosen from: the site's own (its overlay folders) once it
        is checked with them. The next build of the fields offers its parts."""
        if catalog is not self.catalog:
            self.catalog = catalog
            for form in self.query(SiteForm):
                form.catalog = catalog
                form.built_text = None  # rebuilt with the new choices on the next show

    def on_mount(self) -> None:
        # build the form's fields while the user reads the first screen, so that the first
        # visit of the Form tab only lays them out
        self.set_timer(FORM_PREBUILD_S, self._prebuild)

    def _prebuild(self) -> None:
        if self.site is not None and self.form.built_text is None:  # not built yet (a visit builds it itself)
            self._show(self.site)

    def _show(self, site: SiteChecked) -> None:
        self.form.load(site.text, list(site.problems))

    def activated(self) -> None:
        if self.site is not None:
            self._show(self.site)

    def on_site_checked(self, message: SiteChecked) -> None:
        self.site = message
        if message.origin == "form":
            self.form.show_errors(list(message.problems))
        elif self.display and self.form.built_text is not None:  # shown now: a reloaded file, say
            self._show(message)

    @on(SiteForm.Edited)
    def _edited(self, event: SiteForm.Edited) -> None:
        event.stop()
        self.post_message(SiteEdited(event.text, "form"))
