"""The website chat widget: one script tag on the practice's site."""
