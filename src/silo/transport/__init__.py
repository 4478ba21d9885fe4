"""Transport: how durable work reaches whoever does it. Embedded: in-process wake-ups of one
dispatcher per queue; nothing polls while nothing is due."""

from silo.transport.dispatcher import Dispatcher, DueQueue

__all__ = ["Dispatcher", "DueQueue"]
