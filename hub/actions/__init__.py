"""Verbs that change the hub's state. Each validates and authorizes first,
changes state inside one transaction, writes its audit row and publishes its
realtime events after commit (hub.lib.events)."""
