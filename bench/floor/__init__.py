"""The floor for bench/latency.py: the least a Django Channels app can do on
the same path (HTTP POST -> insert one row -> one group_send -> websocket),
on the same settings, database pool and Redis as the hub."""
