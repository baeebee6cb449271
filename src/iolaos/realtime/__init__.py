"""Live updates over ``/ws``: the per-process hub, its wake-up backends and the websocket protocol.

The journal's event table is the truth. Backends carry wake-ups only ("seq N exists"); each process's
hub reads new events from the table from its high-water mark (and polls on a short timer), checks each
against what every subscriber may see, and queues it on bounded per-connection queues.
See ``docs/realtime.md`` for the protocol.
"""
