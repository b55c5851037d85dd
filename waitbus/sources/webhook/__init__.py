"""Webhook sources: one HTTP listener on loopback, with a route per sender."""
