"""The adapter pickers of every tab as one set: what each visitor is shown after a page load, a training, a delete
or a reload, as `{component: update}` dicts that a handler can merge into its own outputs."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .context import AppContext, viewer
from .pickers import adapter_choices, made_when, own_choices, picker_info
from .tables import shipped_eval

COMBINED_INFO = "several adapters are combined"  # the Compare picker's help line


@dataclass(frozen=True, kw_only=True)
class PickerSet:
    ctx: AppContext
    compare: gr.Dropdown  # several adapters, combined
    sweep: gr.Dropdown
    evaluate: gr.Dropdown
    replace: gr.Dropdown  # Unlearn: "Save as" (a new adapter, or one of the visitor's own)
    mine: gr.Dropdown  # Unlearn: the visitor's own adapters, to delete

    @property
    def components(self) -> list[gr.Dropdown]:
        return [self.compare, self.sweep, self.evaluate, self.replace, self.mine]

    def _shared(self, owner: str | None, values: tuple | None = None) -> dict:
        lab = self.ctx.lab
        choices, many, one = adapter_choices(lab, owner), picker_info(lab, COMBINED_INFO), picker_info(lab)
        if values is None:
            return {self.compare: gr.Dropdown(choices=choices, info=many), self.sweep: gr.Dropdown(choices=choices, info=one),
                    self.evaluate: gr.Dropdown(choices=choices, info=one)}
        compare, sweep, evaluate = values
        return {self.compare: gr.Dropdown(choices=choices, value=compare, info=many), self.sweep: gr.Dropdown(choices=choices, value=sweep, info=one),
                self.evaluate: gr.Dropdown(choices=choices, value=evaluate, info=one)}

    def _own(self, owner: str | None) -> dict:
        mine = own_choices(self.ctx.lab, owner)
        return {self.replace: gr.Dropdown(choices=[("a new adapter", "")] + mine, value=""),
                self.mine: gr.Dropdown(choices=mine, value=mine[-1][1] if mine else None)}

    def updated(self, owner: str | None) -> dict:
        """Every picker's choices for this visitor (the adapters' labels say who made them); selections kept."""
        return {**self._shared(owner), **self._own(owner)}

    def refresh(self, request: gr.Request, profile: gr.OAuthProfile | None = None) -> dict:
        """The reload button: adapters that appeared on disk, without the removed ones."""
        self.ctx.lab.refresh_adapters()
        return self.updated(viewer(request, profile))

    def on_load(self, picked, single_sweep, single_eval, request: gr.Request, profile: gr.OAuthProfile | None = None) -> dict:
        """A new page: this visitor's adapter choices, and a default pick where none is made yet."""
        self.ctx.lab.refresh_adapters()
        owner = viewer(request, profile)
        first = self.ctx.first_pick()
        return {**self._shared(owner, (picked or self.ctx.default_pick(), single_sweep or first, single_eval or first)), **self._own(owner)}


def adapter_listing(ctx: AppContext):
    """The `list_adapters` API: every adapter with who made it relative to the caller ('shipped', 'this session',
    'another visitor')."""

    def list_adapters(request: gr.Request, profile: gr.OAuthProfile | None = None) -> list[dict]:
        ctx.lab.refresh_adapters()
        owner = viewer(request, profile)
        out = []
        for i in ctx.lab.list_adapters():
            m = i.meta
            out.append({"name": i.name, "short": i.short, "concept": i.concept, "made_by": i.made_by(owner), "created": made_when(i) or None,
                        "rank": m.get("rank"), "alpha": m.get("alpha"), "targets": m.get("targets"),
                        "eta": m.get("negative_guidance"), "iterations": m.get("iterations"), "has_eval": shipped_eval(i) is not None})
        return out

    return list_adapters
