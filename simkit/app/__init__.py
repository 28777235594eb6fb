"""The interactive page of `simkit app`: model-side state (state.py) and the solara page (page.py)."""
